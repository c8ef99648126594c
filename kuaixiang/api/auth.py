from ninja import Router

from kuaixiang.api.schemas import Error, MeOut, TokenIn, TokenOut
from kuaixiang.api.services import token_issue
from kuaixiang.complaints.services import staff_of

router = Router(tags=["认证"])


@router.post("/token", auth=None, response={200: TokenOut, 400: Error, 401: Error})
def create_token(request, body: TokenIn):
    """用户名和密码换取令牌，之后以 `Authorization: Bearer <token>` 调用其他接口。"""
    return {"token": token_issue(username=body.username, password=body.password)}


@router.get("/me", response={200: MeOut, 401: Error, 403: Error})
def me(request):
    staff = staff_of(request.auth)
    user = request.auth
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "role": staff.role,
        "department": {"id": staff.department_id, "name": staff.department.name},
    }
