"""API routes for the inbox: conversations and their threads, setting up inboxes, and the API
channel other systems write in through with an inbox token."""

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from opencx.api.auth import requiring
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS, Error
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of
from opencx.platform.errors import TooLarge
from opencx.platform.lanes import inbound_lanes
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get

from . import selectors, services
from .channels import google_reviews, meta, sms
from .models import Inbox
from .schemas import (
    ApiInboxCreatedOut,
    ApiInboxIn,
    ChannelConversationIn,
    ChannelConversationOut,
    ChannelMessageIn,
    ChannelMessageOut,
    ConversationDetailOut,
    ConversationOut,
    ConversationStatus,
    EmailInboxIn,
    GoogleReviewsInboxIn,
    InboxOut,
    MetaInboxIn,
    SmsInboxIn,
    WebhookInboxCreatedOut,
)

router = Router(tags=["inbox"])
MANAGE = requiring(Capability.MANAGE_BRAND)


@router.get("/brands/{slug}/conversations", response={200: list[ConversationOut], **READ_ERRORS})
@paginate(LimitOffset)
def conversation_list(request, slug: str, status: ConversationStatus | None = None):
    """Conversations in the caller's reach; waiting ones longest-waiting first."""
    actor = actor_of(request, slug)
    return selectors.conversation_list(
        actor, location=None, status=status.value if status else "all"
    )


@router.get(
    "/brands/{slug}/conversations/{conversation_id}",
    response={200: ConversationDetailOut, **READ_ERRORS},
)
def conversation_detail(request, slug: str, conversation_id: int):
    """One conversation with every message, private notes included (flagged `is_private`)."""
    return selectors.conversation_get(actor_of(request, slug), pk=conversation_id)


# --- Setting up inboxes ----------------------------------------------------------------------


@router.get("/brands/{slug}/inboxes", response={200: list[InboxOut], **READ_ERRORS})
def inbox_list(request, slug: str):
    """The brand's inboxes in the caller's reach (channel settings are not listed)."""
    return list(selectors.inboxes_visible_to(actor_of(request, slug)))


def _location(actor, location_id: int | None):
    return location_get(actor, pk=location_id) if location_id is not None else None


@router.post("/brands/{slug}/inboxes/email", response={201: InboxOut, **WRITE_ERRORS}, auth=MANAGE)
def inbox_create_email(request, slug: str, payload: EmailInboxIn):
    """An e-mail inbox: `opencx fetch_mail` reads its mailbox, replies go out over SMTP."""
    actor = actor_of(request, slug)
    fields = payload.dict(exclude={"location_id"})
    inbox = services.inbox_create_email(
        actor=actor, location=_location(actor, payload.location_id), **fields
    )
    return Status(201, inbox)


@router.post(
    "/brands/{slug}/inboxes/api", response={201: ApiInboxCreatedOut, **WRITE_ERRORS}, auth=MANAGE
)
def inbox_create_api(request, slug: str, payload: ApiInboxIn):
    """An API inbox; the answer carries its bearer token and webhook secret (shown once)."""
    actor = actor_of(request, slug)
    issued = services.inbox_create_api(
        actor=actor,
        name=payload.name,
        location=_location(actor, payload.location_id),
        webhook_url=payload.webhook_url,
    )
    inbox = issued.inbox
    out = InboxOut.model_validate(inbox).model_dump()
    return Status(201, {**out, "token": issued.token, "webhook_secret": inbox.api.webhook_secret})


def _webhook_inbox_created(inbox, **links) -> Status:
    return Status(201, {**InboxOut.model_validate(inbox).model_dump(), **links})


@router.post(
    "/brands/{slug}/inboxes/sms",
    response={201: WebhookInboxCreatedOut, **WRITE_ERRORS},
    auth=MANAGE,
)
def inbox_create_sms(request, slug: str, payload: SmsInboxIn):
    """An SMS inbox on a Twilio-compatible account; paste `webhook_url` as the number's
    "a message comes in" webhook (HTTP POST)."""
    actor = actor_of(request, slug)
    fields = payload.dict(exclude={"location_id"})
    inbox = services.inbox_create_sms(
        actor=actor, location=_location(actor, payload.location_id), **fields
    )
    return _webhook_inbox_created(
        inbox,
        webhook_url=sms.inbound_url(inbox),
        status_callback_url=sms.status_callback_url(inbox),
    )


@router.post(
    "/brands/{slug}/inboxes/meta",
    response={201: WebhookInboxCreatedOut, **WRITE_ERRORS},
    auth=MANAGE,
)
def inbox_create_meta(request, slug: str, payload: MetaInboxIn):
    """A Facebook page's or Instagram account's inbox (messages and comments); paste
    `webhook_url` and `verify_token` into the Meta app's Webhooks settings."""
    actor = actor_of(request, slug)
    fields = payload.dict(exclude={"location_id", "platform"})
    inbox = services.inbox_create_meta(
        actor=actor,
        location=_location(actor, payload.location_id),
        platform=payload.platform.value,
        **fields,
    )
    return _webhook_inbox_created(
        inbox, webhook_url=meta.webhook_url(inbox), verify_token=inbox.meta.verify_token
    )


@router.post(
    "/brands/{slug}/inboxes/google-reviews",
    response={201: WebhookInboxCreatedOut, **WRITE_ERRORS},
    auth=MANAGE,
)
def inbox_create_google_reviews(request, slug: str, payload: GoogleReviewsInboxIn):
    """An inbox for a Google Business Profile listing's reviews; give `webhook_url` (it holds
    the push secret) as the push endpoint of a Pub/Sub subscription on the account's topic."""
    actor = actor_of(request, slug)
    fields = payload.dict(exclude={"location_id"})
    inbox = services.inbox_create_google_reviews(
        actor=actor, location=_location(actor, payload.location_id), **fields
    )
    return _webhook_inbox_created(inbox, webhook_url=google_reviews.push_url(inbox))


# --- The API channel: other systems write in with the inbox's token ------------------------

MAX_REQUEST = 256 * 1024
CHANNEL_ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 413: Error, 422: Error}
# A message waits for a free inbound lane (platform/lanes.py): 503 with Retry-After if none frees.
CHANNEL_WRITE_ERRORS = {**CHANNEL_ERRORS, 503: Error}


class InboxTokenAuth(HttpBearer):
    """`Authorization: Bearer ocxin_…`: the token of one API inbox, which the call acts in.

    The body's size is checked here, before it is read and validated."""

    def authenticate(self, request: HttpRequest, token: str) -> Inbox:
        inbox = selectors.api_inbox_for_token(token=token.strip())
        if inbox is None:
            raise AuthenticationError(message="Invalid inbox token, or the inbox is switched off.")
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_REQUEST:
            raise TooLarge(f"The body is over {MAX_REQUEST // 1024} KB.", field="body")
        return inbox


channel_auth = InboxTokenAuth()


def _received(request, payload: ChannelMessageIn, *, contact=None, subject="", conversation=None):
    contact = contact or {}
    with inbound_lanes().hold():  # 503 when other messages keep every lane too long
        return services.message_receive(
            inbox=request.auth,
            provider_message_id=payload.id,
            body=payload.body,
            email=contact.get("email", ""),
            phone=contact.get("phone", ""),
            name=contact.get("name", ""),
            subject=subject,
            sent_at=payload.sent_at,
            conversation=conversation,
        )


@router.post(
    "/inbox-api/conversations",
    response={200: ChannelConversationOut, 201: ChannelConversationOut, **CHANNEL_WRITE_ERRORS},
    auth=channel_auth,
    tags=["inbox API channel"],
)
def channel_conversation_create(request, payload: ChannelConversationIn):
    """A customer's message from your system: joins the customer's unresolved conversation in
    this inbox, or starts one. 201 when stored; 200 with the stored message when its `id` was
    sent before (nothing changes). All or nothing: a refused request stores nothing."""
    received = _received(
        request, payload.message, contact=payload.contact.dict(), subject=payload.subject
    )
    conversation = received.message.conversation
    body = {
        "id": conversation.pk,
        "status": conversation.status,
        "subject": conversation.subject,
        "created_at": conversation.created_at,
        "message": received.message,
    }
    return Status(201 if received.created else 200, body)


@router.post(
    "/inbox-api/conversations/{conversation_id}/messages",
    response={200: ChannelMessageOut, 201: ChannelMessageOut, **CHANNEL_WRITE_ERRORS},
    auth=channel_auth,
    tags=["inbox API channel"],
)
def channel_message_create(request, conversation_id: int, payload: ChannelMessageIn):
    """A customer's next message in a conversation of this inbox (a resolved one reopens)."""
    conversation = selectors.channel_conversation_get(inbox=request.auth, pk=conversation_id)
    received = _received(request, payload, conversation=conversation)
    return Status(201 if received.created else 200, received.message)


@router.get(
    "/inbox-api/conversations/{conversation_id}/messages",
    response={200: list[ChannelMessageOut], **CHANNEL_ERRORS},
    auth=channel_auth,
    tags=["inbox API channel"],
)
@paginate(LimitOffset)
def channel_message_list(request, conversation_id: int):
    """The conversation's messages, oldest first, agents' replies included (internal notes
    never)."""
    conversation = selectors.channel_conversation_get(inbox=request.auth, pk=conversation_id)
    return selectors.channel_messages(conversation=conversation)
