"""Sending text messages through a provider chosen by the `SMS_URL` setting.

A backend has one method, `send(to, body) -> provider_message_id`, and raises `SmsError` when
the provider refuses. Backends:

- `console://` prints each message (the default, for development);
- `file:///path/to/dir` writes one JSON file per message (development and tests);
- `twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B447700900123` posts to a
  Twilio-compatible Messages API (`from` may also be a Messaging Service SID, `MG...`;
  `base_url=http://127.0.0.1:8080` sends to another Twilio-compatible server instead).

`verify_twilio_signature` checks the `X-Twilio-Signature` header of the provider's callbacks
(delivery reports, incoming messages) so a forged request is refused.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, TextIO

from django.conf import settings
from django.utils import timezone

TWILIO_API = "https://api.twilio.com"


class SmsError(Exception):
    """The provider did not accept the message (the message says why)."""


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; the provider's id for the message."""
        ...


def _new_id(prefix: str) -> str:
    return f"{prefix}-{timezone.now():%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"


class ConsoleBackend:
    """Prints each message; nothing leaves the machine."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, to: str, body: str) -> str:
        message_id = _new_id("console")
        stream = self.stream or sys.stdout
        stream.write(f"SMS {message_id} to {to}:\n{body}\n{'-' * 40}\n")
        stream.flush()
        return message_id


class FileBackend:
    """Writes each message to `<directory>/<id>.json`: {"id", "to", "body", "sent_at"}."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def send(self, to: str, body: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = _new_id("file")
        record = {"id": message_id, "to": to, "body": body, "sent_at": timezone.now().isoformat()}
        path = self.directory / f"{message_id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # readers never see half a message
        return message_id

    def messages(self) -> list[dict]:
        """Every message written so far, oldest first."""
        if not self.directory.is_dir():
            return []
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.directory.glob("*.json"))
        ]


class TwilioBackend:
    """Twilio's Messages API: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, basic auth."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        base_url: str = TWILIO_API,
        timeout: float = 10.0,
    ):
        if not (account_sid and auth_token and sender):
            raise SmsError("A Twilio backend needs an account SID, an auth token and a sender.")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @property
    def endpoint(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, to: str, body: str, *, status_callback: str = "") -> str:
        """`status_callback`: where the provider reports the message's delivery (optional)."""
        sender_field = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        fields = {"To": to, sender_field: self.sender, "Body": body}
        if status_callback:
            fields["StatusCallback"] = status_callback
        data = urllib.parse.urlencode(fields)
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            self.endpoint,
            data=data.encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = _json_or_empty(response.read())
        except urllib.error.HTTPError as error:
            payload = _json_or_empty(error.read())
            detail = payload.get("message") or error.reason
            code = f" (code {payload['code']})" if payload.get("code") else ""
            raise SmsError(f"The SMS provider refused the message: {detail}{code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError(f"The SMS provider could not be reached: {error}") from error
        sid = payload.get("sid")
        if not isinstance(sid, str) or not sid:
            raise SmsError("The SMS provider's answer carries no message id.")
        return sid


def _json_or_empty(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def backend_from_url(url: str, *, timeout: float = 10.0) -> SmsBackend:
    """The backend an `SMS_URL` names (see the module's docstring)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "console":
        return ConsoleBackend()
    if parts.scheme == "file":
        if not parts.path:
            raise SmsError("file:// needs a directory, e.g. file:///var/lib/opencx/sms.")
        return FileBackend(urllib.parse.unquote(parts.path))
    if parts.scheme == "twilio":
        # A literal "+" in the query is the sender's international prefix, not a space.
        query = dict(urllib.parse.parse_qsl(parts.query.replace("+", "%2B")))
        sender = query.get("from", "")
        base_url = query.get("base_url") or f"https://{parts.hostname or 'api.twilio.com'}" + (
            f":{parts.port}" if parts.port else ""
        )
        return TwilioBackend(
            account_sid=urllib.parse.unquote(parts.username or ""),
            auth_token=urllib.parse.unquote(parts.password or ""),
            sender=sender,
            base_url=base_url,
            timeout=timeout,
        )
    raise SmsError(f"Unknown SMS_URL scheme {parts.scheme!r}: use console, file or twilio.")


def sms_backend() -> SmsBackend:
    """The backend configured by the `SMS_URL` setting."""
    return backend_from_url(
        getattr(settings, "SMS_URL", "console://"),
        timeout=getattr(settings, "SMS_TIMEOUT", 10.0),
    )


def send_sms(*, to: str, body: str) -> str:
    """Send one text message through the configured provider; its message id."""
    return sms_backend().send(to, body)


# --- Twilio's request signature (X-Twilio-Signature) ---

Params = Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]]


def _pairs(params: Params) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    items = params.items() if isinstance(params, Mapping) else params
    for key, value in items:
        values = [value] if isinstance(value, str) else list(value)
        grouped.setdefault(key, set()).update(values)
    return grouped


def twilio_signature(url: str, params: Params, auth_token: str) -> str:
    """Base64 HMAC-SHA1, keyed by the auth token, of the full URL followed by each POST
    parameter's name and value, sorted by name (repeated values sorted, each once)."""
    grouped = _pairs(params)
    text = url + "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    )
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _with_and_without_port(url: str) -> list[str]:
    """Twilio signs the URL as configured, with or without the scheme's default port."""
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url]
    if default is not None and parts.port in (None, default):
        for netloc in (f"{prefix}{host}", f"{prefix}{host}:{default}"):
            variant = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
            if variant not in variants:
                variants.append(variant)
    return variants


def verify_twilio_signature(url: str, params: Params, signature: str, auth_token: str) -> bool:
    """Whether `signature` (the X-Twilio-Signature header) is Twilio's for this request."""
    if not signature or not auth_token:
        return False
    try:
        base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return any(
        hmac.compare_digest(twilio_signature(variant, params, auth_token), signature)
        for variant in _with_and_without_port(url)
    )
