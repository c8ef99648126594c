import uuid

from ninja import Query, Router

from kuaixiang.api.schemas import Error, InboxOut, MarkReadIn
from kuaixiang.errors import InvalidInput
from kuaixiang.notify.selectors import inbox_page
from kuaixiang.notify.services import inbox_mark_read, inbox_unread_count

router = Router(tags=["站内信"])


@router.get("", response={200: InboxOut, 401: Error})
def inbox(request, unread_only: bool = False, limit: int = Query(20, ge=1, le=100)):  # noqa: B008
    """当前用户的站内信（最新在前）与未读数。"""
    return {
        "unread": inbox_unread_count(request.auth),
        "items": inbox_page(request.auth, unread_only=unread_only, limit=limit),
    }


@router.post("/read", response={200: dict, 400: Error, 401: Error})
def mark_read(request, body: MarkReadIn):
    """标记站内信为已读；不传 ids 表示全部。"""
    ids = None
    if body.ids is not None:
        try:
            ids = [uuid.UUID(i) for i in body.ids]
        except ValueError:
            raise InvalidInput("invalid_id", "消息 ID 格式错误") from None
    return {"marked": inbox_mark_read(user=request.auth, notification_ids=ids)}
