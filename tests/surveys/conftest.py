"""Fixtures for sending invitations by SMS (the SMTP server and immediate tasks are in
tests/conftest.py, shared with other apps)."""

import pytest
from django.test import override_settings


@pytest.fixture
def sms_outbox(tmp_path):
    """SMS_URL pointing at a folder: one JSON file per text message sent."""
    from opencx.platform.sms import FileBackend

    outbox = tmp_path / "sms"
    with override_settings(SMS_URL=f"file://{outbox}"):
        yield FileBackend(outbox)
