"""Fixtures for sending invitations: a real SMTP server on loopback, and tasks run at once."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings


class Mailbox:
    """Collects every message the SMTP server accepts, parsed."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(envelope.original_content, policy=policy.default)
            for envelope in self.envelopes
        ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port; Django sends mail through it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=10,
        ):
            yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def immediate_tasks():
    """Tasks run as they are enqueued (the database backend would wait for a worker)."""
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ):
        yield


@pytest.fixture
def sms_outbox(tmp_path):
    """SMS_URL pointing at a folder: one JSON file per text message sent."""
    from opencx.platform.sms import FileBackend

    outbox = tmp_path / "sms"
    with override_settings(SMS_URL=f"file://{outbox}"):
        yield FileBackend(outbox)
