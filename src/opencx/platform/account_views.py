"""Sign-in (with an optional second step), two-factor set-up and personal API tokens."""

import time
from base64 import b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import load_backend
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import services
from .errors import AppError
from .forms import (
    ApiTokenForm,
    LoginForm,
    OTPCodeForm,
    PasswordConfirmForm,
    TwoFactorConfirmForm,
    add_app_error,
)
from .selectors import api_tokens_of

# The half-signed-in state between the password and the code.
PENDING_KEY = "login_pending"
PENDING_SECONDS = 5 * 60
MAX_CODE_FAILURES = 5


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not django_otp.user_has_device(user, confirmed=True):
            return super().form_valid(form)
        # Right password, but the session is not signed in until the code is right too.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user_id": str(user.pk),
            "backend": user.backend,
            "expires": time.time() + PENDING_SECONDS,
            "next": self.get_success_url(),
            "failures": 0,
        }
        return redirect("login-verify")


def _pending_user(request):
    """The user who passed the password step, if that was recent; else None (and forget it)."""
    pending = request.session.get(PENDING_KEY)
    if not pending or pending.get("expires", 0) < time.time():
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = load_backend(pending["backend"]).get_user(pending["user_id"])
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None, None
    return user, pending


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_verify(request):
    user, pending = _pending_user(request)
    if user is None:
        messages.error(request, "Your sign-in expired. Enter your e-mail and password again.")
        return redirect("login")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(user, form.cleaned_data["code"])
        if device is not None:
            next_url = pending.get("next") or ""
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            django_otp.login(request, device)
            if not url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                next_url = reverse("home")
            return redirect(next_url)
        # A wrong code counts as a failed log-in for this account and address (django-axes).
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        pending["failures"] += 1
        if pending["failures"] >= MAX_CODE_FAILURES:
            del request.session[PENDING_KEY]
            messages.error(request, "Too many wrong codes. Start again.")
            return redirect("login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", "That code is not right, or it was used already.")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registration/login_verify.html",
        {"form": form, "attempts_left": MAX_CODE_FAILURES - pending["failures"]},
        status=status,
    )


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "registration/change_password_form.html"
    success_url = reverse_lazy("account:security")
    success_message = "Your password was changed."


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


def _security_page(request, *, status=200, **forms):
    user = request.user
    devices = list(django_otp.devices_for_user(user, confirmed=None))
    confirmed = next((d for d in devices if d.confirmed), None)
    pending = next((d for d in devices if not d.confirmed), None) if confirmed is None else None
    context = {
        "two_factor_enabled": confirmed is not None,
        "two_factor_device": confirmed,
        "pending_device": pending,
        "confirm_form": forms.get("confirm_form") or TwoFactorConfirmForm(),
        "disable_form": forms.get("disable_form") or PasswordConfirmForm(),
        "token_form": forms.get("token_form") or ApiTokenForm(),
        "new_token": forms.get("new_token"),
        "tokens": api_tokens_of(user=user),
        "now": timezone.now(),
    }
    if pending is not None:
        context["qr_svg"] = mark_safe(_qr_svg(pending.config_url))  # noqa: S308 - made here
        context["secret_base32"] = b32encode(pending.bin_key).decode().rstrip("=")
    return render(request, "platform/security.html", context, status=status)


@login_required
def security(request):
    return _security_page(request)


@login_required
@require_POST
def two_factor_begin(request):
    try:
        services.totp_device_begin(user=request.user)
    except AppError as error:
        messages.error(request, error.message)
    return redirect(reverse("account:security") + "#two-factor")


@login_required
@require_POST
def two_factor_confirm(request):
    form = TwoFactorConfirmForm(request.POST)
    if form.is_valid():
        try:
            device = services.totp_device_confirm(
                user=request.user, token=form.cleaned_data["token"]
            )
        except AppError as error:
            add_app_error(form, error, default_field="token")
        else:
            # This session has just proved the second factor.
            django_otp.login(request, device)
            messages.success(request, "Two-factor authentication is on.")
            return redirect(reverse("account:security") + "#two-factor")
    return _security_page(request, status=400, confirm_form=form)


@login_required
@require_POST
@sensitive_post_parameters("password")
def two_factor_disable(request):
    form = PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.totp_device_disable(user=request.user, password=form.cleaned_data["password"])
        except AppError as error:
            add_app_error(form, error, default_field="password")
        else:
            messages.success(request, "Two-factor authentication is off.")
            return redirect(reverse("account:security") + "#two-factor")
    return _security_page(request, status=400, disable_form=form)


@login_required
@require_POST
def token_create(request):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            issued = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except AppError as error:
            add_app_error(form, error, default_field="expires_in_days")
        else:
            # Rendered, not redirected: the secret exists only in this response.
            response = _security_page(request, new_token=issued)
            response["Cache-Control"] = "no-store"
            return response
    return _security_page(request, status=400, token_form=form)


@login_required
@require_POST
def token_revoke(request, pk):
    try:
        token = services.api_token_revoke(user=request.user, token_id=pk)
    except AppError as error:
        return render(request, "ui/error.html", {"error": error}, status=error.status)
    messages.success(request, f"Token “{token.name}” was revoked.")
    return redirect(reverse("account:security") + "#tokens")
