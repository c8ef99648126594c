from django.urls import path

from kuaixiang.alerts import views

app_name = "alerts"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("board.json", views.board_json, name="board_json"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:warning_id>/", views.warning_detail, name="warning"),
    path("warnings/<int:warning_id>/<slug:action>/", views.warning_action, name="warning_action"),
]
