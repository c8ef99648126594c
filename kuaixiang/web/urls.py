from django.urls import path

from kuaixiang.triage import views as triage_views
from kuaixiang.web import views

app_name = "web"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/new/assist/", triage_views.registration_assist, name="complaint_assist"),
    path("complaints/<int:complaint_id>/grading/", triage_views.complaint_regrade, name="complaint_regrade"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint"),
    path("complaints/<int:complaint_id>/actions/<str:action>/", views.complaint_action, name="complaint_action"),
    path("complaints/<int:complaint_id>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "complaints/<int:complaint_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("queue/", views.queue, name="queue"),
    path("search/", views.search, name="search"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("inbox/bell/", views.inbox_bell, name="inbox_bell"),
]
