from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from opencx.integrations.models import WebhookDelivery


@pytest.mark.usefixtures("immediate_tasks")
def test_queues_what_is_due(make_endpoint, receiver, brand, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(receiver.url)
    due = WebhookDelivery.objects.create(
        brand=brand,
        endpoint=endpoint,
        event="ping",
        event_id="a",
        payload={"event": "ping"},
        status=WebhookDelivery.Status.FAILED,
        attempts=1,
        next_attempt_at=timezone.now() - timedelta(seconds=5),
    )
    later = WebhookDelivery.objects.create(
        brand=brand,
        endpoint=endpoint,
        event="ping",
        event_id="b",
        payload={"event": "ping"},
        status=WebhookDelivery.Status.FAILED,
        attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks_retry", stdout=out)
    assert "1 webhook deliveries queued" in out.getvalue()
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.attempts) == ("delivered", 2)
    assert (later.status, later.attempts) == ("failed", 1)
    assert len(receiver.requests) == 1
