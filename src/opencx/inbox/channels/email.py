"""The e-mail channel: read the mailbox over IMAP, answer over SMTP.

Fetching asks the server only for UIDs above the last one stored (per UIDVALIDITY: when the
server renumbers the folder, everything is read again and the Message-IDs keep it from being
stored twice). Messages are left unread and in place (the folder is opened read-only). A reply
carries its own Message-ID, and In-Reply-To / References naming the customer's last message, so
the customer's mail client shows it in the same thread and their answer threads back to us.
"""

import contextlib
import hashlib
import imaplib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from opencx.contacts.selectors import contact_address
from opencx.inbox import services
from opencx.inbox.models import EmailChannel, Message
from opencx.platform.errors import AppError

from . import ChannelAdapter, DeliveryError

logger = logging.getLogger(__name__)

TIMEOUT_S = 30
BATCH = 200  # messages per fetch; the next run goes on from there
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
DELIVERY_ERRORS = (smtplib.SMTPException, OSError, ssl.SSLError)


# --- Reading a message ---------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def text_of_html(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _ids(value) -> list[str]:
    return MESSAGE_ID.findall(str(value or ""))


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    from_name: str
    from_address: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    sent_at: datetime | None = None
    to: tuple[str, ...] = field(default=())
    auto_submitted: bool = False


def parse_email(raw: bytes) -> ParsedEmail:
    """The parts of a raw e-mail the inbox keeps: who, threading headers, subject and the
    plain-text body (from the text part, else the HTML part turned into text)."""
    message = message_from_bytes(raw, policy=policy.default)
    message_ids = _ids(message.get("Message-ID"))
    # No Message-ID (it happens): the message's own digest names it, the same on every fetch.
    message_id = message_ids[0] if message_ids else f"<sha256-{hashlib.sha256(raw).hexdigest()}>"
    name, address = parseaddr(str(message.get("Reply-To") or message.get("From") or ""))
    if not address:
        name, address = parseaddr(str(message.get("From") or ""))
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        body = _content(body_part)
        if body_part.get_content_type() == "text/html":
            body = text_of_html(body)
    elif not message.is_multipart():
        body = _content(message)
    try:
        sent_at = parsedate_to_datetime(str(message.get("Date"))) if message.get("Date") else None
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = None
    in_reply_to = _ids(message.get("In-Reply-To"))
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    return ParsedEmail(
        message_id=message_id[:255],
        from_name=name,
        from_address=address,
        subject=str(message.get("Subject") or ""),
        body=body.replace("\r\n", "\n").strip(),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=tuple(_ids(message.get("References"))),
        sent_at=sent_at,
        to=tuple(addr for _, addr in getaddresses([str(v) for v in message.get_all("To", [])])),
        auto_submitted=auto != "no",
    )


# --- The adapter ---------------------------------------------------------------------------


@dataclass
class FetchResult:
    stored: int = 0
    already_stored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _uid_validity(imap: imaplib.IMAP4) -> int | None:
    _, data = imap.response("UIDVALIDITY")
    try:
        return int(data[0]) if data and data[0] else None
    except (TypeError, ValueError):
        return None


def _raw_of(fetched) -> bytes | None:
    for item in fetched or ():
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


class EmailAdapter(ChannelAdapter):
    kind = "email"

    def __init__(self, inbox):
        super().__init__(inbox)
        self.config: EmailChannel = inbox.email

    @contextlib.contextmanager
    def _imap(self):
        config = self.config
        if config.imap_ssl:
            imap = imaplib.IMAP4_SSL(
                config.imap_host,
                config.imap_port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT_S,
            )
        else:
            imap = imaplib.IMAP4(config.imap_host, config.imap_port, timeout=TIMEOUT_S)
            if "STARTTLS" in imap.capabilities:
                imap.starttls(ssl_context=ssl.create_default_context())
        try:
            imap.login(config.imap_user, config.imap_password)
            yield imap
        finally:
            with contextlib.suppress(*DELIVERY_ERRORS, imaplib.IMAP4.error):
                imap.logout()

    def fetch(self, *, batch: int = BATCH) -> FetchResult:
        """Store the messages that arrived since the last fetch (at most `batch` of them)."""
        config, result = self.config, FetchResult()
        try:
            with self._imap() as imap:
                status, _ = imap.select(_quoted(config.imap_folder), readonly=True)
                if status != "OK":
                    raise imaplib.IMAP4.error(f"cannot open folder {config.imap_folder!r}")
                validity = _uid_validity(imap)
                last_uid = config.last_uid if validity == config.uid_validity else 0
                _, data = imap.uid("SEARCH", None, f"UID {last_uid + 1}:*")
                # "N:*" always names the newest message, even when it is older than N.
                uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)
                for uid in uids[:batch]:
                    _, fetched = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
                    raw = _raw_of(fetched)
                    if raw is not None:
                        self._store(raw, uid, result)
                    last_uid = uid
                    services.email_channel_record_fetch(
                        channel=config, uid_validity=validity, last_uid=last_uid
                    )
                services.email_channel_record_fetch(
                    channel=config, uid_validity=validity, last_uid=last_uid
                )
        except (*DELIVERY_ERRORS, imaplib.IMAP4.error) as error:
            message = f"IMAP: {error}"
            logger.warning("Inbox %s: %s", self.inbox.pk, message)
            result.errors.append(message)
            services.email_channel_record_fetch(
                channel=config,
                uid_validity=config.uid_validity,
                last_uid=config.last_uid,
                error=message,
            )
        return result

    def _store(self, raw: bytes, uid: int, result: FetchResult) -> None:
        parsed = parse_email(raw)
        own = self.config.address.lower()
        if parsed.from_address.lower() == own:  # our own reply, copied into the folder
            result.skipped += 1
            return
        try:
            received = services.message_receive(
                inbox=self.inbox,
                provider_message_id=parsed.message_id,
                body=(parsed.body or "(no text)")[: services.MAX_BODY],
                email=parsed.from_address,
                name=parsed.from_name,
                subject=parsed.subject,
                in_reply_to=parsed.in_reply_to,
                references=parsed.references,
                sent_at=parsed.sent_at,
                headers={
                    "from": parsed.from_address,
                    "to": list(parsed.to),
                    "subject": parsed.subject[:300],
                    "imap_uid": uid,
                    "auto_submitted": parsed.auto_submitted,
                },
            )
        except AppError as error:  # e.g. no usable sender address: nobody to answer
            logger.warning("Inbox %s: message UID %s skipped: %s", self.inbox.pk, uid, error)
            result.skipped += 1
            result.errors.append(f"UID {uid}: {error.message}")
            return
        if received.created:
            result.stored += 1
        else:
            result.already_stored += 1

    def send(self, message: Message) -> str:
        """Send an agent's reply over SMTP; its Message-ID (set when it was written)."""
        config = self.config
        conversation = message.conversation
        parent = (
            Message.objects.filter(
                conversation=conversation,
                direction=Message.Direction.INCOMING,
                created_at__lte=message.created_at,
            )
            .exclude(provider_message_id="")
            .order_by("-created_at", "-pk")
            .first()
        )
        to = (parent.headers.get("from", "") if parent else "") or (
            contact_address(conversation.contact) if conversation.contact else ""
        )
        if not to:
            raise DeliveryError("The customer has no e-mail address.")
        subject = conversation.subject or "Your message"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        mail = EmailMessage()
        mail["From"] = formataddr((conversation.brand.name, config.address))
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message.provider_message_id
        references: list[str] = []
        if parent is not None:
            references = [*parent.headers.get("references", []), parent.provider_message_id]
            if parent.headers.get("in_reply_to") and parent.headers["in_reply_to"] not in (
                references
            ):
                references.insert(-1, parent.headers["in_reply_to"])
            references = references[-services.MAX_THREAD_IDS :]
            mail["In-Reply-To"] = parent.provider_message_id
            mail["References"] = " ".join(references)
        mail.set_content(message.body)
        self._smtp_send(mail, to)
        self.sent_headers = {
            "to": to,
            "subject": subject,
            "in_reply_to": parent.provider_message_id if parent else "",
            "references": references,
        }
        return message.provider_message_id

    def _smtp_send(self, mail: EmailMessage, to: str) -> None:
        config = self.config
        if config.smtp_port == 465:  # implicit TLS ("SMTPS")
            smtp = smtplib.SMTP_SSL(
                config.smtp_host,
                config.smtp_port,
                timeout=TIMEOUT_S,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT_S)
        with smtp:
            if config.smtp_starttls and config.smtp_port != 465:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(mail, from_addr=config.address, to_addrs=[to])


def _quoted(folder: str) -> str:
    """An IMAP mailbox name as a quoted string (names may hold spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
