"""The SMS channel, replaying recorded Twilio webhooks against the inbox's public address and
sending replies to a local stand-in for Twilio's Messages API."""

import json
import logging
import urllib.parse
from pathlib import Path

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from opencx.inbox import channel_webhooks, flows, services
from opencx.inbox.channels import sms
from opencx.inbox.channels.hooks import PayloadError
from opencx.inbox.models import Conversation, Message
from opencx.platform import lanes
from opencx.platform.lanes import Lanes
from opencx.platform.sms import twilio_signature

from .provider_server import ProviderServer

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
SID = "ACf0000000000000000000000000000001"
PUBLIC = "https://cx.bottega.test"


def _form(name: str) -> str:
    return (PAYLOADS / name).read_text().strip()


@pytest.fixture(autouse=True)
def _public_host(settings):
    settings.OPENCX_PUBLIC_HOST = PUBLIC


@pytest.fixture
def provider():
    with ProviderServer() as server:
        yield server


@pytest.fixture
def sms_inbox(owner_actor, store, provider):
    return services.inbox_create_sms(
        actor=owner_actor,
        name="Cardiff texts",
        location=store,
        phone_number="+44 29 2000 0000",
        account_sid=SID,
        auth_token=AUTH_TOKEN,
        api_base_url=provider.url,
    )


def _post(client, path: str, body: str, *, token: str = AUTH_TOKEN, signature: str | None = None):
    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
    if signature is None:
        signature = twilio_signature(PUBLIC + path, pairs, token)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(
        path, data=body, content_type="application/x-www-form-urlencoded", headers=headers
    )


def _inbound(inbox) -> str:
    return reverse("inbox_hooks:sms", args=[inbox.pk])


def _status(inbox) -> str:
    return reverse("inbox_hooks:sms-status", args=[inbox.pk])


def test_a_signed_text_is_stored_once(client, sms_inbox):
    body = _form("twilio_inbound_sms.form")

    first = _post(client, _inbound(sms_inbox), body)
    again = _post(client, _inbound(sms_inbox), body)  # Twilio retries on a timeout

    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith("text/xml") and b"<Response>" in first.content
    message = Message.objects.get()
    assert message.provider_message_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert message.body == "Hi, is my order 1042 ready to collect?"
    assert message.headers["from"] == "+447700900123" and message.kind == "message"
    conversation = message.conversation
    assert conversation.inbox == sms_inbox and conversation.location == sms_inbox.location
    assert conversation.contact.identities.get().value == "+447700900123"


def test_a_picture_message_keeps_its_media(client, sms_inbox):
    assert _post(client, _inbound(sms_inbox), _form("twilio_inbound_mms.form")).status_code == 200
    message = Message.objects.get()
    [media] = message.attachments
    assert media["content_type"] == "image/jpeg" and media["url"].startswith("https://api.twilio")
    assert message.body == "[1 attachment(s): image/jpeg]"


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", "not base64!"])
def test_unsigned_or_forged_texts_are_refused_and_logged(client, sms_inbox, caplog, signature):
    body = _form("twilio_inbound_sms.form")
    with caplog.at_level(logging.WARNING, logger="opencx.inbox.webhooks"):
        response = _post(client, _inbound(sms_inbox), body, signature=signature)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not Message.objects.exists()
    assert f"Inbox {sms_inbox.pk} (sms) webhook refused" in caplog.text


def test_a_signature_for_another_address_or_token_is_refused(client, sms_inbox, settings):
    body = _form("twilio_inbound_sms.form")
    assert _post(client, _inbound(sms_inbox), body, token="another-token").status_code == 403
    # Signed for the address the proxy saw, not the public one Twilio was given.
    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
    internal = twilio_signature("http://10.0.0.5:8000" + _inbound(sms_inbox), pairs, AUTH_TOKEN)
    assert _post(client, _inbound(sms_inbox), body, signature=internal).status_code == 403
    # A changed field breaks the signature too.
    signed = twilio_signature(PUBLIC + _inbound(sms_inbox), pairs, AUTH_TOKEN)
    tampered = body.replace("ready+to+collect", "refunded")
    assert _post(client, _inbound(sms_inbox), tampered, signature=signed).status_code == 403
    assert not Message.objects.exists()


def test_oversized_and_malformed_texts_get_a_clear_4xx(client, sms_inbox):
    huge = _form("twilio_inbound_sms.form") + "&Padding=" + "x" * channel_webhooks.MAX_SMS
    response = _post(client, _inbound(sms_inbox), huge)
    assert response.status_code == 413 and "KB" in response.json()["message"]

    no_sender = "MessageSid=SM00000000000000000000000000000001&Body=hi&NumMedia=0"
    response = _post(client, _inbound(sms_inbox), no_sender)
    assert response.status_code == 400 and response.json()["field"] == "From"

    bad_bytes = "MessageSid=SM1&From=%2B447700900123&Body=%FF%FE"
    response = _post(client, _inbound(sms_inbox), bad_bytes)
    assert response.status_code == 400

    empty = "MessageSid=SM00000000000000000000000000000002&From=%2B447700900123&Body=&NumMedia=0"
    assert _post(client, _inbound(sms_inbox), empty).status_code == 400
    assert not Message.objects.exists()


def test_the_address_must_be_an_sms_inbox_that_is_on(client, sms_inbox, owner_actor):
    body = _form("twilio_inbound_sms.form")
    api_inbox = services.inbox_create_api(actor=owner_actor, name="Shop").inbox
    path = reverse("inbox_hooks:sms", args=[api_inbox.pk])
    assert _post(client, path, body).status_code == 404
    sms_inbox.is_active = False
    sms_inbox.save()
    assert _post(client, _inbound(sms_inbox), body).status_code == 404
    assert client.get(_inbound(sms_inbox)).status_code == 405


def test_a_reply_goes_out_through_the_provider_and_delivery_reports_follow_it(
    client, sms_inbox, provider, owner_actor
):
    provider.answer(
        "POST",
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        json.loads((PAYLOADS / "twilio_send_answer.json").read_text()),
        status=201,
    )
    _post(client, _inbound(sms_inbox), _form("twilio_inbound_sms.form"))
    conversation = Conversation.objects.get()

    reply = services.message_send(
        actor=owner_actor, conversation=conversation, body="It is ready, see you soon!"
    )
    assert flows.message_deliver(message_id=reply.pk)

    [sent] = provider.requests
    fields = dict(urllib.parse.parse_qsl(sent.body.decode()))
    assert fields["To"] == "+447700900123" and fields["From"] == "+442920000000"
    assert fields["Body"] == "It is ready, see you soon!"
    assert fields["StatusCallback"] == PUBLIC + _status(sms_inbox)
    assert sent.headers["Authorization"].startswith("Basic ")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert reply.provider_message_id == "SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b"

    # Reports arrive out of order: "delivered" first, then a late "sent" and a stray failure.
    for name in ("twilio_status_delivered.form", "twilio_status_sent.form"):
        assert _post(client, _status(sms_inbox), _form(name)).status_code == 204
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    _post(client, _status(sms_inbox), _form("twilio_status_undelivered.form"))
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered" and reply.delivery_error == ""


def test_an_undelivered_report_records_the_failure(client, sms_inbox, provider, owner_actor):
    provider.answer(
        "POST",
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        json.loads((PAYLOADS / "twilio_send_answer.json").read_text()),
        status=201,
    )
    _post(client, _inbound(sms_inbox), _form("twilio_inbound_sms.form"))
    reply = services.message_send(
        actor=owner_actor, conversation=Conversation.objects.get(), body="Ready!"
    )
    flows.message_deliver(message_id=reply.pk)
    assert _post(client, _status(sms_inbox), _form("twilio_status_sent.form")).status_code == 204
    assert (
        _post(client, _status(sms_inbox), _form("twilio_status_undelivered.form")).status_code
        == 204
    )
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "30003" in reply.delivery_error
    # A forged report changes nothing.
    forged = _post(client, _status(sms_inbox), _form("twilio_status_delivered.form"), token="x")
    assert forged.status_code == 403
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"


def test_a_refused_send_is_recorded_on_the_reply(client, sms_inbox, provider, owner_actor):
    provider.answer(
        "POST",
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient"},
        status=400,
    )
    _post(client, _inbound(sms_inbox), _form("twilio_inbound_sms.form"))
    reply = services.message_send(
        actor=owner_actor, conversation=Conversation.objects.get(), body="Hello"
    )
    assert not flows.message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "21610" in reply.delivery_error


def test_creating_an_sms_inbox_through_the_api(client, brand, owner, store):
    from opencx.platform.services import api_token_create

    token = api_token_create(user=owner, name="t").secret
    response = client.post(
        f"/api/v1/brands/{brand.slug}/inboxes/sms",
        data={
            "name": "Texts",
            "location_id": store.pk,
            "phone_number": "+442920000000",
            "account_sid": SID,
            "auth_token": AUTH_TOKEN,
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "sms"
    assert created["webhook_url"] == f"{PUBLIC}/hooks/inbox/{created['id']}/sms/"
    assert created["status_callback_url"].endswith("/sms/status/")
    assert AUTH_TOKEN not in response.content.decode()


# --- The parsers on hostile input -------------------------------------------------------------


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=12))
def test_parse_inbound_either_parses_or_says_why(params):
    try:
        parsed = sms.parse_inbound(params)
    except PayloadError as error:
        assert error.message
    else:
        assert parsed.sid and parsed.sender.startswith("+") and (parsed.body or parsed.attachments)


@given(
    st.fixed_dictionaries(
        {
            "MessageSid": st.text(max_size=70),
            "MessageStatus": st.text(max_size=50),
            "ErrorCode": st.text(max_size=30),
        }
    )
)
def test_parse_status_either_parses_or_says_why(params):
    try:
        report = sms.parse_status(params)
    except PayloadError as error:
        assert error.message
    else:
        assert report.status in {"", "sent", "delivered", "failed"}


def test_with_every_inbound_lane_taken_a_text_is_refused_with_503_and_twilios_retry_stores_it(
    client, sms_inbox, monkeypatch
):
    taken = Lanes("inbound messages", size=1, wait_seconds=0.01, max_waiting=1)
    monkeypatch.setattr(lanes, "_inbound", taken)
    body = _form("twilio_inbound_sms.form")
    with taken.hold():
        refused = _post(client, _inbound(sms_inbox), body)
    assert refused.status_code == 503 and refused["Retry-After"] == "1"
    assert refused.json()["code"] == "busy" and not Message.objects.exists()

    retried = _post(client, _inbound(sms_inbox), body)
    assert retried.status_code == 200
    assert Message.objects.get().provider_message_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
