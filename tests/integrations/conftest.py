"""Fixtures for webhooks: a real HTTP receiver on loopback, tasks run at once, endpoints."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opencx.integrations.models import WebhookEndpoint
from opencx.integrations.services import new_secret


class Receiver:
    """What the receiver was sent, and what it answers (`status`, or a redirect)."""

    def __init__(self, server):
        self.server = server
        self.requests = []
        self.status = 200
        self.answer = b'{"ok": true}'
        self.redirect_to = ""

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def json(self, index=-1) -> dict:
        return json.loads(self.requests[index]["body"])


def _handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            receiver.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
            if receiver.redirect_to:
                self.send_response(302)
                self.send_header("Location", receiver.redirect_to)
                self.end_headers()
                return
            self.send_response(receiver.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.answer)))
            self.end_headers()
            self.wfile.write(receiver.answer)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    """A real HTTP server on a free loopback port, recording every POST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    hub = Receiver(server)
    server.RequestHandlerClass = _handler(hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """committed(fn, *args, **kwargs): call fn and run what it left for after the commit."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def make_endpoint(brand, owner):
    def make(url, *, kind=WebhookEndpoint.Kind.WEBHOOK, events=(), of_brand=None, **fields):
        return WebhookEndpoint.objects.create(
            brand=of_brand or brand,
            name=fields.pop("name", "Zapier"),
            url=url,
            kind=kind,
            events=list(events),
            secret=new_secret(),
            created_by=owner,
            **fields,
        )

    return make
