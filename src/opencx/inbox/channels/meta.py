"""Facebook and Instagram: private messages and public comments, through Meta's Graph API.

In: Meta POSTs webhook events to the inbox's address, signed with the app secret
(`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`):
- messages: `{"object": "page"|"instagram", "entry": [{"id": <page or account id>,
  "messaging": [{"sender": {"id"}, "recipient": {"id"}, "timestamp", "message": {"mid", "text",
  "attachments": [{"type", "payload": {"url"}}]}}]}]}`; echoes of our own messages
  (`message.is_echo`), reads, deliveries and reactions are ignored;
- comments: `entry[].changes[]` with `field: "feed"` (Facebook: `value.item == "comment"`,
  `verb == "add"`, `comment_id`, `post_id`, `from`, `message`) or `field: "comments"`
  (Instagram: `value.id`, `text`, `from`, `media.id`); the page's own comments are ignored.
Before it sends anything, Meta checks the address with a GET (`hub.mode=subscribe`,
`hub.verify_token`, `hub.challenge`): we echo the challenge when the token is the inbox's.

Out: a reply answers the customer's latest message where they wrote it: a private message goes
through the Send API (`POST /me/messages`, `messaging_type: RESPONSE` — Meta allows it within 24
hours of their message), a comment gets a public reply (`POST /{comment-id}/comments` on
Facebook, `/{comment-id}/replies` on Instagram). The page access token goes in the
Authorization header, never in the address.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.urls import reverse

from opencx.contacts.models import Identity
from opencx.contacts.services import contact_find_or_create_by_identity
from opencx.inbox import services
from opencx.inbox.models import Inbox, Message, MetaChannel
from opencx.surveys.flows import public_url

from . import ChannelAdapter, DeliveryError
from .hooks import (
    PayloadError,
    call_json,
    hmac_hex_matches,
    join_url,
    provider_error,
    secret_matches,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT_OF = {MetaChannel.Platform.FACEBOOK: "page", MetaChannel.Platform.INSTAGRAM: "instagram"}
IDENTITY_OF = {
    MetaChannel.Platform.FACEBOOK: Identity.Kind.FACEBOOK,
    MetaChannel.Platform.INSTAGRAM: Identity.Kind.INSTAGRAM,
}
MAX_ENTRIES = 1000  # Meta batches at most 1000 events in one delivery
MAX_ATTACHMENTS = 10
MAX_ID = 255


@dataclass(frozen=True)
class MetaItem:
    """One customer message or comment read from a webhook."""

    provider_id: str  # the message's mid, or the comment's id
    kind: str  # Message.Kind.MESSAGE or COMMENT
    sender_id: str
    sender_name: str
    body: str
    sent_at: datetime | None
    attachments: list[dict] = field(default_factory=list)
    post_id: str = ""


def signature_valid(config: MetaChannel, body: bytes, header: str) -> bool:
    scheme, _, signature = (header or "").partition("=")
    if scheme != "sha256":
        return False
    return hmac_hex_matches(secret=config.app_secret, body=body, signature=signature)


def subscription_challenge(config: MetaChannel, params) -> str | None:
    """The challenge to echo for Meta's subscription check, or None to refuse it."""
    if params.get("hub.mode") != "subscribe":
        return None
    if not secret_matches(config.verify_token, params.get("hub.verify_token", "")):
        return None
    challenge = params.get("hub.challenge", "")
    return challenge if challenge and len(challenge) <= 200 and challenge.isprintable() else None


# --- Reading a webhook ---------------------------------------------------------------------


def _dict(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError("Expected an object.", field=path)
    return value


def _list(value, path: str, limit: int) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError("Expected a list.", field=path)
    if len(value) > limit:
        raise PayloadError(f"At most {limit} items.", field=path)
    return value


def _id(value, path: str) -> str:
    # Graph ids are numbers or strings of letters, digits, _ - . : (mids are base64-like).
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > MAX_ID or not value.isascii():
        raise PayloadError("Expected an id.", field=path)
    if not all(c.isalnum() or c in "_-.:=+/" for c in value):
        raise PayloadError("Expected an id.", field=path)
    return value


def _text(value, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError("Expected text.", field=path)
    if len(value) > services.MAX_BODY:
        raise PayloadError(f"At most {services.MAX_BODY} characters.", field=path)
    return value.strip()


def _moment(value, path: str, *, milliseconds: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("Expected a unix time.", field=path)
    seconds = value / 1000 if milliseconds else value
    if not 0 <= seconds < 32503680000:  # before the year 3000
        raise PayloadError("Out of range.", field=path)
    return datetime.fromtimestamp(seconds, tz=UTC)


def _attachments(value, path: str) -> list[dict]:
    found = []
    for index, raw in enumerate(_list(value, path, MAX_ATTACHMENTS)):
        item = _dict(raw, f"{path}[{index}]")
        kind = item.get("type", "file")
        payload = item.get("payload") or {}
        url = payload.get("url", "") if isinstance(payload, dict) else ""
        if not isinstance(kind, str) or not isinstance(url, str) or len(url) > 2000:
            raise PayloadError("Expected a type and a payload URL.", field=f"{path}[{index}]")
        if url and not url.startswith(("https://", "http://")):
            raise PayloadError("Not an http(s) address.", field=f"{path}[{index}].payload.url")
        found.append({"name": kind[:40], "content_type": kind[:40], "url": url})
    return found


def _message_item(event: dict, path: str, page_id: str) -> MetaItem | None:
    message = event.get("message")
    if message is None:
        return None  # a delivery or read receipt, a reaction, a postback
    message = _dict(message, f"{path}.message")
    sender = _id(_dict(event.get("sender"), f"{path}.sender").get("id"), f"{path}.sender.id")
    if message.get("is_echo") or message.get("is_deleted") or sender == page_id:
        return None  # our own message coming back, or one the customer took back
    mid = _id(message.get("mid"), f"{path}.message.mid")
    body = _text(message.get("text"), f"{path}.message.text")
    attachments = _attachments(message.get("attachments"), f"{path}.message.attachments")
    if not body and not attachments:
        raise PayloadError("The message has neither text nor attachments.", field=f"{path}.message")
    return MetaItem(
        provider_id=mid,
        kind=Message.Kind.MESSAGE,
        sender_id=sender,
        sender_name="",
        body=body,
        sent_at=_moment(event.get("timestamp"), f"{path}.timestamp", milliseconds=True),
        attachments=attachments,
    )


def _comment_item(change: dict, path: str, page_id: str) -> MetaItem | None:
    kind = change.get("field")
    value = _dict(change.get("value"), f"{path}.value")
    if kind == "feed":  # Facebook page feed: only new comments
        if value.get("item") != "comment" or value.get("verb", "add") != "add":
            return None
        comment_id = _id(value.get("comment_id"), f"{path}.value.comment_id")
        post_id = _id(value.get("post_id"), f"{path}.value.post_id")
        text = _text(value.get("message"), f"{path}.value.message")
        moment = _moment(
            value.get("created_time"), f"{path}.value.created_time", milliseconds=False
        )
    elif kind == "comments":  # Instagram media comments
        comment_id = _id(value.get("id"), f"{path}.value.id")
        media = value.get("media") or {}
        post_id = _id(_dict(media, f"{path}.value.media").get("id"), f"{path}.value.media.id")
        text = _text(value.get("text"), f"{path}.value.text")
        moment = None
    else:
        return None  # mentions, ratings, page changes we do not handle
    sender = _dict(value.get("from"), f"{path}.value.from")
    sender_id = _id(sender.get("id"), f"{path}.value.from.id")
    if sender_id == page_id:
        return None  # the page's own comment (our reply coming back)
    name = sender.get("name") or sender.get("username") or ""
    if not text:
        raise PayloadError("The comment has no text.", field=f"{path}.value")
    return MetaItem(
        provider_id=comment_id,
        kind=Message.Kind.COMMENT,
        sender_id=sender_id,
        sender_name=name[:200] if isinstance(name, str) else "",
        body=text,
        sent_at=moment,
        post_id=post_id,
    )


def parse_webhook(payload, *, config: MetaChannel) -> list[MetaItem]:
    """Every customer message and comment for this page in a webhook payload, in order;
    PayloadError (naming the field) if any part is malformed, so nothing is half-stored."""
    payload = _dict(payload, "body")
    expected = OBJECT_OF[config.platform]
    if payload.get("object") != expected:
        raise PayloadError(f'Expected "object": "{expected}".', field="object")
    items = []
    for e, raw_entry in enumerate(_list(payload.get("entry"), "entry", MAX_ENTRIES)):
        entry = _dict(raw_entry, f"entry[{e}]")
        entry_id = _id(entry.get("id"), f"entry[{e}].id")
        found = []
        for m, event in enumerate(
            _list(entry.get("messaging"), f"entry[{e}].messaging", MAX_ENTRIES)
        ):
            path = f"entry[{e}].messaging[{m}]"
            found.append(_message_item(_dict(event, path), path, config.page_id))
        for c, change in enumerate(_list(entry.get("changes"), f"entry[{e}].changes", MAX_ENTRIES)):
            path = f"entry[{e}].changes[{c}]"
            found.append(_comment_item(_dict(change, path), path, config.page_id))
        if entry_id != config.page_id:
            # One app may serve several pages; each inbox stores only its own page's events.
            if any(found):
                logger.info("Inbox %s: ignored events of page %s", config.inbox_id, entry_id)
            continue
        items.extend(item for item in found if item is not None)
    return items


def _caption(item: MetaItem) -> str:
    if item.body:
        return item.body
    kinds = sorted({a["content_type"] or "file" for a in item.attachments})
    return f"[{len(item.attachments)} attachment(s): {', '.join(kinds)}]"


def store_item(inbox: Inbox, item: MetaItem) -> services.Received:
    """Store one message or comment (once per Meta id); it joins the customer's open
    conversation in the inbox, private messages and comments alike."""
    config: MetaChannel = inbox.meta
    contact = contact_find_or_create_by_identity(
        brand=inbox.brand,
        kind=IDENTITY_OF[config.platform],
        value=item.sender_id,
        name=item.sender_name,
        home_location=inbox.location,
    )
    headers = {"sender_id": item.sender_id}
    if item.kind == Message.Kind.COMMENT:
        headers.update(comment_id=item.provider_id, post_id=item.post_id)
    return services.message_receive(
        inbox=inbox,
        provider_message_id=item.provider_id,
        body=_caption(item),
        contact=contact,
        name=item.sender_name,
        sent_at=item.sent_at,
        headers=headers,
        kind=item.kind,
        attachments=item.attachments,
    )


def webhook_url(inbox: Inbox) -> str:
    """The callback address to paste into the Meta app's Webhooks settings."""
    return public_url(reverse("inbox_hooks:meta", args=[inbox.pk, inbox.kind]))


# --- Replying ----------------------------------------------------------------------------


class MetaAdapter(ChannelAdapter):
    kind = "meta"

    def _answered(self, message: Message) -> Message:
        latest = (
            Message.objects.filter(
                conversation_id=message.conversation_id,
                direction=Message.Direction.INCOMING,
                kind__in=[Message.Kind.MESSAGE, Message.Kind.COMMENT],
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if latest is None or not latest.headers.get("sender_id"):
            raise DeliveryError("There is no message from the customer here to answer.")
        return latest

    def send(self, message: Message) -> str:
        config: MetaChannel = self.inbox.meta
        answered = self._answered(message)
        if answered.kind == Message.Kind.COMMENT:
            comment_id = answered.headers.get("comment_id") or answered.provider_message_id
            edge = "replies" if config.platform == MetaChannel.Platform.INSTAGRAM else "comments"
            url = join_url(config.graph_base_url, comment_id, edge)
            body: dict = {"message": message.body}
            self.sent_headers = {"in_reply_to_comment": comment_id}
        else:
            recipient = answered.headers["sender_id"]
            url = join_url(config.graph_base_url, "me", "messages")
            body = {
                "recipient": {"id": recipient},
                "messaging_type": "RESPONSE",
                "message": {"text": message.body},
            }
            self.sent_headers = {"recipient_id": recipient}
        answer = call_json(
            "POST", url, token=config.page_access_token, body=body, what="Meta's Graph API"
        )
        if not 200 <= answer.status < 300:
            raise DeliveryError(provider_error(answer, "Meta's Graph API"))
        provider_id = answer.payload.get("message_id") or answer.payload.get("id") or ""
        return str(provider_id)[:255]
