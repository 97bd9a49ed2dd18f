"""`opencx demo`: builds, is deterministic, respects --if-empty and --replace."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from opencx.cases.models import Case, CaseEvent
from opencx.contacts.models import Contact, Identity, Order, WebEvent
from opencx.demo.build import delete_demo, demo_brand
from opencx.feedback.models import FeedbackItem
from opencx.inbox.models import (
    AgentStatus,
    CannedReply,
    Conversation,
    ConversationEvent,
    Inbox,
    Label,
    Message,
    SavedView,
    SlaPolicy,
    Team,
)
from opencx.integrations.models import WebhookDelivery
from opencx.offers.models import Coupon, Playbook, PlaybookRun
from opencx.platform.models import Brand, Location
from opencx.surveys.models import Answer, Invitation, Response, SurveyOptOut
from tests.demo.conftest import TINY
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _fingerprint(brand) -> dict:
    """Everything that must repeat for one seed; ids are left out on purpose."""
    responses = Response.objects.filter(brand=brand)
    return {
        "locations": Location.objects.filter(brand=brand).count(),
        "contacts": Contact.objects.filter(brand=brand).count(),
        "identities": Identity.objects.filter(brand=brand).count(),
        "orders": Order.objects.filter(brand=brand).aggregate(n=Count("id"), total=Sum("total")),
        "responses": responses.aggregate(n=Count("id"), scores=Sum("score")),
        "nps_by_store": sorted(
            responses.filter(survey__kind="nps")
            .values_list("location__code")
            .annotate(s=Sum("score"), n=Count("id"))
        ),
        "comments": sorted(responses.exclude(comment="").values_list("created_at", "comment")),
        "answers": Answer.objects.filter(response__brand=brand).count(),
        "feedback": FeedbackItem.objects.filter(brand=brand).aggregate(
            n=Count("id"), stars=Sum("rating")
        ),
        "conversations": Conversation.objects.filter(brand=brand).count(),
        "messages": Message.objects.filter(conversation__brand=brand).count(),
        "inbox_facts": sorted(
            ConversationEvent.objects.filter(brand=brand).values_list(
                "kind", "at", "seconds", "business_seconds", "detail", "agent__email"
            ),
            key=repr,
        ),
        "events": sorted(
            WebEvent.objects.filter(brand=brand).values_list("session_id", "kind", "occurred_at")
        ),
        "cases": sorted(
            Case.objects.filter(brand=brand).values_list(
                "status", "opened_at", "due_at", "root_cause", "recovered", "owner__email"
            ),
            key=repr,
        ),
        "case_events": sorted(
            CaseEvent.objects.filter(case__brand=brand).values_list("kind", "at", "actor__email"),
            key=repr,
        ),
        "playbooks": sorted(
            Playbook.objects.filter(brand=brand).values_list(
                "segment", "action", "location__code", "created_at"
            ),
            key=repr,
        ),
        "playbook_runs": sorted(
            PlaybookRun.objects.filter(brand=brand).values_list(
                "response__created_at",
                "segment",
                "action",
                "status",
                "skip_reason",
                "address",
                "created_at",
                "sent_at",
                "clicked_at",
                "completed_at",
                "referred_contact__name",
            ),
            key=repr,
        ),
        "coupons": sorted(
            Coupon.objects.filter(brand=brand, issued_at__isnull=False).values_list(
                "issued_at",
                "expires_at",
                "contact__name",
                "redeemed_at",
                "redeemed_location__code",
                "redemption_ref",
            ),
            key=repr,
        ),
        "opt_outs": sorted(
            SurveyOptOut.objects.filter(brand=brand).values_list("contact__name", "created_at")
        ),
        "webhook_deliveries": sorted(
            WebhookDelivery.objects.filter(brand=brand).values_list(
                "event", "event_id", "status", "attempts", "created_at", "delivered_at"
            ),
            key=repr,
        ),
    }


def test_builds_the_demo_and_prints_the_logins():
    output = _run(*TINY)
    brand = demo_brand()
    assert brand is not None and brand.name == "Bottega Aurora"
    # The CSAT answers after support conversations come on top, through their invitations.
    assert Response.objects.filter(brand=brand, invitation__isnull=True).count() == 600
    # Customers, and the friends some promoters referred.
    assert Contact.objects.filter(brand=brand, referred_by__isnull=True).count() == 120
    assert "http://127.0.0.1:8000" in output
    for email in ("owner@", "cx@", "manager.cardiff@", "agent@", "viewer@"):
        assert f"{email}demo.opencx.org" in output
    assert "opencx-demo" in output


def test_same_seed_same_data_other_seed_other_data():
    _run(*TINY)
    first = _fingerprint(demo_brand())
    _run(*TINY, "--replace")
    assert Brand.objects.filter(slug="demo").count() == 1
    assert _fingerprint(demo_brand()) == first
    _run(*TINY, "--replace", "--seed=8")
    other = _fingerprint(demo_brand())
    assert other["responses"] != first["responses"]
    assert other["comments"] != first["comments"]


def test_if_empty_does_nothing_when_a_brand_exists():
    BrandFactory(slug="shop")
    output = _run(*TINY, "--if-empty")
    assert "exists already" in output
    assert demo_brand() is None
    assert Response.objects.count() == 0


def test_if_empty_builds_on_an_empty_database():
    _run(*TINY, "--if-empty")
    assert demo_brand() is not None


def test_an_existing_demo_is_kept_without_replace():
    _run(*TINY)
    responses = Response.objects.count()
    with pytest.raises(CommandError, match="--replace"):
        _run(*TINY)
    assert Response.objects.count() == responses
    output = _run(*TINY, "--if-empty")
    assert "owner@demo.opencx.org" in output
    assert Response.objects.count() == responses


def test_delete_demo_removes_the_inbox_with_the_brand():
    _run(*TINY)
    brand = demo_brand()
    assert Inbox.objects.filter(brand=brand).exists()
    assert ConversationEvent.objects.filter(brand=brand).exists()
    delete_demo(brand)
    assert not Brand.objects.filter(slug="demo").exists()
    for model in (Inbox, SlaPolicy, Team, Label, CannedReply, SavedView, AgentStatus):
        assert not model.objects.exists(), model
    for model in (ConversationEvent, Conversation, Invitation, Response, Location):
        assert not model.objects.exists(), model
