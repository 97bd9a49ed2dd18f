"""The SMS channel, through a Twilio-compatible provider.

In: the provider POSTs each text message to the inbox's webhook (form fields `MessageSid`,
`From`, `To`, `Body`, `NumMedia`, `MediaUrl0`, `MediaContentType0`...), and each delivery report
of our replies to its status callback (`MessageSid`, `MessageStatus`, `ErrorCode`). Both are
signed (`X-Twilio-Signature`, keyed by the account's auth token, over the public URL and the
fields: `opencx.platform.sms.verify_twilio_signature`).

Out: replies go through `opencx.platform.sms.TwilioBackend` with the inbox's own account, to
the number the customer last wrote from, asking the provider to report delivery to the inbox's
status callback.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.urls import reverse

from opencx.contacts.models import Identity
from opencx.contacts.selectors import contact_address
from opencx.contacts.services import normalise_phone
from opencx.inbox import services
from opencx.inbox.models import Inbox, Message, SmsChannel
from opencx.platform.errors import AppError
from opencx.platform.sms import SmsError, TwilioBackend
from opencx.surveys.flows import public_url

from . import ChannelAdapter, DeliveryError
from .hooks import PayloadError

MAX_MEDIA = 10  # Twilio's own limit per message
MAX_SMS_BODY = 1600  # characters Twilio accepts in one (concatenated) message
SIGNATURE_HEADER = "X-Twilio-Signature"

# The provider's MessageStatus → ours. Intermediate states (queued, accepted, sending,
# scheduled) change nothing: the reply is already "sent" from our side once the provider took it.
STATUS_OF = {
    "sent": Message.Delivery.SENT,
    "delivered": Message.Delivery.DELIVERED,
    "read": Message.Delivery.DELIVERED,
    "undelivered": Message.Delivery.FAILED,
    "failed": Message.Delivery.FAILED,
    "canceled": Message.Delivery.FAILED,
}


@dataclass(frozen=True)
class InboundSms:
    sid: str
    sender: str  # E.164
    to: str
    body: str
    attachments: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str  # one of STATUS_OF's values, or "" for a state that changes nothing
    error: str


def _sid(params: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = params.get(name, "")
        if value:
            if not (value.isascii() and value.isalnum() and len(value) <= 64):
                raise PayloadError("Not a message id.", field=name)
            return value
    raise PayloadError("The message id is missing.", field=names[0])


def _media_url(value: str, name: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) > 2000 or " " in value:
        raise PayloadError("Not an http(s) address.", field=name)
    return value


def parse_inbound(params: Mapping[str, str]) -> InboundSms:
    """An incoming text message from the provider's form fields; PayloadError if malformed."""
    sid = _sid(params, "MessageSid", "SmsMessageSid", "SmsSid")
    try:
        sender = normalise_phone(params.get("From", ""), field="From")
    except AppError as error:
        raise PayloadError(error.message, field="From") from None
    body = params.get("Body", "").strip()
    if len(body) > services.MAX_BODY:
        raise PayloadError(f"At most {services.MAX_BODY} characters.", field="Body")
    count = params.get("NumMedia", "0") or "0"
    if not (count.isascii() and count.isdigit() and int(count) <= MAX_MEDIA):
        raise PayloadError(f"A number from 0 to {MAX_MEDIA}.", field="NumMedia")
    attachments = []
    for index in range(int(count)):
        url = _media_url(params.get(f"MediaUrl{index}", ""), f"MediaUrl{index}")
        content_type = params.get(f"MediaContentType{index}", "")[:100]
        attachments.append({"name": f"media-{index}", "content_type": content_type, "url": url})
    if not body and not attachments:
        raise PayloadError("The message has neither text nor media.", field="Body")
    return InboundSms(
        sid=sid,
        sender=sender,
        to=params.get("To", "")[:32],
        body=body,
        attachments=attachments,
    )


def parse_status(params: Mapping[str, str]) -> StatusReport:
    """A delivery report of one of our messages; PayloadError if malformed."""
    sid = _sid(params, "MessageSid", "SmsSid")
    raw = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not raw or len(raw) > 40:
        raise PayloadError("The status is missing.", field="MessageStatus")
    code = params.get("ErrorCode", "")[:20]
    error = f"The provider reported {raw}" + (f" (error {code})." if code else ".")
    return StatusReport(sid=sid, status=STATUS_OF.get(raw.lower(), ""), error=error)


def _caption(sms: InboundSms) -> str:
    """The text stored for the message: its body, or what it carried when it had none."""
    if sms.body:
        return sms.body
    kinds = sorted({a["content_type"] or "file" for a in sms.attachments})
    return f"[{len(sms.attachments)} attachment(s): {', '.join(kinds)}]"


def store_inbound(inbox: Inbox, sms: InboundSms) -> services.Received:
    """Store one incoming text (once per MessageSid): it joins the sender's open conversation."""
    return services.message_receive(
        inbox=inbox,
        provider_message_id=sms.sid,
        body=_caption(sms),
        phone=sms.sender,
        headers={"from": sms.sender, "to": sms.to},
        attachments=sms.attachments,
    )


def store_status(inbox: Inbox, report: StatusReport) -> bool:
    if not report.status:
        return False
    return services.message_delivery_report(
        inbox=inbox, provider_message_id=report.sid, status=report.status, error=report.error
    )


def inbound_url(inbox: Inbox) -> str:
    """The address to paste into the provider's "a message comes in" webhook."""
    return public_url(reverse("inbox_hooks:sms", args=[inbox.pk]))


def status_callback_url(inbox: Inbox) -> str:
    return public_url(reverse("inbox_hooks:sms-status", args=[inbox.pk]))


def _recipient(message: Message) -> str:
    """The number the customer last wrote from in this conversation, else their phone."""
    latest = (
        Message.objects.filter(
            conversation_id=message.conversation_id, direction=Message.Direction.INCOMING
        )
        .order_by("-created_at", "-pk")
        .values_list("headers", flat=True)
        .first()
    )
    number = (latest or {}).get("from", "") if isinstance(latest, dict) else ""
    if not number and message.conversation.contact is not None:
        number = contact_address(message.conversation.contact, Identity.Kind.PHONE)
    if not number:
        raise DeliveryError("The customer has no phone number to text.")
    return number


class SmsAdapter(ChannelAdapter):
    kind = "sms"

    def backend(self) -> TwilioBackend:
        config: SmsChannel = self.inbox.sms
        try:
            return TwilioBackend(
                account_sid=config.account_sid,
                auth_token=config.auth_token,
                sender=config.phone_number,
                base_url=config.api_base_url,
            )
        except SmsError as error:
            raise DeliveryError(str(error)) from None

    def send(self, message: Message) -> str:
        if len(message.body) > MAX_SMS_BODY:
            raise DeliveryError(f"A text message holds at most {MAX_SMS_BODY} characters.")
        to = _recipient(message)
        backend = self.backend()
        try:
            sid = backend.send(to, message.body, status_callback=status_callback_url(self.inbox))
        except SmsError as error:
            raise DeliveryError(str(error)) from None
        self.sent_headers = {"to": to, "from": backend.sender}
        return sid
