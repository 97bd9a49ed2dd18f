import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from opencx.platform import account_views
from opencx.platform.models import ApiToken, AuditEvent
from tests.factories import PASSWORD, TOTPDeviceFactory, UserFactory

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"


def code_for(device, *, offset=0):
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    if offset:
        value = (value + offset) % 10**device.digits
    return f"{value:0{device.digits}d}"


def log_in(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.email, "password": password, **extra})


@pytest.fixture
def user(db):
    return UserFactory(email="anna@example.test")


@pytest.fixture
def device(user):
    return TOTPDeviceFactory(user=user)


# Login


def test_login_with_email_and_password_signs_in(client, user):
    response = log_in(client, user)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_accepts_the_email_in_any_case(client, user):
    response = client.post(LOGIN, {"username": "ANNA@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, user):
    response = log_in(client, user, password="nope")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "correct e-mail address and password" in response.content.decode()


def test_login_follows_a_local_next_but_not_another_host(client, user):
    response = log_in(client, user, next="/b/bottega/settings/")
    assert response.url == "/b/bottega/settings/"
    client.logout()
    response = log_in(client, user, next="https://evil.example/steal")
    assert response.url == reverse("home")


def test_five_failures_lock_the_account_for_this_address(client, user):
    for _ in range(4):
        assert log_in(client, user, password="wrong").status_code == 200
    locked = log_in(client, user, password="wrong")
    assert locked.status_code == 429
    # Even the right password is refused now.
    response = log_in(client, user)
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_failures_of_another_account_do_not_lock_this_one(client, user):
    other = UserFactory()
    for _ in range(5):
        log_in(client, other, password="wrong")
    assert log_in(client, user).status_code == 302


def test_logout_is_a_post(client, user):
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


# Two-step login


def test_user_with_a_device_must_enter_a_code_before_being_signed_in(client, user, device):
    response = log_in(client, user, next="/accounts/security/")
    assert response.status_code == 302
    assert response.url == VERIFY
    assert SESSION_KEY not in client.session  # password alone is not enough

    page = client.get(VERIFY)
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302
    assert response.url == "/accounts/security/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert account_views.PENDING_KEY not in client.session


def test_wrong_code_keeps_the_session_signed_out(client, user, device):
    log_in(client, user)
    response = client.post(VERIFY, {"code": code_for(device, offset=1)})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_five_wrong_codes_require_starting_over(client, user, device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off is tested by django-otp
    settings.AXES_FAILURE_LIMIT = 50  # look at the session counter alone here
    log_in(client, user)
    for _ in range(4):
        assert client.post(VERIFY, {"code": code_for(device, offset=1)}).status_code == 400
    response = client.post(VERIFY, {"code": code_for(device, offset=1)})
    assert response.status_code == 302
    assert response.url == LOGIN
    # Even the right code no longer helps: the half-signed-in state is gone.
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302 and response.url == LOGIN
    assert SESSION_KEY not in client.session


def test_wrong_codes_count_as_failed_logins_for_the_lockout(client, user, device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    log_in(client, user)
    for _ in range(4):
        client.post(VERIFY, {"code": code_for(device, offset=1)})
    assert client.post(VERIFY, {"code": code_for(device, offset=1)}).status_code == 429
    assert log_in(client, user).status_code == 429


def test_the_code_step_expires(client, user, device):
    log_in(client, user)
    session = client.session
    session[account_views.PENDING_KEY]["expires"] = time.time() - 1
    session.save()
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302 and response.url == LOGIN
    assert SESSION_KEY not in client.session


def test_verify_without_a_password_step_goes_back_to_login(client, device):
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302 and response.url == LOGIN
    assert SESSION_KEY not in client.session


def test_an_unconfirmed_device_does_not_ask_for_a_code(client, user):
    TOTPDeviceFactory(user=user, confirmed=False)
    response = log_in(client, user)
    assert response.url == reverse("home")
    assert client.session[SESSION_KEY] == str(user.pk)


# Password reset and change


def test_password_reset_mail_link_sets_a_new_password(client, user):
    response = client.post(reverse("password_reset"), {"email": "anna@example.test"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.test"]
    assert message.subject == "Reset your OpenCX password"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "Un-altro-segreto-42", "new_password2": "Un-altro-segreto-42"}
    )
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Un-altro-segreto-42")
    # The link works once.
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_address_sends_nothing_but_looks_the_same(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_logged_in_user_changes_password(client, user):
    client.force_login(user)
    response = client.post(
        reverse("account:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Nuova-Parola-d-Ordine-7",
            "new_password2": "Nuova-Parola-d-Ordine-7",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("account:security")
    user.refresh_from_db()
    assert user.check_password("Nuova-Parola-d-Ordine-7")
    assert client.session[SESSION_KEY] == str(user.pk)  # still signed in


def test_password_change_needs_the_old_password(client, user):
    client.force_login(user)
    response = client.post(
        reverse("account:password-change"),
        {"old_password": "wrong", "new_password1": "Xx-1234567", "new_password2": "Xx-1234567"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Two-factor set-up


def test_security_page_needs_login(client, db):
    response = client.get(reverse("account:security"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_two_factor_setup_shows_a_local_qr_code_and_confirms_with_a_code(client, user):
    client.force_login(user)
    response = client.post(reverse("account:two-factor-begin"))
    assert response.status_code == 302

    page = client.get(reverse("account:security"))
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert "<svg" in html and "<path" in html  # drawn here, no image from elsewhere
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    secret = page.context["secret_base32"]
    assert secret in html
    padded = secret + "=" * (-len(secret) % 8)
    assert b32decode(padded) == device.bin_key

    wrong = client.post(
        reverse("account:two-factor-confirm"), {"token": code_for(device, offset=1)}
    )
    assert wrong.status_code == 400
    assert wrong.context["confirm_form"].errors["token"]
    device.refresh_from_db()
    assert device.confirmed is False

    device.throttling_failure_count = 0  # django-otp's back-off after the wrong try
    device.save()
    response = client.post(reverse("account:two-factor-confirm"), {"token": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = client.get(reverse("account:security"))
    assert page.context["two_factor_enabled"] is True
    assert "Enabled" in page.content.decode()
    assert AuditEvent.objects.filter(action="two_factor.enable", actor=user).exists()


def test_starting_setup_again_replaces_the_unconfirmed_device(client, user):
    client.force_login(user)
    client.post(reverse("account:two-factor-begin"))
    first = TOTPDevice.objects.get(user=user)
    client.post(reverse("account:two-factor-begin"))
    assert list(TOTPDevice.objects.filter(user=user)) != [first]
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_disabling_two_factor_needs_the_password(client, user, device):
    client.force_login(user)
    wrong = client.post(reverse("account:two-factor-disable"), {"password": "wrong"})
    assert wrong.status_code == 400
    assert wrong.context["disable_form"].errors["password"]
    assert TOTPDevice.objects.filter(user=user).exists()

    response = client.post(reverse("account:two-factor-disable"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="two_factor.disable", actor=user).exists()
    # And logging in asks for no code any more.
    client.logout()
    assert log_in(client, user).url == reverse("home")


def test_two_factor_actions_are_posts(client, user):
    client.force_login(user)
    assert client.get(reverse("account:two-factor-begin")).status_code == 405
    assert not TOTPDevice.objects.filter(user=user).exists()


# API tokens


def test_token_secret_is_shown_once_and_only_its_digest_is_stored(client, user):
    client.force_login(user)
    response = client.post(
        reverse("account:token-create"), {"name": "Warehouse sync", "expires_in_days": "30"}
    )
    assert response.status_code == 200
    secret = response.context["new_token"].secret
    assert secret.startswith("ocx_")
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"

    token = ApiToken.objects.get(user=user)
    assert token.name == "Warehouse sync"
    assert token.digest != secret and secret not in token.digest
    assert token.digest == ApiToken.digest_of(secret)
    assert 29 <= (token.expires_at - token.created_at).days <= 30

    page = client.get(reverse("account:security"))
    html = page.content.decode()
    assert secret not in html
    assert "Warehouse sync" in html and token.hint in html


def test_token_without_expiry_and_without_name(client, user):
    client.force_login(user)
    client.post(reverse("account:token-create"), {"name": "CLI"})
    assert ApiToken.objects.get(user=user).expires_at is None
    response = client.post(reverse("account:token-create"), {"name": ""})
    assert response.status_code == 400
    assert response.context["token_form"].errors["name"]
    assert ApiToken.objects.filter(user=user).count() == 1


def test_revoke_a_token(client, user):
    client.force_login(user)
    client.post(reverse("account:token-create"), {"name": "Old script"})
    token = ApiToken.objects.get(user=user)
    response = client.post(reverse("account:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in client.get(reverse("account:security")).content.decode()


def test_someone_elses_token_cannot_be_revoked(client, user):
    other = UserFactory()
    client.force_login(other)
    client.post(reverse("account:token-create"), {"name": "Theirs"})
    token = ApiToken.objects.get(user=other)
    client.force_login(user)
    assert client.post(reverse("account:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
