"""Sign-in, two-factor authentication and personal API tokens."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def security(request):
    return render(request, "platform/security.html", {})
