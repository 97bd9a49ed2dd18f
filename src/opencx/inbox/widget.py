"""The web chat channel: writes and reads behind the embeddable widget.

A web chat inbox has a public `widget_key` (it is in the embed snippet, so it is no secret) and
a list of sites allowed to embed it. A visitor's browser starts a session and gets a random token
once (only its SHA-256 is stored); every later call names the session by that token, and a
session sees only its own conversation, never internal notes. A visitor's message goes through
`services.message_receive` under a provider id made of the session and an id the browser chose,
so a retried send is stored once.
"""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from opencx.contacts.services import contact_find_or_create_web_visitor, normalise_email
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Location
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import services
from .models import Inbox, Message, WebChatChannel, WebChatSession

TOKEN_PREFIX = "ocxwc_"
MAX_MESSAGE = 4000  # characters a visitor may send at once (a chat line, not a letter)
MAX_ORIGINS = 20
MAX_POLL = 100  # messages returned by one poll; the widget asks again from the last one
SUBJECT_LENGTH = 80
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


# --- Settings of a web chat inbox (admins) ------------------------------------------------


def normalise_origin(value, *, field: str = "allowed_origins") -> str:
    """A site's origin as browsers send it: scheme://host[:port], lower-case, no path."""
    if not isinstance(value, str):
        raise AppError("Give each site as text, e.g. https://shop.example.com.", field=field)
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppError(
            f"{value!r} is not a site address like https://shop.example.com.", field=field
        )
    if parts.path or parts.query or parts.fragment or parts.username:
        raise AppError(f"{value!r}: give only the site (no path), e.g. {parts.scheme}://"
                       f"{parts.hostname}.", field=field)  # fmt: skip
    try:
        port = parts.port
    except ValueError:
        raise AppError(f"{value!r} has a port that is not a number.", field=field) from None
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def _origins(values) -> list[str]:
    if isinstance(values, str):
        values = values.split()
    values = list(values or [])
    if len(values) > MAX_ORIGINS:
        raise AppError(f"At most {MAX_ORIGINS} sites.", field="allowed_origins")
    return sorted({normalise_origin(v) for v in values if str(v).strip()})


def _appearance(greeting, colour) -> dict:
    greeting = services._clean_text(greeting, "greeting", limit=300)
    if not isinstance(colour, str) or not COLOUR.fullmatch(colour):
        raise AppError("Give a colour like #1d4ed8.", field="colour")
    return {"greeting": greeting, "colour": colour.lower()}


def inbox_create_web_chat(
    *,
    actor: Actor,
    name: str,
    location: Location | None = None,
    allowed_origins=(),
    greeting: str = "",
    colour: str = "#1d4ed8",
    ask_for_email: bool = True,
) -> Inbox:
    """A web chat inbox and its widget, with a new random public key."""
    origins = _origins(allowed_origins)
    looks = _appearance(greeting, colour)
    with transaction.atomic():
        inbox = services._inbox_create(
            actor=actor, kind=Inbox.Kind.WEB_CHAT, name=name, location=location
        )
        WebChatChannel.objects.create(
            inbox=inbox,
            widget_key=secrets.token_urlsafe(18),
            allowed_origins=origins,
            ask_for_email=bool(ask_for_email),
            **looks,
        )
    return inbox


def web_chat_update(
    *,
    actor: Actor,
    inbox: Inbox,
    allowed_origins=None,
    greeting: str | None = None,
    colour: str | None = None,
    ask_for_email: bool | None = None,
) -> WebChatChannel:
    """Change which sites may embed the widget and how it greets; None leaves a setting."""
    actor.require(Capability.MANAGE_BRAND)
    if inbox.brand_id != actor.brand.pk or not actor.covers(inbox.location):
        raise NotFound("No such inbox.", field="inbox")
    with transaction.atomic():
        config = WebChatChannel.objects.select_for_update().filter(inbox=inbox).first()
        if config is None:
            raise NotFound("This inbox has no web chat.", field="inbox")
        before = {"allowed_origins": config.allowed_origins, "greeting": config.greeting,
                  "colour": config.colour, "ask_for_email": config.ask_for_email}  # fmt: skip
        if allowed_origins is not None:
            config.allowed_origins = _origins(allowed_origins)
        looks = _appearance(
            config.greeting if greeting is None else greeting,
            config.colour if colour is None else colour,
        )
        config.greeting, config.colour = looks["greeting"], looks["colour"]
        if ask_for_email is not None:
            config.ask_for_email = bool(ask_for_email)
        after = {k: getattr(config, k) for k in before}
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        if changes:
            config.save()
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="inbox.web_chat",
                obj=inbox,
                changes=changes,
            )
    return config


def web_chats_visible_to(actor: Actor) -> QuerySet[WebChatChannel]:
    """The web chat widgets of inboxes in the actor's reach."""
    qs = WebChatChannel.objects.filter(inbox__brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(inbox__location__path__startswith=actor.scope.path)
    return qs.select_related("inbox__location").order_by("inbox__name", "pk")


# --- The public side: the widget's calls ----------------------------------------------------


def web_chat_for_key(*, key: str) -> WebChatChannel | None:
    """The widget of an active web chat inbox with this public key, or None."""
    if not isinstance(key, str) or not 8 <= len(key) <= 64:
        return None
    return (
        WebChatChannel.objects.select_related("inbox__brand", "inbox__location")
        .filter(widget_key=key, inbox__is_active=True, inbox__kind=Inbox.Kind.WEB_CHAT)
        .first()
    )


def origin_allowed(config: WebChatChannel, origin: str) -> bool:
    """Whether a page at `origin` may call the widget's endpoints (no list: any site)."""
    if not config.allowed_origins:
        return True
    try:
        return normalise_origin(origin) in config.allowed_origins
    except AppError:
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedVisitorSession:
    session: WebChatSession
    token: str  # given to the browser once; only its digest is stored


def visitor_session_start(*, config: WebChatChannel) -> IssuedVisitorSession:
    """A new visitor: a session and its secret token. Nothing else is stored until they write."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session = WebChatSession.objects.create(
        inbox=config.inbox, token_digest=_digest(token), last_seen_at=timezone.now()
    )
    return IssuedVisitorSession(session=session, token=token)


def visitor_session_for_token(*, config: WebChatChannel, token: str) -> WebChatSession | None:
    """The session this token names in this widget's inbox, or None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return (
        WebChatSession.objects.select_related("conversation", "contact")
        .filter(inbox=config.inbox, token_digest=_digest(token))
        .first()
    )


def _visitor_id(session: WebChatSession) -> str:
    return f"web-chat-{session.pk}"


def _contact_of(session: WebChatSession):
    return contact_find_or_create_web_visitor(
        brand=session.inbox.brand,
        visitor_id=_visitor_id(session),
        name=session.name,
        email=session.email,
        home_location=session.inbox.location,
    )


def visitor_identify(*, session: WebChatSession, name: str = "", email: str = "") -> WebChatSession:
    """The name and e-mail address a visitor typed (both optional). Their contact gains the
    address unless another contact has it (see `contact_find_or_create_web_visitor`)."""
    name = services._clean_text(name, "name", limit=200)
    email = services._clean_text(email, "email", limit=254)
    if email:
        email = normalise_email(email)
    with transaction.atomic():
        session.name = name or session.name
        session.email = email or session.email
        session.save(update_fields=["name", "email"])
        if session.contact_id is not None:
            session.contact = _contact_of(session)
            session.save(update_fields=["contact"])
    return session


def _client_id(value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise AppError("Give the message an id: a UUID made by the widget.", field="id") from None


def visitor_message_send(*, session: WebChatSession, client_id, body) -> services.Received:
    """Store what the visitor wrote, once per `client_id` (a UUID the widget makes per message,
    so a retry after a lost answer stores nothing new)."""
    provider_id = f"web-chat:{session.pk}:{_client_id(client_id)}"
    body = services._clean_text(body, "body", required=True, limit=MAX_MESSAGE)
    inbox = session.inbox
    with transaction.atomic():
        locked = WebChatSession.objects.select_for_update().get(pk=session.pk)
        contact = locked.contact if locked.contact_id else _contact_of(locked)
        received = services.message_receive(
            inbox=inbox,
            provider_message_id=provider_id,
            body=body,
            subject=body.splitlines()[0][:SUBJECT_LENGTH],
            conversation=locked.conversation,
            contact=contact,
        )
        if received.message.conversation.inbox_id != inbox.pk:  # cannot happen; never leak
            raise NotFound("No such conversation.", field="conversation")
        locked.contact = contact
        locked.conversation = received.message.conversation
        locked.last_seen_at = timezone.now()
        locked.save(update_fields=["contact", "conversation", "last_seen_at"])
    session.contact, session.conversation = locked.contact, locked.conversation
    return received


def visitor_messages(*, session: WebChatSession, since: int = 0) -> list[Message]:
    """What the visitor sees of their conversation after message `since`: every message but
    internal notes and activity entries, oldest first, at most `MAX_POLL`."""
    if session.conversation_id is None:
        return []
    return list(
        Message.objects.filter(conversation_id=session.conversation_id, is_private=False)
        .exclude(kind=Message.Kind.EVENT)
        .filter(pk__gt=since)
        .select_related("sender")
        .order_by("pk")[:MAX_POLL]
    )


def visitor_message_dict(message: Message) -> dict:
    """A message as the widget shows it: agents by first name only."""
    if message.direction == Message.Direction.INCOMING:
        author, side = "", "visitor"
    elif message.sender_kind == Message.Sender.AGENT and message.sender is not None:
        author, side = message.sender.first_name or "Agent", "agent"
    else:
        author, side = "", message.sender_kind or "agent"
    return {
        "id": message.pk,
        "from": side,
        "author": author,
        "body": message.body,
        "at": message.created_at.isoformat(),
    }
