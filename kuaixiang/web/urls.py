from django.urls import path

from kuaixiang.web import views

app_name = "web"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
