from django.urls import path

from kuaixiang.drills import views

app_name = "drills"
urlpatterns = [
    path("", views.drill_list, name="list"),
    path("report/", views.report, name="report"),
    path("report.docx", views.report_docx, name="report_docx"),
    path("<int:drill_id>/", views.drill_detail, name="detail"),
    path("<int:drill_id>/tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("<int:drill_id>/advance/", views.advance, name="advance"),
    path("<int:drill_id>/incident/<str:action>/", views.incident_action, name="incident_action"),
    path("<int:drill_id>/finish/", views.finish, name="finish"),
]
