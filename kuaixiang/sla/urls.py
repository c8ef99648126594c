from django.urls import path

from kuaixiang.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.board, name="board"),
    path("export.xlsx", views.board_export, name="board_export"),
]
