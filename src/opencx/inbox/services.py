"""Writes of the inbox: inboxes and their channel settings, messages in and out, and every
change to a conversation.

Keyword-only, atomic, audited. A customer's message is stored once per provider message id
(the database enforces it per inbox); a reply is stored with its delivery pending and handed to
the channel after commit (`flows.message_deliver`, claimed by a conditional UPDATE: sent at most
once). Status changes follow one explicit table, `TRANSITIONS`; nothing happens in callbacks.
"""

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.contacts.services import (
    contact_find_or_create_in_brand,
    normalise_email,
    normalise_phone,
)
from opencx.platform.actor import Actor
from opencx.platform.db import column_sql, first_by_sql, table_sql
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.events import emit
from opencx.platform.models import Channel, Location, Membership, User
from opencx.platform.roles import CAPABILITIES, Capability
from opencx.platform.selectors import memberships_visible_to
from opencx.platform.services import audit_record
from opencx.platform.validation import clean_text

from . import events, sla  # service levels and the reporting table (see sla.py, events.py)
from .models import (
    AgentStatus,
    ApiChannel,
    Conversation,
    EmailChannel,
    GoogleReviewsChannel,
    Inbox,
    Message,
    MetaChannel,
    SmsChannel,
)

MESSAGE_RECEIVED = "inbox.message_received"
MESSAGE_QUEUED = "inbox.message_queued"
CONVERSATION_OPENED = "inbox.conversation_opened"
CONVERSATION_CHANGED = "inbox.conversation_changed"

MAX_BODY = 20_000  # characters in one message
MAX_SUBJECT = 300
MAX_THREAD_IDS = 50  # References headers can grow without end; the newest ids thread best

S = Conversation.Status
# Which status each status may move to. Incoming messages reopen a conversation of any status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.PENDING, S.SNOOZED, S.RESOLVED}),
    S.PENDING: frozenset({S.OPEN, S.SNOOZED, S.RESOLVED}),
    S.SNOOZED: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN}),
}
# The platform channel an inbox's conversations are reported under.
CHANNEL_OF_KIND = {
    Inbox.Kind.EMAIL: Channel.Kind.EMAIL,
    Inbox.Kind.WEB_CHAT: Channel.Kind.WEB_CHAT,
    Inbox.Kind.SMS: Channel.Kind.SMS,
    Inbox.Kind.API: Channel.Kind.API,
    Inbox.Kind.FACEBOOK: Channel.Kind.FACEBOOK,
    Inbox.Kind.INSTAGRAM: Channel.Kind.INSTAGRAM,
    Inbox.Kind.GOOGLE_REVIEWS: Channel.Kind.GOOGLE,
}
MOVED_FIELDS = ("status", "resolved_at", "snoozed_until", "waiting_since", "last_activity_at")
REPLY_ROLES = sorted(role for role, caps in CAPABILITIES.items() if Capability.REPLY in caps)


_clean_text = functools.partial(clean_text, limit=MAX_BODY)


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
        raise AppError("Expected a date and time with a time zone.", field=field)
    return value


# --- Inboxes and their channels --------------------------------------------------------------


def _inbox_create(*, actor: Actor, kind: str, name: str, location: Location | None) -> Inbox:
    actor.require(Capability.MANAGE_BRAND)
    if not actor.covers(location):
        raise NotFound("No such location.", field="location")
    name = _clean_text(name, "name", required=True, limit=120)
    channel = Channel.objects.create(
        brand=actor.brand, location=location, kind=CHANNEL_OF_KIND[kind], name=name
    )
    inbox = Inbox.objects.create(
        brand=actor.brand, location=location, channel=channel, name=name, kind=kind
    )
    audit_record(
        actor_user=actor.user, brand=actor.brand, action="inbox.create", obj=inbox, summary=name
    )
    return inbox


def inbox_create_email(
    *,
    actor: Actor,
    name: str,
    address: str,
    imap_host: str,
    imap_user: str,
    smtp_host: str,
    location: Location | None = None,
    imap_password: str = "",
    imap_port: int = 993,
    imap_ssl: bool = True,
    imap_folder: str = "INBOX",
    smtp_port: int = 587,
    smtp_starttls: bool = True,
    smtp_user: str = "",
    smtp_password: str = "",
) -> Inbox:
    """An e-mail inbox: read over IMAP (`opencx fetch_mail`), answered over SMTP."""
    address = normalise_email(address, field="address")
    hosts = {"imap_host": imap_host, "smtp_host": smtp_host, "imap_user": imap_user}
    cleaned = {field: _clean_text(v, field, required=True, limit=255) for field, v in hosts.items()}
    for field, port in (("imap_port", imap_port), ("smtp_port", smtp_port)):
        if not isinstance(port, int) or not 0 < port < 65536:
            raise AppError("A port is a number from 1 to 65535.", field=field)
    with transaction.atomic():
        inbox = _inbox_create(actor=actor, kind=Inbox.Kind.EMAIL, name=name, location=location)
        EmailChannel.objects.create(
            inbox=inbox,
            address=address,
            imap_port=imap_port,
            imap_ssl=imap_ssl,
            imap_password=imap_password or "",
            imap_folder=_clean_text(imap_folder, "imap_folder", limit=255) or "INBOX",
            smtp_port=smtp_port,
            smtp_starttls=smtp_starttls,
            smtp_user=_clean_text(smtp_user, "smtp_user", limit=255),
            smtp_password=smtp_password or "",
            **cleaned,
        )
    return inbox


@dataclass(frozen=True)
class IssuedChannelToken:
    inbox: Inbox
    token: str  # shown once; only its digest is stored


def inbox_create_api(
    *, actor: Actor, name: str, location: Location | None = None, webhook_url: str = ""
) -> IssuedChannelToken:
    """An API inbox other systems write to with the returned bearer token (shown once)."""
    webhook_url = _clean_text(webhook_url, "webhook_url", limit=200)
    if webhook_url:
        try:
            URLValidator(schemes=["http", "https"])(webhook_url)
        except ValidationError:
            raise AppError("Give an http(s) address.", field="webhook_url") from None
    token = ApiChannel.new_token()
    with transaction.atomic():
        inbox = _inbox_create(actor=actor, kind=Inbox.Kind.API, name=name, location=location)
        ApiChannel.objects.create(
            inbox=inbox,
            token_digest=ApiChannel.digest_of(token),
            token_hint=token[: len(ApiChannel.PREFIX) + 4],
            webhook_url=webhook_url,
            webhook_secret=ApiChannel.new_token() if webhook_url else "",
        )
    return IssuedChannelToken(inbox=inbox, token=token)


def email_channel_record_fetch(
    *, channel: EmailChannel, uid_validity: int | None, last_uid: int, error: str = ""
) -> None:
    """Remember how far the mailbox has been read (a system write, from `fetch_mail`)."""
    EmailChannel.objects.filter(pk=channel.pk).update(
        uid_validity=uid_validity,
        last_uid=last_uid,
        last_fetched_at=timezone.now(),
        last_error=error[:500],
    )
    channel.uid_validity, channel.last_uid, channel.last_error = uid_validity, last_uid, error[:500]


# --- Messages from the customer --------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool  # False: this provider message id was stored before; nothing changed


def _conversation_location(inbox: Inbox, contact: Contact) -> Location:
    """Where a new conversation lives: the inbox's location; for a brand-level inbox the
    customer's home location, else the brand's first top-level location."""
    if inbox.location_id is not None:
        return inbox.location
    if contact.home_location_id is not None:
        return contact.home_location
    top = Location.objects.filter(brand_id=inbox.brand_id, parent__isnull=True).order_by("path")
    location = top.first()
    if location is None:
        raise AppError("The brand has no location to file conversations under.", field="inbox")
    return location


def _threaded(inbox: Inbox, thread_ids: list[str]) -> Conversation | None:
    """The conversation an e-mail answers: one holding a message it names, or its root."""
    if not thread_ids:
        return None
    earlier = (
        Message.objects.filter(inbox=inbox, provider_message_id__in=thread_ids)
        .order_by("-created_at", "-pk")
        .values_list("conversation_id", flat=True)
        .first()
    )
    if earlier is not None:
        return Conversation.objects.get(pk=earlier)
    return (
        Conversation.objects.filter(inbox=inbox, external_thread__in=thread_ids)
        .order_by("-created_at", "-pk")
        .first()
    )


def _column(name: str) -> str:
    return column_sql(Conversation, name)


# Read for nearly every message of a customer who wrote before, by hand (first_by_sql).
_OPEN_CONVERSATION = (
    f"SELECT * FROM {table_sql(Conversation)}"
    f" WHERE {_column('inbox')} = %s AND {_column('contact')} = %s AND {_column('status')} <> %s"
    f" ORDER BY {_column('created_at')} DESC, {_column('id')} DESC LIMIT 1"
)


def _open_conversation_of(inbox: Inbox, contact: Contact) -> Conversation | None:
    """The customer's unresolved conversation in the inbox, locked for the message joining it."""
    return first_by_sql(
        Conversation, _OPEN_CONVERSATION, [inbox.pk, contact.pk, S.RESOLVED], for_update=True
    )


def _already(inbox: Inbox, provider_message_id: str) -> Message | None:
    if not provider_message_id:
        return None
    return (
        Message.objects.filter(inbox=inbox, provider_message_id=provider_message_id)
        .select_related("conversation")
        .first()
    )


def message_receive(
    *,
    inbox: Inbox,
    provider_message_id: str,
    body: str,
    email: str = "",
    phone: str = "",
    name: str = "",
    subject: str = "",
    in_reply_to: str = "",
    references: Iterable[str] = (),
    sent_at: datetime | None = None,
    conversation: Conversation | None = None,
    headers: dict | None = None,
    contact: Contact | None = None,
    kind: str = Message.Kind.MESSAGE,
    attachments: list[dict] | None = None,
) -> Received:
    """Store a customer's message, once per `provider_message_id` in the inbox.

    The customer is found or created by e-mail address or phone (or, with no address, is the
    given conversation's). The message joins, in order:
    the given `conversation` (it must be this inbox's); for e-mail, the thread its In-Reply-To /
    References name; for other channels, the customer's unresolved conversation in the inbox;
    else a new conversation. A resolved, pending or snoozed conversation opens again, and starts
    waiting for us if it was not already. A channel that already knows the customer (a web chat
    visitor, who may have no address) passes them as `contact`, of the inbox's brand."""
    if not inbox.is_active:
        raise Conflict("This inbox is switched off.", field="inbox")
    provider_message_id = _clean_text(provider_message_id, "provider_message_id", limit=255)
    body = _clean_text(body, "body", required=True)
    subject = " ".join(_clean_text(subject, "subject", limit=MAX_SUBJECT * 4).split())
    subject = subject[:MAX_SUBJECT]
    sent_at = _aware(sent_at, "sent_at")
    if conversation is not None and conversation.inbox_id != inbox.pk:
        raise NotFound("No such conversation.", field="conversation")
    if contact is not None and contact.brand_id != inbox.brand_id:
        raise NotFound("No such contact.", field="contact")
    if kind not in Message.Kind.values:
        raise AppError(f"Unknown message kind {kind!r}.", field="kind")
    thread_ids = [i for i in [in_reply_to, *references] if isinstance(i, str) and i][
        -MAX_THREAD_IDS:
    ]
    # No look before: a message arrives once far more often than twice, so the unique index on
    # (inbox, provider id) finds a repeat, and the repeat's transaction (customer and all) is
    # rolled back.
    try:
        with transaction.atomic():
            return _receive(
                inbox=inbox,
                provider_message_id=provider_message_id,
                body=body,
                contact_fields={"email": email, "phone": phone, "name": name},
                subject=subject,
                thread_ids=thread_ids,
                sent_at=sent_at,
                conversation=conversation,
                contact=contact,
                kind=kind,
                attachments=list(attachments or []),
                headers={
                    **(headers or {}),
                    "in_reply_to": in_reply_to,
                    "references": thread_ids[1:] if in_reply_to else thread_ids,
                },
            )
    except IntegrityError:
        # The same message arrived before (or twice at the same moment): that one is stored.
        existing = _already(inbox, provider_message_id)
        if existing is None:
            raise
        return Received(message=existing, created=False)


def _receive(
    *, inbox, provider_message_id, body, contact_fields, subject, thread_ids, sent_at, conversation,
    headers, contact=None, kind=Message.Kind.MESSAGE, attachments=(),
) -> Received:  # fmt: skip
    new_contact = False
    if contact is not None:
        pass  # the channel knows who wrote
    elif conversation is not None and not (contact_fields["email"] or contact_fields["phone"]):
        contact = conversation.contact  # the customer of the conversation writes again
    else:
        contact, new_contact = contact_find_or_create_in_brand(
            brand=inbox.brand, actor_user=None, home_location=inbox.location, **contact_fields
        )
    locked = False
    if conversation is None and inbox.kind == Inbox.Kind.EMAIL:
        conversation = _threaded(inbox, thread_ids)
    elif conversation is None and not new_contact:  # a customer new just now has none open
        conversation = _open_conversation_of(inbox, contact)
        locked = conversation is not None
    now = timezone.now()
    opened = conversation is None
    if opened:
        conversation = Conversation(
            brand_id=inbox.brand_id,
            inbox=inbox,
            location=_conversation_location(inbox, contact),
            channel_id=inbox.channel_id,
            contact=contact,
            subject=subject,
            external_thread=(thread_ids[0] if thread_ids else provider_message_id),
            created_at=now,
            waiting_since=now,
            last_activity_at=now,
        )
        sla.apply_policy(conversation, save=False)  # its due moments go in with the row
        conversation.save(force_insert=True)
    elif not locked:
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    message = Message.objects.create(
        conversation=conversation,
        inbox=inbox,
        direction=Message.Direction.INCOMING,
        sender_kind=Message.Sender.CONTACT,
        body=body,
        provider_message_id=provider_message_id,
        delivery_status=Message.Delivery.RECEIVED,
        sent_at=sent_at,
        headers=headers,
        created_at=now,
        kind=kind,
        attachments=list(attachments),
    )
    before = conversation.status
    if opened:
        pass  # created open and waiting, just now
    elif before != S.OPEN:
        conversation.status = S.OPEN
        conversation.resolved_at = None
        conversation.snoozed_until = None
        audit_record(
            actor_user=None,
            brand=inbox.brand,
            action="conversation.status",
            obj=conversation,
            summary="The customer wrote again",
            changes={"status": [before, S.OPEN]},
        )
    if not opened:
        conversation.waiting_since = conversation.waiting_since or now
        conversation.last_activity_at = now
        conversation.save(
            update_fields=[
                "status",
                "resolved_at",
                "snoozed_until",
                "waiting_since",
                "last_activity_at",
            ]
        )
        sla.on_customer_message(conversation, at=now, opened=False, reopened=before == S.RESOLVED)
    events.on_customer_message(conversation, at=now, opened=opened, reopened=before == S.RESOLVED)
    emit(
        MESSAGE_RECEIVED,
        message_id=message.pk,
        conversation_id=conversation.pk,
        brand_id=conversation.brand_id,
    )
    if opened:
        if inbox.auto_assign:
            from .tasks import auto_assign_conversation  # tasks import this module

            # Queued in this transaction (the task is a row of this database): it commits with
            # the conversation or not at all, in one commit instead of two.
            auto_assign_conversation.enqueue(conversation.pk)
        emit(CONVERSATION_OPENED, conversation_id=conversation.pk, brand_id=conversation.brand_id)
    elif before != S.OPEN:
        emit(
            CONVERSATION_CHANGED,
            conversation_id=conversation.pk,
            brand_id=conversation.brand_id,
            change="status",
        )
    return Received(message=message, created=True)


# --- Working a conversation ------------------------------------------------------------------


def _check_can_work(actor: Actor, conversation: Conversation) -> None:
    if conversation.brand_id != actor.brand.pk or not actor.covers(conversation.location):
        raise NotFound("No such conversation.", field="conversation")
    actor.require(Capability.REPLY)


def _locked(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("location", "inbox")
        .get(pk=conversation.pk)
    )


def _outgoing_message_id(inbox: Inbox | None) -> str:
    """The id a reply goes out under, known before it is sent, so answers to it thread."""
    if inbox is None:
        return ""
    if inbox.kind == Inbox.Kind.EMAIL:
        address = EmailChannel.objects.filter(inbox=inbox).values_list("address", flat=True)
        domain = (address.first() or "opencx.local").rpartition("@")[2]
        return make_msgid(domain=domain)
    return ""


def message_send(
    *, actor: Actor, conversation: Conversation, body: str, private: bool = False
) -> Message:
    """An agent's reply to the customer, or an internal note (`private`, never sent).

    A reply is the conversation's first response if none came before, and stops the customer's
    wait; it goes out through the inbox's channel after commit."""
    _check_can_work(actor, conversation)
    body = _clean_text(body, "body", required=True)
    with transaction.atomic():
        locked = _locked(conversation)
        if not private and locked.inbox is None:
            raise Conflict(
                "This conversation came in without an inbox; there is no channel to reply "
                "through. Add an internal note instead.",
                field="body",
            )
        if not private and not locked.inbox.is_active:
            raise Conflict("This inbox is switched off.", field="body")
        now = timezone.now()
        message = Message.objects.create(
            conversation=locked,
            inbox=locked.inbox,
            direction=Message.Direction.OUTGOING,
            sender_kind=Message.Sender.AGENT,
            sender=actor.user,
            is_private=private,
            body=body,
            provider_message_id="" if private else _outgoing_message_id(locked.inbox),
            delivery_status="" if private else Message.Delivery.PENDING,
            created_at=now,
        )
        fields = ["last_activity_at"]
        locked.last_activity_at = now
        if not private:
            if locked.first_reply_at is None:
                locked.first_reply_at = now
                fields.append("first_reply_at")
            locked.waiting_since = None
            fields.append("waiting_since")
        locked.save(update_fields=fields)
        if not private:
            events.on_agent_reply(locked, agent=actor.user, at=now)
            sla.on_agent_reply(locked, at=now)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="conversation.note" if private else "conversation.reply",
            obj=locked,
        )
        if not private:
            emit(MESSAGE_QUEUED, message_id=message.pk)
    conversation.first_reply_at = locked.first_reply_at
    conversation.waiting_since = locked.waiting_since
    conversation.last_activity_at = locked.last_activity_at
    return message


def message_delivered(
    *, message_id: int, error: str = "", provider_message_id: str = "", headers: dict | None = None
) -> None:
    """Record the channel's answer for a reply being sent (a system write, from the task)."""
    fields: dict = {
        "delivery_status": Message.Delivery.FAILED if error else Message.Delivery.SENT,
        "delivery_error": error[:500],
    }
    message = Message.objects.filter(pk=message_id).values("provider_message_id", "headers")
    current = message.first()
    if current is None:
        return
    if provider_message_id and not current["provider_message_id"]:
        fields["provider_message_id"] = provider_message_id[:255]
    if headers:
        fields["headers"] = {**current["headers"], **headers}
    Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.SENDING).update(**fields)


def message_claim_for_delivery(*, message_id: int) -> bool:
    """Take a pending reply for sending; False if another worker has it or it went already."""
    return bool(
        Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.PENDING).update(
            delivery_status=Message.Delivery.SENDING
        )
    )


def _move(conversation: Conversation, *, to: str, actor_user: User | None, snooze_until=None):
    now = timezone.now()
    before = conversation.status
    conversation.status = to
    conversation.snoozed_until = snooze_until if to == S.SNOOZED else None
    if to == S.RESOLVED:
        conversation.resolved_at = now
        conversation.waiting_since = None
    elif before == S.RESOLVED:
        conversation.resolved_at = None
    conversation.last_activity_at = now
    conversation.save(update_fields=[*MOVED_FIELDS])
    events.on_status_change(conversation, before=before, agent=actor_user, at=now)
    sla.on_status_change(conversation, before=before, at=now)
    audit_record(
        actor_user=actor_user,
        brand=conversation.brand,
        action="conversation.status",
        obj=conversation,
        changes={"status": [before, to]},
    )
    emit(
        CONVERSATION_CHANGED,
        conversation_id=conversation.pk,
        brand_id=conversation.brand_id,
        change="status",
    )


def conversation_transition(
    *,
    actor: Actor,
    conversation: Conversation,
    to: str,
    snooze_until: datetime | None = None,
) -> Conversation:
    """Move a conversation to another status, if `TRANSITIONS` allows it. Snoozing needs a
    time in the future (`snooze_until`); the conversation opens again then, or when the
    customer writes."""
    _check_can_work(actor, conversation)
    if to not in S.values:
        raise AppError(f"Unknown status {to!r}.", field="status")
    snooze_until = _aware(snooze_until, "snooze_until")
    if to == S.SNOOZED and (snooze_until is None or snooze_until <= timezone.now()):
        raise AppError("Say until when, in the future.", field="snooze_until")
    with transaction.atomic():
        locked = _locked(conversation)
        if to not in TRANSITIONS[locked.status]:
            raise Conflict(
                f"A {locked.get_status_display().lower()} conversation cannot become "
                f"{S(to).label.lower()}.",
                field="status",
            )
        _move(locked, to=to, actor_user=actor.user, snooze_until=snooze_until)
    return locked


def conversations_wake_snoozed(*, now: datetime | None = None) -> list[int]:
    """Open every snoozed conversation whose time has come (a system write; safe to repeat)."""
    now = now or timezone.now()
    due = Conversation.objects.filter(status=S.SNOOZED, snoozed_until__lte=now)
    woken = []
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = (
                Conversation.objects.select_for_update()
                .select_related("brand")
                .filter(pk=pk, status=S.SNOOZED, snoozed_until__lte=now)
                .first()
            )
            if locked is not None:
                _move(locked, to=S.OPEN, actor_user=None)
                woken.append(pk)
    return woken


def _reach(location: Location) -> Q:
    """Memberships (as `user__memberships` rows) whose scope includes `location`."""
    return Q(user__memberships__location__isnull=True) | Q(
        user__memberships__location__path__in=location.lineage_paths
    )


def can_work_at(user: User, location: Location) -> bool:
    """Whether `user` is an active member who may reply and reaches `location`."""
    return (
        Membership.objects.filter(
            brand_id=location.brand_id, user=user, user__is_active=True, role__in=REPLY_ROLES
        )
        .filter(Q(location__isnull=True) | Q(location__path__in=location.lineage_paths))
        .exists()
    )


def _assign(conversation: Conversation, assignee: User | None, *, actor_user: User | None):
    before = conversation.assignee_id
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    events.on_assigned(conversation, assignee=assignee, at=timezone.now())
    if assignee is not None:
        AgentStatus.objects.filter(user=assignee, brand_id=conversation.brand_id).update(
            last_assigned_at=timezone.now()
        )
    audit_record(
        actor_user=actor_user,
        brand=conversation.brand,
        action="conversation.assign",
        obj=conversation,
        changes={"assignee": [before, assignee.pk if assignee else None]},
    )
    emit(
        CONVERSATION_CHANGED,
        conversation_id=conversation.pk,
        brand_id=conversation.brand_id,
        change="assignee",
    )


def conversation_assign(
    *, actor: Actor, conversation: Conversation, assignee: User | None
) -> Conversation:
    """Give the conversation to a member who may reply at its location (or to nobody)."""
    _check_can_work(actor, conversation)
    if assignee is not None and not can_work_at(assignee, conversation.location):
        raise AppError("That person cannot answer conversations here.", field="assignee")
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return locked
        _assign(locked, assignee, actor_user=actor.user)
    return locked


def _open_load(brand_id: int):
    return Subquery(
        Conversation.objects.filter(
            brand_id=brand_id, assignee_id=OuterRef("user_id"), status=S.OPEN
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def agents_with_room(location: Location):
    """Available agents who reach `location` and are under their capacity: fewest open
    conversations first, then the one who waited longest since their last assignment."""
    return (
        AgentStatus.objects.filter(
            Q(
                brand_id=location.brand_id,
                available=True,
                user__is_active=True,
                user__memberships__brand_id=location.brand_id,
                user__memberships__role__in=REPLY_ROLES,
            )
            & _reach(location)
        )
        .annotate(open_now=Coalesce(_open_load(location.brand_id), 0))
        .filter(open_now__lt=F("capacity"))
        .order_by("open_now", F("last_assigned_at").asc(nulls_first=True), "user_id")
    )


def conversation_auto_assign(*, conversation: Conversation) -> User | None:
    """Round-robin: give an open, unassigned conversation to the available agent with room
    (see `agents_with_room`); None when nobody has room. A system write, safe to repeat."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.assignee_id is not None or locked.status != S.OPEN:
            return None
        if locked.inbox is not None and not locked.inbox.auto_assign:
            return None
        for candidate in agents_with_room(locked.location).select_related("user"):
            # Lock the agent's row and count again: two assignments at once cannot both
            # take the last free place.
            status = AgentStatus.objects.select_for_update().get(pk=candidate.pk)
            open_now = Conversation.objects.filter(
                brand_id=locked.brand_id, assignee_id=status.user_id, status=S.OPEN
            ).count()
            if status.available and open_now < status.capacity:
                _assign(locked, candidate.user, actor_user=None)
                return candidate.user
    return None


def conversation_set_priority(
    *, actor: Actor, conversation: Conversation, priority: str
) -> Conversation:
    _check_can_work(actor, conversation)
    if priority not in Conversation.Priority.values:
        raise AppError(f"Unknown priority {priority!r}.", field="priority")
    with transaction.atomic():
        locked = _locked(conversation)
        before = locked.priority
        if before == priority:
            return locked
        locked.priority = priority
        locked.save(update_fields=["priority"])
        sla.on_priority_change(locked)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="conversation.priority",
            obj=locked,
            changes={"priority": [before, priority]},
        )
        emit(
            CONVERSATION_CHANGED,
            conversation_id=locked.pk,
            brand_id=locked.brand_id,
            change="priority",
        )
    return locked


def agent_status_set(
    *,
    actor: Actor,
    user: User | None = None,
    available: bool | None = None,
    capacity: int | None = None,
) -> AgentStatus:
    """Say whether a member takes conversations now and how many open ones at most. Anyone who
    replies sets their own; setting someone else's needs the right to manage members, and a
    member in the actor's reach (an admin of one region sets only that region's agents)."""
    target = user or actor.user
    if target != actor.user:
        actor.require(Capability.MANAGE_MEMBERS)
        if not memberships_visible_to(actor).filter(user=target).exists():
            raise NotFound("No such member.", field="user")
    else:
        actor.require(Capability.REPLY)
    if capacity is not None and (not isinstance(capacity, int) or not 0 <= capacity <= 1000):
        raise AppError("Capacity is a number from 0 to 1000.", field="capacity")
    with transaction.atomic():
        status, _ = AgentStatus.objects.select_for_update().get_or_create(
            user=target, brand=actor.brand
        )
        changes = {}
        if available is not None and available != status.available:
            changes["available"] = [status.available, bool(available)]
            status.available = bool(available)
        if capacity is not None and capacity != status.capacity:
            changes["capacity"] = [status.capacity, capacity]
            status.capacity = capacity
        if changes:
            status.save()
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="agent_status.set",
                obj=status,
                changes=changes,
            )
    return status


# --- SMS, Facebook/Instagram and Google reviews channels (webhooks) --------------------------

# How far along a reply is: a provider's report only ever moves it forward, so a late "sent"
# never undoes "delivered" (providers do not promise to report in order).
DELIVERY_RANK = {
    "": 0,
    Message.Delivery.PENDING: 0,
    Message.Delivery.SENDING: 0,
    Message.Delivery.SENT: 1,
    Message.Delivery.FAILED: 2,
    Message.Delivery.DELIVERED: 3,
}


def message_delivery_report(
    *, inbox: Inbox, provider_message_id: str, status: str, error: str = ""
) -> bool:
    """Record a provider's delivery report for one of our replies, found by the provider's id
    (a system write). False when nothing changed: unknown id, or a report older than what we
    know."""
    if status not in (Message.Delivery.SENT, Message.Delivery.DELIVERED, Message.Delivery.FAILED):
        raise AppError(f"Unknown delivery status {status!r}.", field="status")
    if not provider_message_id:
        return False
    behind = [value for value, rank in DELIVERY_RANK.items() if rank < DELIVERY_RANK[status]]
    fields: dict = {"delivery_status": status}
    if status == Message.Delivery.FAILED:
        fields["delivery_error"] = (error or "The provider could not deliver it.")[:500]
    elif status == Message.Delivery.DELIVERED:
        fields["delivery_error"] = ""
    # One conditional UPDATE: two reports at once cannot move the message backwards.
    return bool(
        Message.objects.filter(
            inbox=inbox,
            provider_message_id=provider_message_id,
            direction=Message.Direction.OUTGOING,
            delivery_status__in=behind,
        ).update(**fields)
    )


def _clean_url(value: str, field: str) -> str:
    value = _clean_text(value, field, required=True, limit=200).rstrip("/")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise AppError("Give an http(s) address.", field=field) from None
    return value


def inbox_create_sms(
    *,
    actor: Actor,
    name: str,
    phone_number: str,
    account_sid: str,
    auth_token: str,
    location: Location | None = None,
    api_base_url: str = "https://api.twilio.com",
) -> Inbox:
    """An SMS inbox on a Twilio-compatible account: texts to `phone_number` come in through
    its webhook, replies go out from it."""
    phone_number = normalise_phone(phone_number, field="phone_number")
    account_sid = _clean_text(account_sid, "account_sid", required=True, limit=64)
    auth_token = _clean_text(auth_token, "auth_token", required=True, limit=128)
    api_base_url = _clean_url(api_base_url, "api_base_url")
    with transaction.atomic():
        inbox = _inbox_create(actor=actor, kind=Inbox.Kind.SMS, name=name, location=location)
        SmsChannel.objects.create(
            inbox=inbox,
            phone_number=phone_number,
            account_sid=account_sid,
            auth_token=auth_token,
            api_base_url=api_base_url,
        )
    return inbox


def inbox_create_meta(
    *,
    actor: Actor,
    name: str,
    platform: str,
    page_id: str,
    app_secret: str,
    page_access_token: str,
    location: Location | None = None,
    verify_token: str = "",
    graph_base_url: str = "https://graph.facebook.com/v19.0",
) -> Inbox:
    """A Facebook page's or Instagram account's inbox: private messages and comments come in
    through its webhook (signed with the app secret), replies go out through the Graph API.
    Without a `verify_token` one is made (Meta's subscription check echoes it)."""
    if platform not in MetaChannel.Platform.values:
        raise AppError("Choose facebook or instagram.", field="platform")
    page_id = _clean_text(page_id, "page_id", required=True, limit=64)
    if not page_id.isdigit():
        raise AppError("A page or account id is a number.", field="page_id")
    app_secret = _clean_text(app_secret, "app_secret", required=True, limit=128)
    page_access_token = _clean_text(
        page_access_token, "page_access_token", required=True, limit=512
    )
    verify_token = _clean_text(verify_token, "verify_token", limit=128) or secrets.token_urlsafe(24)
    graph_base_url = _clean_url(graph_base_url, "graph_base_url")
    if MetaChannel.objects.filter(platform=platform, page_id=page_id).exists():
        raise Conflict("An inbox already receives this page.", field="page_id")
    with transaction.atomic():
        inbox = _inbox_create(actor=actor, kind=platform, name=name, location=location)
        MetaChannel.objects.create(
            inbox=inbox,
            platform=platform,
            page_id=page_id,
            app_secret=app_secret,
            page_access_token=page_access_token,
            verify_token=verify_token,
            graph_base_url=graph_base_url,
        )
    return inbox


def inbox_create_google_reviews(
    *,
    actor: Actor,
    name: str,
    account_id: str,
    listing_id: str,
    access_token: str = "",
    location: Location | None = None,
    api_base_url: str = "https://mybusiness.googleapis.com/v4",
) -> Inbox:
    """An inbox for the reviews of one Google Business Profile listing: review notifications
    are pushed to it (with a generated secret), replies are posted back with `access_token`."""
    ids = {"account_id": account_id, "listing_id": listing_id}
    for field, value in ids.items():
        ids[field] = _clean_text(value, field, required=True, limit=64)
        if not ids[field].isdigit():
            raise AppError("Google's ids are numbers.", field=field)
    access_token = _clean_text(access_token, "access_token", limit=512)
    api_base_url = _clean_url(api_base_url, "api_base_url")
    with transaction.atomic():
        inbox = _inbox_create(
            actor=actor, kind=Inbox.Kind.GOOGLE_REVIEWS, name=name, location=location
        )
        GoogleReviewsChannel.objects.create(
            inbox=inbox,
            push_secret=secrets.token_urlsafe(32),
            access_token=access_token,
            api_base_url=api_base_url,
            **ids,
        )
    return inbox
