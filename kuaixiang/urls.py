from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from kuaixiang.api.main import api


def api_not_found(request, rest: str = ""):
    """Unknown paths under /api/v1 answer in the API's error shape, not Django's HTML page."""
    return JsonResponse({"code": "not_found", "message": "接口不存在", "details": {"path": request.path}}, status=404)


# Attachments are served only through the scoped download view in kuaixiang.web, never as /media/.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("alerts/", include("kuaixiang.alerts.urls")),
    path("crisis/", include("kuaixiang.crisis.urls")),
    path("remedies/", include("kuaixiang.remedies.urls")),
    path("supervision/", include("kuaixiang.sla.urls")),
    path("duty/", include("kuaixiang.org.urls")),
    path("drills/", include("kuaixiang.drills.urls")),
    path("", include("kuaixiang.web.urls")),
]
