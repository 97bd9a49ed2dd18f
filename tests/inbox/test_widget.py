"""The web chat widget's endpoints: sessions, idempotent sends, CORS, limits, and what a visitor
may read (their own conversation, never internal notes)."""

import json
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from opencx.contacts.models import Identity
from opencx.inbox import flows, services, widget
from opencx.inbox.models import Conversation, Message, WebChatSession
from opencx.platform.errors import AppError
from tests.factories import ContactFactory, IdentityFactory

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example.com"


@pytest.fixture
def counting_cache(settings, still_rate_window):
    """A real cache for the rate limiter (the tests' default cache counts nothing)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wc"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chat(owner_actor, store):
    inbox = widget.inbox_create_web_chat(
        actor=owner_actor, name="Shop chat", location=store, allowed_origins=[SHOP + "/"]
    )
    return inbox.web_chat


def _url(chat, name):
    return reverse(f"widget:{name}", args=[chat.widget_key])


def _start(client, chat) -> str:
    response = client.post(_url(chat, "session"), content_type="application/json", data={})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _send(client, chat, token, body="Hello there", message_id=None, **headers):
    return client.post(
        _url(chat, "messages"),
        content_type="application/json",
        data={"id": message_id or str(uuid.uuid4()), "body": body},
        headers={**_auth(token), **headers},
    )


def _poll(client, chat, token, since=0):
    response = client.get(_url(chat, "messages"), {"since": since}, headers=_auth(token))
    assert response.status_code == 200, response.content
    return response.json()["messages"]


def test_creating_a_web_chat_inbox_normalises_its_allowed_sites(chat, owner_actor):
    assert chat.inbox.kind == "web_chat" and len(chat.widget_key) >= 20
    assert chat.allowed_origins == [SHOP]
    with pytest.raises(AppError) as error:
        widget.inbox_create_web_chat(
            actor=owner_actor, name="Bad", allowed_origins=["shop.example.com/page"]
        )
    assert error.value.field == "allowed_origins"
    updated = widget.web_chat_update(
        actor=owner_actor, inbox=chat.inbox, allowed_origins="HTTPS://Blog.Example.com:443 "
    )
    assert updated.allowed_origins == ["https://blog.example.com"]


def test_a_session_token_is_shown_once_and_stored_hashed(client, chat):
    token = _start(client, chat)
    session = WebChatSession.objects.get()
    assert token.startswith(widget.TOKEN_PREFIX)
    assert token not in session.token_digest and len(session.token_digest) == 64
    assert widget.visitor_session_for_token(config=chat, token=token) == session


def test_a_visitor_writes_and_a_retry_with_the_same_id_stores_nothing_new(client, chat, store):
    token = _start(client, chat)
    message_id = str(uuid.uuid4())
    first = _send(client, chat, token, "Is the shop open on Sunday?", message_id)
    again = _send(client, chat, token, "Is the shop open on Sunday?", message_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    conversation = Conversation.objects.get()
    assert (conversation.inbox, conversation.location, conversation.status) == (
        chat.inbox,
        store,
        "open",
    )
    assert conversation.subject == "Is the shop open on Sunday?"
    assert conversation.messages.count() == 1
    assert conversation.contact.identities.get().kind == Identity.Kind.WEB
    # A second line joins the same conversation.
    _send(client, chat, token, "Or Monday?")
    assert conversation.messages.count() == 2 and Conversation.objects.count() == 1


def test_the_visitor_sees_agent_replies_but_never_internal_notes(client, chat, owner_actor):
    owner_actor.user.first_name = "Marta"
    owner_actor.user.save()
    token = _start(client, chat)
    _send(client, chat, token, "Hello")
    conversation = Conversation.objects.get()
    services.message_send(
        actor=owner_actor, conversation=conversation, body="Note: VIP", private=True
    )
    reply = services.message_send(
        actor=owner_actor, conversation=conversation, body="Hi! How can I help?"
    )
    seen = _poll(client, chat, token)
    assert [(m["from"], m["body"]) for m in seen] == [
        ("visitor", "Hello"),
        ("agent", "Hi! How can I help?"),
    ]
    assert seen[1]["author"] == "Marta"  # first name only
    assert _poll(client, chat, token, since=seen[0]["id"])[0]["id"] == reply.pk
    assert _poll(client, chat, token, since=reply.pk) == []


def test_a_reply_in_a_web_chat_counts_as_delivered_by_the_channel(client, chat, owner_actor):
    token = _start(client, chat)
    _send(client, chat, token)
    reply = services.message_send(
        actor=owner_actor, conversation=Conversation.objects.get(), body="Hi"
    )
    assert flows.message_deliver(message_id=reply.pk) is True
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT


def test_a_visitor_reads_only_their_own_conversation(client, chat, owner_actor, store):
    mine, theirs = _start(client, chat), _start(client, chat)
    _send(client, chat, theirs, "My card number is secret")
    assert _poll(client, chat, mine) == []
    other_chat = widget.inbox_create_web_chat(actor=owner_actor, name="Other", location=store)
    other = other_chat.web_chat
    # Another widget's key with this token: no such session there.
    response = client.get(_url(other, "messages"), headers=_auth(theirs))
    assert response.status_code == 401 and response.json()["field"] == "token"
    for headers in ({}, _auth("ocxwc_guess"), {"Authorization": "Basic x"}):
        response = client.get(_url(chat, "messages"), headers=headers)
        assert response.status_code == 401
    assert client.get(reverse("widget:messages", args=["no-such-key"])).status_code == 404


def test_the_same_message_id_from_another_session_is_a_different_message(client, chat):
    shared = str(uuid.uuid4())
    first = _send(client, chat, _start(client, chat), "One", shared)
    second = _send(client, chat, _start(client, chat), "Two", shared)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["message"]["body"] == "Two"
    assert Conversation.objects.count() == 2


def test_cors_answers_allowed_sites_and_refuses_others(client, chat):
    token = _start(client, chat)
    allowed = _send(client, chat, token, **{"Origin": SHOP})
    assert allowed.status_code == 201
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    refused = _send(client, chat, token, "x", **{"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["field"] == "origin"
    assert "Access-Control-Allow-Origin" not in refused
    preflight = client.options(
        _url(chat, "messages"),
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    # The demo page on OpenCX's own host may always use the chat.
    own = _send(client, chat, token, "y", **{"Origin": "http://testserver"})
    assert own.status_code == 201
    assert Message.objects.count() == 2


def test_no_allowed_sites_means_any_site(client, chat, owner_actor):
    widget.web_chat_update(actor=owner_actor, inbox=chat.inbox, allowed_origins=[])
    chat.refresh_from_db()
    token = _start(client, chat)
    response = _send(client, chat, token, **{"Origin": "https://anywhere.example"})
    assert response["Access-Control-Allow-Origin"] == "https://anywhere.example"


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"id": "not-a-uuid", "body": "hi"}, "id", 400),
        ({"id": str(uuid.uuid4()), "body": "   "}, "body", 400),
        ({"id": str(uuid.uuid4()), "body": "x" * (widget.MAX_MESSAGE + 1)}, "body", 400),
        ({"id": str(uuid.uuid4()), "body": 42}, "body", 400),
        ({"id": str(uuid.uuid4()), "body": "é" * 20_000}, "body", 413),
    ],
)
def test_bad_messages_get_a_clear_error_and_store_nothing(client, chat, payload, field, status):
    token = _start(client, chat)
    response = client.post(
        _url(chat, "messages"), content_type="application/json", data=payload, headers=_auth(token)
    )
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert not Message.objects.exists() and not Conversation.objects.exists()
    assert not Identity.objects.filter(kind=Identity.Kind.WEB).exists()


def test_a_body_that_is_not_json_is_refused(client, chat):
    token = _start(client, chat)
    response = client.post(
        _url(chat, "messages"), data="{oops", content_type="application/json", headers=_auth(token)
    )
    assert response.status_code == 400 and response.json()["field"] == "body"
    response = client.get(_url(chat, "messages"), {"since": "1e9"}, headers=_auth(token))
    assert response.status_code == 400 and response.json()["field"] == "since"


def test_sending_is_rate_limited_per_session(client, chat, settings, counting_cache):
    settings.WEBCHAT_MESSAGES_PER_SESSION = 2
    token = _start(client, chat)
    codes = [_send(client, chat, token, f"line {n}").status_code for n in range(3)]
    assert codes == [201, 201, 429]
    assert Message.objects.count() == 2
    assert _start(client, chat)  # another session still may write


def test_new_sessions_are_rate_limited_per_address(client, chat, settings, counting_cache):
    settings.WEBCHAT_SESSIONS_PER_IP = 1
    _start(client, chat)
    response = client.post(_url(chat, "session"), content_type="application/json", data={})
    assert response.status_code == 429 and response.json()["code"] == "throttled"


def test_an_address_the_visitor_types_joins_only_their_own_contact(client, chat, brand):
    token = _start(client, chat)
    _send(client, chat, token, "Hi")
    session = WebChatSession.objects.get()
    response = client.post(
        _url(chat, "identify"),
        content_type="application/json",
        data={"name": "Ada", "email": "Ada@Example.test"},
        headers=_auth(token),
    )
    assert response.json() == {"name": "Ada", "email": "ada@example.test"}
    session.refresh_from_db()
    kinds = set(session.contact.identities.values_list("kind", "value"))
    assert (Identity.Kind.EMAIL, "ada@example.test") in kinds and session.contact.name == "Ada"
    # Someone else's address is recorded on the session but never joins their contact.
    victim = ContactFactory(brand=brand)
    IdentityFactory(contact=victim, kind="email", value="victim@example.test")
    token_b = _start(client, chat)
    _send(client, chat, token_b, "Hello")
    client.post(
        _url(chat, "identify"),
        content_type="application/json",
        data={"email": "victim@example.test"},
        headers=_auth(token_b),
    )
    intruder = WebChatSession.objects.exclude(pk=session.pk).get()
    assert intruder.email == "victim@example.test" and intruder.contact != victim
    assert not victim.conversations.exists()
    bad = client.post(
        _url(chat, "identify"),
        content_type="application/json",
        data={"email": "not an address"},
        headers=_auth(token_b),
    )
    assert bad.status_code == 400 and bad.json()["field"] == "email"


def test_config_and_demo_page(client, chat):
    chat.greeting = "Ciao!"
    chat.save()
    config = client.get(_url(chat, "config"), headers={"Origin": SHOP})
    assert config.json()["greeting"] == "Ciao!" and config.json()["poll_ms"] > 0
    assert config["Access-Control-Allow-Origin"] == SHOP
    demo = client.get(_url(chat, "demo"))
    assert demo.status_code == 200
    assert f'data-opencx-chat="{chat.widget_key}"' in demo.content.decode()
    assert client.get(reverse("widget:demo", args=["nope-nope-nope"])).status_code == 404
    chat.inbox.is_active = False
    chat.inbox.save()
    assert client.get(_url(chat, "config")).status_code == 404
    assert json.loads(client.post(_url(chat, "session")).content)["code"] == "not_found"


def test_admins_create_a_web_chat_and_copy_its_snippet(client, brand, owner, store, make_actor):
    from opencx.platform.roles import Role

    url = reverse("inbox:web_chats", args=[brand.slug])
    client.force_login(owner)
    created = client.post(
        url,
        {"action": "create", "name": "Site chat", "location": store.pk,
         "allowed_origins": "https://shop.example.com\nhttps://blog.example.com/"},
    )  # fmt: skip
    assert created.status_code == 302
    config = widget.web_chats_visible_to(make_actor(Role.OWNER)).get()
    assert config.allowed_origins == ["https://blog.example.com", "https://shop.example.com"]
    page = client.get(url).content.decode()
    assert f"data-opencx-chat=&quot;{config.widget_key}&quot;" in page
    bad = client.post(url, {"action": "update", "inbox": config.inbox_id, "allowed_origins": "x"})
    assert bad.status_code == 400 and "not a site address" in bad.content.decode()
    agent = make_actor(Role.AGENT)
    client.force_login(agent.user)
    assert client.get(url).status_code == 403


def test_an_admin_of_one_store_is_not_offered_a_brand_level_chat(client, brand, store, make_actor):
    from opencx.platform.roles import Role

    admin = make_actor(Role.BRAND_ADMIN, store)
    url = reverse("inbox:web_chats", args=[brand.slug])
    client.force_login(admin.user)
    assert "The whole brand" not in client.get(url).content.decode()
    refused = client.post(url, {"action": "create", "name": "Store chat", "location": ""})
    assert refused.status_code == 400
    assert "Choose the location the chat belongs to." in refused.content.decode()
    assert not widget.web_chats_visible_to(admin).exists()
    created = client.post(url, {"action": "create", "name": "Store chat", "location": store.pk})
    assert created.status_code == 302
    assert widget.web_chats_visible_to(admin).get().inbox.location == store
