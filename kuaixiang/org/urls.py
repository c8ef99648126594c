from django.urls import path

from kuaixiang.org import views

app_name = "duty"
urlpatterns = [
    path("", views.duty_index, name="index"),
    path("template.xlsx", views.import_template, name="import_template"),
    path("shifts/<int:shift_id>/edit/", views.shift_edit, name="shift_edit"),
    path("shifts/<int:shift_id>/delete/", views.shift_delete, name="shift_delete"),
    path("shifts/<int:shift_id>/swap/", views.shift_swap, name="shift_swap"),
    path("<slug:code>/", views.roster, name="roster"),
    path("<slug:code>/shifts/new/", views.shift_new, name="shift_new"),
    path("<slug:code>/rotation/", views.rotation, name="rotation"),
    path("<slug:code>/import/", views.roster_import, name="import"),
]
