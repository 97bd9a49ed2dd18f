"""Fixtures for sending invitations by SMS (the SMTP server and immediate tasks are in
tests/conftest.py, shared with other apps)."""

import pytest


@pytest.fixture
def sms_outbox(tmp_path, settings):
    """SMS_URL pointing at a folder: one JSON file per text message sent."""
    from opencx.platform.sms import FileBackend

    outbox = tmp_path / "sms"
    settings.SMS_URL = f"file://{outbox}"
    return FileBackend(outbox)
