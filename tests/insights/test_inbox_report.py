import csv
import io

import pytest
from django.urls import reverse

from opencx.inbox import services, sla
from opencx.inbox.models import Conversation
from opencx.insights import inbox_report

pytestmark = pytest.mark.django_db
S = Conversation.Status


@pytest.fixture
def conversations(owner_actor, store):
    inbox = services.inbox_create_api(actor=owner_actor, name="Shop", location=store).inbox
    sla.sla_policy_set(
        actor=owner_actor,
        inbox=inbox,
        priority="normal",
        first_response_minutes=60,
        business_hours=False,
    )
    made = []
    for number in range(3):
        received = services.message_receive(
            inbox=inbox,
            provider_message_id=f"m-{number}",
            body="Where is my order?",
            email=f"c{number}@example.test",
        )
        made.append(received.message.conversation)
    services.message_send(actor=owner_actor, conversation=made[0], body="On its way")
    services.message_send(actor=owner_actor, conversation=made[1], body="Checking")
    services.conversation_transition(actor=owner_actor, conversation=made[1], to=S.RESOLVED)
    return made


def _facts(actor):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return inbox_report.conversation_facts(
        actor, location=None, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )


def test_unanswered_conversations_are_censored_not_zero(owner_actor, conversations):
    rows = _facts(owner_actor)
    overall = inbox_report.figures(rows, basis="calendar")
    assert overall.conversations == 3
    assert (overall.first_response.done, overall.first_response.waiting) == (2, 1)
    assert (overall.resolution.done, overall.resolution.waiting) == (1, 2)
    assert overall.sla["first_response"].n == 2 and overall.sla["first_response"].value == 100
    assert overall.csat.n == 0


def test_groups_by_agent_put_the_unanswered_under_nobody(owner_actor, owner, conversations):
    groups = inbox_report.grouped(_facts(owner_actor), by="agent", basis="business")
    labels = {g.label: g.conversations for g in groups}
    assert labels == {str(owner): 2, "Nobody": 1}


def test_page_and_row_level_export(client, brand, owner, conversations):
    client.force_login(owner)
    url = reverse("inbox_report:report", args=[brand.slug])
    page = client.get(url, {"by": "channel", "basis": "business"})
    assert page.status_code == 200
    assert b"Inbox report" in page.content and b"still waiting" in page.content
    download = client.get(url, {"export": "csv", "table": "conversations"})
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Conversation id" and len(rows) == 4
    ids = sorted(int(row[0]) for row in rows[1:])
    assert ids == sorted(c.pk for c in conversations)
    by_id = {int(row[0]): row for row in rows[1:]}
    header = rows[0]
    assert by_id[conversations[0].pk][header.index("First response SLA")] == "met"
    assert by_id[conversations[2].pk][header.index("First response (h)")] == ""


def test_a_stranger_gets_404(client, brand, stranger, conversations):
    client.force_login(stranger)
    assert client.get(reverse("inbox_report:report", args=[brand.slug])).status_code == 404


def test_durations_under_an_hour_read_in_minutes(client, brand, owner, conversations):
    from datetime import timedelta

    from opencx.inbox.models import ConversationEvent

    ConversationEvent.objects.filter(kind="first_response").update(
        seconds=timedelta(minutes=20).total_seconds()
    )
    client.force_login(owner)
    page = client.get(reverse("inbox_report:report", args=[brand.slug]))
    assert b"20 min" in page.content
