from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def workbench(request):
    return HttpResponse("workbench")
