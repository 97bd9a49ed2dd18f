"""Sign-in, password reset and personal security pages.

Django's admin ships templates named registration/password_reset_*.html and comes first in
INSTALLED_APPS, so ours have their own names and each view is told which to use.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import account_views as views

account_patterns = (
    [
        path("security/", views.security, name="security"),
        path("security/two-factor/begin/", views.two_factor_begin, name="two-factor-begin"),
        path("security/two-factor/confirm/", views.two_factor_confirm, name="two-factor-confirm"),
        path("security/two-factor/disable/", views.two_factor_disable, name="two-factor-disable"),
        path("security/tokens/", views.token_create, name="token-create"),
        path("security/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
        path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    ],
    "account",
)

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login-verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="registration/reset_password_form.html",
            email_template_name="registration/reset_password_email.txt",
            subject_template_name="registration/reset_password_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/reset_password_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/reset_password_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/reset_password_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("", include(account_patterns)),
]
