from django.urls import path

from kuaixiang.crisis import views

app_name = "crisis"
urlpatterns = [
    path("", views.incident_list, name="incidents"),
    path("new/", views.incident_new, name="incident_new"),
    path("<int:incident_id>/", views.incident_detail, name="incident"),
    path("<int:incident_id>/actions/<str:action>/", views.incident_act, name="incident_action"),
    path("<int:incident_id>/report.docx", views.incident_report, name="incident_report"),
]
