"""The SMS providers: console and file backends, and the Twilio adapter against a real local HTTP
server (started here, on loopback), plus Twilio's request signature."""

import base64
import hashlib
import hmac
import io
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from opencx.platform.sms import (
    ConsoleBackend,
    FileBackend,
    SmsError,
    TwilioBackend,
    backend_from_url,
    send_sms,
    twilio_signature,
    verify_twilio_signature,
)


class FakeTwilio(BaseHTTPRequestHandler):
    """Answers like Twilio's Messages API; records what it was sent."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        self.server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization", ""),
                "content_type": self.headers.get("Content-Type", ""),
                "form": urllib.parse.parse_qs(body),
            }
        )
        status, payload = self.server.answer
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def twilio_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    server.requests = []
    server.answer = (201, {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _base(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_twilio_adapter_posts_the_message_with_basic_auth(twilio_server):
    url = f"twilio://AC123:s3cret@api.twilio.com?from=+447700900123&base_url={_base(twilio_server)}"
    backend = backend_from_url(url)

    message_id = backend.send("+393331234567", "Com'è andata? https://x.test/s/i/abc/")

    assert message_id == "SM0123456789abcdef0123456789abcdef"
    [request] = twilio_server.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["authorization"] == "Basic " + base64.b64encode(b"AC123:s3cret").decode()
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": ["+393331234567"],
        "From": ["+447700900123"],  # the "+" in SMS_URL is the prefix, not a space
        "Body": ["Com'è andata? https://x.test/s/i/abc/"],
    }


def test_twilio_adapter_uses_a_messaging_service_sid_as_such(twilio_server):
    backend = TwilioBackend(
        account_sid="AC1", auth_token="t", sender="MG42", base_url=_base(twilio_server)
    )
    backend.send("+447700900999", "hi")
    assert twilio_server.requests[0]["form"]["MessagingServiceSid"] == ["MG42"]
    assert "From" not in twilio_server.requests[0]["form"]


def test_twilio_refusal_becomes_an_sms_error_with_the_providers_reason(twilio_server):
    twilio_server.answer = (400, {"code": 21211, "message": "The 'To' number is not valid."})
    backend = TwilioBackend(
        account_sid="AC1", auth_token="t", sender="+15005550006", base_url=_base(twilio_server)
    )
    with pytest.raises(SmsError, match=r"'To' number is not valid.*21211"):
        backend.send("+1", "hi")


def test_unreachable_provider_is_an_sms_error(twilio_server):
    base = _base(twilio_server)
    twilio_server.shutdown()
    twilio_server.server_close()
    backend = TwilioBackend(
        account_sid="AC1", auth_token="t", sender="+15005550006", base_url=base, timeout=2
    )
    with pytest.raises(SmsError, match="could not be reached"):
        backend.send("+447700900999", "hi")


def test_twilio_url_defaults_to_https_on_the_named_host():
    backend = backend_from_url("twilio://AC9:tok@api.twilio.com?from=%2B15005550006")
    assert backend.endpoint == "https://api.twilio.com/2010-04-01/Accounts/AC9/Messages.json"
    assert backend.sender == "+15005550006"
    with pytest.raises(SmsError, match="needs an account SID"):
        backend_from_url("twilio://api.twilio.com?from=%2B15005550006")


def test_file_backend_writes_one_json_file_per_message(tmp_path):
    backend = backend_from_url(f"file://{tmp_path}/outbox")
    first = backend.send("+447700900001", "Ciao")
    second = backend.send("+447700900002", "Shwmae 👋")

    files = sorted((tmp_path / "outbox").glob("*.json"))
    assert len(files) == 2
    saved = {json.loads(f.read_text())["id"]: json.loads(f.read_text()) for f in files}
    assert saved[first]["to"] == "+447700900001" and saved[first]["body"] == "Ciao"
    assert saved[second]["body"] == "Shwmae 👋"
    assert [m["id"] for m in FileBackend(tmp_path / "outbox").messages()] == sorted(saved)


def test_console_backend_prints_the_message():
    stream = io.StringIO()
    message_id = ConsoleBackend(stream).send("+447700900001", "Hello there")
    assert message_id in stream.getvalue()
    assert "+447700900001" in stream.getvalue() and "Hello there" in stream.getvalue()


def test_send_sms_uses_the_configured_backend(tmp_path):
    with override_settings(SMS_URL=f"file://{tmp_path}"):
        send_sms(to="+447700900003", body="configured")
    assert [m["body"] for m in FileBackend(tmp_path).messages()] == ["configured"]


def test_unknown_scheme_is_refused():
    with pytest.raises(SmsError, match="Unknown SMS_URL scheme"):
        backend_from_url("carrier-pigeon://coop")


# --- X-Twilio-Signature ---

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
# Published in Twilio's request-validation documentation and its SDKs' tests (token "12345").
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def _reference(url: str, pairs: list[tuple[str, str]], token: str) -> str:
    """The scheme written out independently: URL, then name+value pairs sorted by name."""
    text = url
    for name, value in sorted(set(pairs)):
        text += f"{name}{value}"
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def test_twilios_published_vector():
    assert _reference(DOC_URL, list(DOC_PARAMS.items()), "12345") == DOC_SIGNATURE
    assert twilio_signature(DOC_URL, DOC_PARAMS, "12345") == DOC_SIGNATURE
    assert verify_twilio_signature(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, "12345")


def test_a_changed_parameter_url_token_or_signature_is_refused():
    assert not verify_twilio_signature(
        DOC_URL, {**DOC_PARAMS, "Digits": "9"}, DOC_SIGNATURE, "12345"
    )
    assert not verify_twilio_signature(DOC_URL + "&x=1", DOC_PARAMS, DOC_SIGNATURE, "12345")
    assert not verify_twilio_signature(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, "12346")
    assert not verify_twilio_signature(DOC_URL, DOC_PARAMS, "", "12345")
    assert not verify_twilio_signature(DOC_URL, DOC_PARAMS, "not base64!", "12345")


def test_the_default_port_may_or_may_not_be_in_the_signed_url():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_with_port = _reference(with_port, list(DOC_PARAMS.items()), "12345")
    assert verify_twilio_signature(DOC_URL, DOC_PARAMS, signed_with_port, "12345")
    assert verify_twilio_signature(with_port, DOC_PARAMS, DOC_SIGNATURE, "12345")
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not verify_twilio_signature(other_port, DOC_PARAMS, DOC_SIGNATURE, "12345")


def test_repeated_parameters_are_sorted_and_counted_once():
    url = "https://cx.example/sms/status"
    pairs = [("MediaUrl", "b"), ("MediaUrl", "a"), ("MediaUrl", "a"), ("Body", "x")]
    expected = _reference(url, pairs, "tok")
    assert twilio_signature(url, pairs, "tok") == expected
    assert twilio_signature(url, {"MediaUrl": ["a", "b"], "Body": "x"}, "tok") == expected


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@given(
    params=st.dictionaries(st.text(min_size=1, max_size=10), text, max_size=6),
    token=st.text(min_size=1, max_size=32),
)
def test_signature_matches_the_reference_for_any_form(params, token):
    url = "https://cx.example/hooks/twilio?a=1"
    signature = twilio_signature(url, params, token)
    assert signature == _reference(url, list(params.items()), token)
    assert verify_twilio_signature(url, params, signature, token)
