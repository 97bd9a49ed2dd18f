"""A local HTTP server standing in for a provider's API (Twilio, Meta's Graph API, Google's
Business Profile API): it records every request and answers from a table of canned replies."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class ProviderServer:
    def __init__(self):
        self.requests: list[Recorded] = []
        # (method, path) -> (status, JSON answer); anything else is a 404.
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, method: str, path: str, payload: dict, status: int = 200) -> None:
        self.answers[(method, path)] = (status, payload)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                provider.requests.append(
                    Recorded(self.command, self.path, dict(self.headers.items()), body)
                )
                status, payload = provider.answers.get(
                    (self.command, self.path), (404, {"error": {"message": "no such thing"}})
                )
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args):
                pass

        return Handler

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
