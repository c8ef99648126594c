from django.urls import path

from kuaixiang.remedies import views

app_name = "remedies"
urlpatterns = [
    path("", views.inbox, name="approvals"),
    path("complaint/<int:complaint_id>/new/", views.remedy_new, name="new"),
    path("<int:remedy_id>/", views.remedy_detail, name="detail"),
    path("<int:remedy_id>/actions/<str:action>/", views.remedy_decide, name="decide"),
    path("<int:remedy_id>/execute/", views.remedy_execute, name="execute"),
    path("<int:remedy_id>/resubmit/", views.remedy_resubmit, name="resubmit"),
    path("<int:remedy_id>/cancel/", views.remedy_cancel, name="cancel"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:delegation_id>/end/", views.delegation_end, name="delegation_end"),
    path("authority/", views.authority_matrix, name="matrix"),
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("8d/", views.eightd_list, name="eightds"),
    path("8d/new/", views.eightd_new, name="eightd_new"),
    path("8d/<int:eightd_id>/", views.eightd_detail, name="eightd"),
    path("8d/<int:eightd_id>/actions/", views.capa_add, name="capa_add"),
    path("8d/actions/<int:action_id>/done/", views.capa_done, name="capa_done"),
    path("8d/<int:eightd_id>/close/", views.eightd_close, name="eightd_close"),
    path("8d/<int:eightd_id>/export.docx", views.eightd_docx, name="eightd_docx"),
    path("accountability/", views.accountability_list, name="accountability"),
    path(
        "accountability/<int:accountability_id>/approve/", views.accountability_approve, name="accountability_approve"
    ),
]
