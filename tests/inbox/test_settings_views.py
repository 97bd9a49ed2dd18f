"""The admins' inbox settings pages (settings_views.py): the list and the "new inbox" forms of
every kind, one inbox's page (switches, connection details, SLA rows), errors on their fields,
and who may see them."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opencx.inbox import services, sla
from opencx.inbox.models import ApiChannel, Inbox, SlaPolicy
from opencx.platform.roles import Role
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _list(brand):
    return reverse("inbox:settings", args=[brand.slug])


def _page(brand, inbox):
    return reverse("inbox:inbox-settings", args=[brand.slug, inbox.pk])


def _said(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _text(response):
    return response.content.decode()


@pytest.fixture
def admin(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def sms_inbox(owner_actor, store):
    return services.inbox_create_sms(
        actor=owner_actor,
        name="Milano SMS",
        location=store,
        phone_number="+442920000000",
        account_sid="AC123",
        auth_token="sms-auth-secret",
    )


def _form(kind, **fields):
    return {"form": kind, **{f"{kind}-{name}": value for name, value in fields.items()}}


# --- the list and new inboxes ---


def test_the_list_shows_every_inbox_and_a_form_per_kind(
    admin, brand, store, owner_actor, sms_inbox
):
    services.inbox_create_api(actor=owner_actor, name="Head office API")
    ConversationFactory(brand=brand, location=store, inbox=sms_inbox, channel=sms_inbox.channel)
    page = admin.get(_list(brand))
    assert page.status_code == 200
    html = _text(page)
    row = re.search(r"<tr>\s*<td><a href=\"[^\"]+\">Milano SMS</a></td>.*?</tr>", html, re.S)
    assert row is not None
    assert all(word in row.group() for word in ("SMS", "Milano Centro", "active", ">1</a>"))
    assert _page(brand, sms_inbox) in row.group()
    assert "Head office API" in html and "Whole brand" in html
    for kind in ("email", "api", "sms", "meta", "google_reviews"):
        assert f'id="new-{kind}"' in html
    assert reverse("inbox:web_chats", args=[brand.slug]) in html
    assert 'aria-current="page">Inboxes</a>' in html


def test_creating_an_email_inbox(admin, brand, store):
    answer = admin.post(
        _list(brand),
        _form(
            "email",
            name="Support",
            location=store.pk,
            address="Support@Bottega.test",
            imap_host="imap.bottega.test",
            imap_port="993",
            imap_ssl="on",
            imap_user="support",
            imap_password="imap-pass",
            imap_folder="INBOX",
            smtp_host="smtp.bottega.test",
            smtp_port="587",
            smtp_starttls="on",
        ),
    )
    inbox = Inbox.objects.get(kind="email")
    assert answer.status_code == 302 and answer["Location"] == _page(brand, inbox)
    assert inbox.location == store and inbox.email.address == "support@bottega.test"
    assert inbox.email.imap_password == "imap-pass" and inbox.email.imap_ssl
    page = admin.get(answer["Location"])
    assert "imap.bottega.test:993" in _text(page) and "imap-pass" not in _text(page)


def test_creating_sms_meta_and_google_inboxes(admin, brand):
    created = {
        "sms": _form(
            "sms", name="Texts", phone_number="+44 29 2000 0001", account_sid="AC9",
            auth_token="tok", api_base_url="https://api.twilio.com",
        ),
        "meta": _form(
            "meta", name="Facebook page", platform="facebook", page_id="1234",
            app_secret="app-secret", page_access_token="page-token",
            graph_base_url="https://graph.facebook.com/v19.0",
        ),
        "google_reviews": _form(
            "google_reviews", name="Reviews", account_id="111", listing_id="222", api_base_url=""
        ),
    }  # fmt: skip
    for kind, data in created.items():
        answer = admin.post(_list(brand), data)
        assert answer.status_code == 302, (kind, _text(answer)[:2000])
    kinds = set(Inbox.objects.values_list("kind", flat=True))
    assert kinds == {"sms", "facebook", "google_reviews"}
    assert Inbox.objects.get(kind="sms").sms.phone_number == "+442920000001"
    assert Inbox.objects.get(kind="facebook").location is None
    google = Inbox.objects.get(kind="google_reviews").google_reviews
    assert google.api_base_url == "https://mybusiness.googleapis.com/v4"  # left empty: the usual


def test_an_api_inbox_shows_its_token_once(admin, brand):
    answer = admin.post(
        _list(brand), _form("api", name="Shop", location="", webhook_url="https://shop.test/hook")
    )
    assert answer.status_code == 201 and answer["Cache-Control"] == "no-store"
    token = re.search(r'id="api-token" value="(ocxin_[^"]+)"', _text(answer)).group(1)
    channel = ApiChannel.objects.get()
    assert channel.token_digest == ApiChannel.digest_of(token)
    assert channel.webhook_secret in _text(answer)
    later = admin.get(_page(brand, channel.inbox))
    assert token not in _text(later) and channel.webhook_secret not in _text(later)
    assert f"{channel.token_hint}…" in _text(later)


def test_form_errors_stand_next_to_their_field(admin, brand, store):
    missing = admin.post(_list(brand), _form("sms", name="", phone_number="+442920000000"))
    assert missing.status_code == 400 and not Inbox.objects.exists()
    html = _text(missing)
    assert 'role="alert"' in html and "The inbox was not created" in html
    assert re.search(r'id="id_sms-name_error"[^>]*>\s*<li>This field is required', html)
    # The service's own error (an unusable phone number) lands on its field; the secret typed
    # is not sent back.
    wrong = admin.post(
        _list(brand),
        _form("sms", name="Texts", phone_number="call me", account_sid="AC1", auth_token="s3cr3t",
              api_base_url="https://api.twilio.com"),
    )  # fmt: skip
    assert wrong.status_code == 400
    html = _text(wrong)
    assert re.search(r'id="id_sms-phone_number_error"[^>]*>\s*<li>.*not a phone number', html)
    assert 'aria-invalid="true"' in html and "s3cr3t" not in html
    port = admin.post(_list(brand), _form("email", name="Mail", imap_port="99999"))
    assert port.status_code == 400
    assert "Enter a whole number from 1 to 65535." in _text(port)


def test_a_page_already_received_is_a_conflict_on_its_field(admin, brand, owner_actor):
    services.inbox_create_meta(
        actor=owner_actor, name="Page", platform="instagram", page_id="77", app_secret="a",
        page_access_token="b",
    )  # fmt: skip
    again = admin.post(
        _list(brand),
        _form("meta", name="Again", platform="instagram", page_id="77", app_secret="a",
              page_access_token="b", graph_base_url="https://graph.facebook.com/v19.0"),
    )  # fmt: skip
    assert again.status_code == 409
    assert re.search(
        r'id="id_meta-page_id_error"[^>]*>\s*<li>An inbox already receives', _text(again)
    )


def test_an_unknown_form_is_a_bad_request(admin, brand):
    assert admin.post(_list(brand), {"form": "pigeon"}).status_code == 400


def test_a_scoped_admin_sees_their_inboxes_and_creates_only_within_reach(
    client, brand, region, store, owner_actor, make_actor, sms_inbox
):
    services.inbox_create_api(actor=owner_actor, name="Head office API")
    admin = make_actor(Role.BRAND_ADMIN, region)
    client.force_login(admin.user)
    page = client.get(_list(brand))
    html = _text(page)
    assert page.status_code == 200 and "Milano SMS" in html and "Head office API" not in html
    assert "The whole brand" not in html
    whole_brand = client.post(_list(brand), _form("api", name="Mine", location=""))
    assert whole_brand.status_code == 400 and not Inbox.objects.filter(name="Mine").exists()
    assert re.search(
        r'id="id_api-location_error"[^>]*>\s*<li>This field is required', _text(whole_brand)
    )
    ours = client.post(_list(brand), _form("api", name="Mine", location=store.pk))
    assert ours.status_code == 201 and Inbox.objects.get(name="Mine").location == store


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.CX_MANAGER, Role.LOCATION_MANAGER])
def test_members_who_may_not_manage_the_brand_get_403(client, brand, make_actor, sms_inbox, role):
    client.force_login(make_actor(role).user)
    assert client.get(_list(brand)).status_code == 403
    assert client.post(_list(brand), _form("api", name="x")).status_code == 403
    assert client.get(_page(brand, sms_inbox)).status_code == 403
    assert client.post(_page(brand, sms_inbox), {"form": "inbox"}).status_code == 403
    assert not Inbox.objects.filter(name="x").exists()


def test_another_brand_or_a_sibling_store_gets_404(
    client, brand, stranger, make_actor, sibling_store, sms_inbox
):
    client.force_login(stranger)
    assert client.get(_list(brand)).status_code == 404
    assert client.get(_page(brand, sms_inbox)).status_code == 404
    client.force_login(make_actor(Role.BRAND_ADMIN, sibling_store).user)
    assert client.get(_page(brand, sms_inbox)).status_code == 404
    assert client.post(_page(brand, sms_inbox), {"form": "inbox"}).status_code == 404


# --- one inbox ---


def test_an_sms_inbox_shows_its_webhooks_but_not_its_token(admin, brand, sms_inbox, settings):
    settings.OPENCX_PUBLIC_HOST = "https://cx.bottega.test"
    page = admin.get(_page(brand, sms_inbox))
    html = _text(page)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert f"https://cx.bottega.test/hooks/inbox/{sms_inbox.pk}/sms/" in html
    assert f"https://cx.bottega.test/hooks/inbox/{sms_inbox.pk}/sms/status/" in html
    assert "sms-auth-secret" not in html and "AC123" in html


def test_meta_google_and_email_details(admin, brand, owner_actor, email_inbox):
    page = services.inbox_create_meta(
        actor=owner_actor, name="Insta", platform="instagram", page_id="88", app_secret="app-s",
        page_access_token="page-t", verify_token="verify-me",
    )  # fmt: skip
    html = _text(admin.get(_page(brand, page)))
    assert f"/hooks/inbox/{page.pk}/instagram/" in html and "verify-me" in html
    assert "app-s<" not in html and "page-t" not in html
    reviews = services.inbox_create_google_reviews(
        actor=owner_actor, name="Reviews", account_id="1", listing_id="2", access_token="g-tok"
    )
    html = _text(admin.get(_page(brand, reviews)))
    assert f"/hooks/inbox/{reviews.pk}/google-reviews/?token=" in html and "g-tok" not in html
    assert "keep it private" in html
    html = _text(admin.get(_page(brand, email_inbox)))
    assert "support@bottega.test" in html and "127.0.0.1:1 (plain)" in html
    assert "imap-secret" not in html and '<span class="badge good">set</span>' in html


def test_saving_the_inbox_switches_and_name(admin, brand, sms_inbox, sibling_store):
    answer = admin.post(
        _page(brand, sms_inbox),
        {"form": "inbox", "inbox-name": "Torino SMS", "inbox-location": sibling_store.pk,
         "inbox-auto_assign": "on"},
    )  # fmt: skip
    assert answer.status_code == 302 and "Inbox “Torino SMS” saved." in _said(answer)
    sms_inbox.refresh_from_db()
    assert sms_inbox.name == "Torino SMS" and sms_inbox.location == sibling_store
    assert not sms_inbox.is_active and sms_inbox.auto_assign
    page = admin.get(_page(brand, sms_inbox))
    assert re.search(r'name="inbox-is_active"(?![^>]*checked)[^>]*>', _text(page))
    blank = admin.post(_page(brand, sms_inbox), {"form": "inbox", "inbox-name": "  "})
    assert blank.status_code == 400 and 'role="alert"' in _text(blank)
    assert re.search(r'id="id_inbox-name_error"[^>]*>\s*<li>This field is required', _text(blank))


def _sla(**rows):
    data = {"form": "sla"}
    for priority, values in rows.items():
        first, following, resolution, business = values
        data |= {
            f"sla-{priority}-first_response_minutes": first,
            f"sla-{priority}-next_response_minutes": following,
            f"sla-{priority}-resolution_minutes": resolution,
        }
        if business:
            data[f"sla-{priority}-business_hours"] = "on"
    return data


def test_sla_rows_are_saved_and_cleared(admin, brand, owner_actor, sms_inbox):
    page = admin.get(_page(brand, sms_inbox))
    for priority in ("Low", "Normal", "High", "Urgent"):
        assert f"{priority}: First response" in _text(page)
    answer = admin.post(
        _page(brand, sms_inbox), _sla(urgent=("15", "30", "240", False), high=("60", "", "", True))
    )
    assert answer.status_code == 302
    policies = {p.priority: p for p in SlaPolicy.objects.filter(inbox=sms_inbox)}
    assert set(policies) == {"urgent", "high"}
    assert policies["urgent"].resolution_minutes == 240 and not policies["urgent"].business_hours
    assert policies["high"].first_response_minutes == 60 and policies["high"].business_hours
    page = _text(admin.get(_page(brand, sms_inbox)))
    assert re.search(r'name="sla-urgent-resolution_minutes"[^>]*value="240"', page)
    cleared = admin.post(_page(brand, sms_inbox), _sla(urgent=("15", "30", "240", False)))
    assert cleared.status_code == 302
    assert list(
        sla.sla_policies_of(owner_actor, inbox=sms_inbox).values_list("priority", flat=True)
    ) == ["urgent"]


def test_sla_errors_name_the_row_and_field(admin, brand, sms_inbox):
    wrong = admin.post(
        _page(brand, sms_inbox), _sla(urgent=("15", "", "", True), high=("600", "", "60", True))
    )
    assert wrong.status_code == 400 and not SlaPolicy.objects.exists()
    html = _text(wrong)
    assert 'role="alert"' in html
    assert re.search(r"High · Resolution</a>: Resolution cannot be due before", html)
    assert re.search(r'id="id_sla-high-resolution_minutes_error">Resolution cannot', html)
    assert 'name="sla-urgent-first_response_minutes" value="15"' in html  # kept as typed
    typo = admin.post(_page(brand, sms_inbox), _sla(low=("ten", "", "", True)))
    assert typo.status_code == 400
    assert "Low · First response</a>: Enter a whole number." in _text(typo)
    too_long = admin.post(_page(brand, sms_inbox), _sla(low=("999999999", "", "", True)))
    assert too_long.status_code == 400 and "Enter a whole number from 1 to" in _text(too_long)


# --- links ---


def test_the_settings_nav_and_the_web_chat_page_link_here(client, brand, owner, make_actor):
    client.force_login(owner)
    assert _list(brand) in _text(client.get(reverse("settings:brand", args=[brand.slug])))
    assert _list(brand) in _text(client.get(reverse("inbox:web_chats", args=[brand.slug])))
    client.force_login(make_actor(Role.CX_MANAGER).user)
    assert _list(brand) not in _text(client.get(reverse("settings:brand", args=[brand.slug])))
