"""The JSON API under /api/v1: bearer-token auth and one error shape for every refusal."""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from kuaixiang.api.services import token_user
from kuaixiang.errors import DomainError, InvalidInput
from kuaixiang.validation import invalid_input, reject_nul


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


class NulSafeParser(Parser):
    def parse_querydict(self, data, list_fields, request):
        """Refuse a NUL character in any query or form value (400 ``nul_character``) for every router:
        PostgreSQL cannot take one in a text parameter, so it would otherwise surface as a 500."""
        for key, values in data.lists():
            reject_nul([key, *values])
        return super().parse_querydict(data, list_fields, request)


class KuaixiangAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        """Keep the ``InvalidInput`` our validators raise (ninja turns it into a string), so that its
        code (``invalid_phone``, ``received_in_future`` …) reaches the client instead of ``invalid_value``."""
        error = super().validation_error_from_error_contexts(error_contexts)
        originals = [
            (item.get("ctx") or {}).get("error")
            for context in error_contexts
            for item in context.pydantic_validation_error.errors(include_url=False)
        ]
        for item, original in zip(error.errors, originals, strict=True):
            if isinstance(original, InvalidInput):
                item["ctx"]["error"] = original
        return error


api = KuaixiangAPI(
    title="快响 kuaixiang API",
    version="1",
    description="投诉快速响应与危机管理服务接口。错误统一为 `{code, message, details}`。",
    urls_namespace="api",
    auth=BearerAuth(),
    parser=NulSafeParser(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

_HTTP_CODES = {
    400: ("malformed_request", "请求格式错误（JSON 无法解析）"),
    401: ("unauthorized", "未登录或令牌无效"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求体过大"),
    429: ("throttled", "请求过于频繁"),
}


def _error(request, status: int, code: str, message: str, details: dict | None = None):
    return api.create_response(request, {"code": code, "message": message, "details": details or {}}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    domain = invalid_input(exc.errors)
    return _error(request, 400, domain.code, domain.message, domain.details)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return _error(request, 401, *_HTTP_CODES[401])


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "请求无法处理"))
    return _error(request, exc.status_code, code, message)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, *_HTTP_CODES[404])


from kuaixiang.api import auth, complaints, notifications, org  # noqa: E402  (routers register on ``api``)

api.add_router("/auth", auth.router)
api.add_router("/complaints", complaints.router)
api.add_router("/", org.router)
api.add_router("/notifications", notifications.router)

from kuaixiang.sla import api as sla_api  # noqa: E402

api.add_router("/calendar", sla_api.router)
api.add_router("/", sla_api.supervision_router)

from kuaixiang.alerts import api as alerts_api  # noqa: E402
from kuaixiang.crisis import api as crisis_api  # noqa: E402
from kuaixiang.remedies import api as remedies_api  # noqa: E402

api.add_router("/", alerts_api.router)
api.add_router("/", crisis_api.router)
api.add_router("/", remedies_api.router)

from kuaixiang.org import api as duty_api  # noqa: E402

api.add_router("/", duty_api.router)

from kuaixiang.drills import api as drills_api  # noqa: E402

api.add_router("/", drills_api.router)
