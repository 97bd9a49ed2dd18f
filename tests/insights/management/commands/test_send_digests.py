"""`opencx send_digests`: sends what is due once, and `--dry-run` says who would get what."""

import io
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

from opencx.insights.models import DigestSent
from opencx.integrations.models import NotificationPreference
from opencx.platform.roles import Role
from opencx.surveys.services import response_record
from tests.factories import CaseFactory, MembershipFactory

pytestmark = pytest.mark.django_db

AT = "2025-03-10T09:00:00+00:00"  # Monday: yesterday and last week (3–9 March) are due
IN_PERIOD = "2025-03-07T12:00:00+00:00"


@pytest.fixture
def members(brand, store, sibling_store, make_survey):
    """Milano's manager (weekly, the default) has a detractor last week; Torino's manager
    (daily) had nothing; a viewer turned the digest off."""
    survey, headline, follow_up = make_survey("nps")
    response_record(
        survey=survey,
        location=store,
        answers={headline.pk: 3, follow_up.pk: "Slow"},
        language="en",
        created_at=datetime.fromisoformat(IN_PERIOD),
    )
    CaseFactory(brand=brand, location=store, opened_at=datetime.fromisoformat(IN_PERIOD))
    milano = MembershipFactory(brand=brand, role=Role.LOCATION_MANAGER, location=store).user
    torino = MembershipFactory(brand=brand, role=Role.LOCATION_MANAGER, location=sibling_store)
    NotificationPreference.objects.create(user=torino.user, brand=brand, digest="daily")
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER).user
    NotificationPreference.objects.create(user=viewer, brand=brand, digest="off")
    return milano, torino.user, viewer


def _run(*args) -> str:
    out = io.StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_who_would_get_what_and_sends_nothing(members, smtp_server):
    milano, torino, viewer = members

    output = _run("--dry-run", "--at", AT)

    assert f"bottega weekly 2025-03-03..2025-03-09 {milano.email}: would send — NPS" in output
    assert "1 response, 1 new case" in output
    assert f"bottega daily 2025-03-09..2025-03-09 {torino.email}: no activity, not sent" in output
    assert viewer.email not in output
    assert output.rstrip().endswith(
        "Dry run: 1 digest would be sent, 1 without activity would not; nothing sent."
    )
    assert smtp_server.messages == [] and not DigestSent.objects.exists()


def test_dry_run_before_seven_says_when_it_is_due(members):
    milano, _torino, _viewer = members

    output = _run("--dry-run", "--frequency", "weekly", "--at", "2025-03-10T06:30:00+00:00")

    assert (
        f"bottega weekly 2025-03-03..2025-03-09 {milano.email}: "
        "not due before 2025-03-10 07:00 UTC" in output
    )


def test_sends_once_however_often_it_runs(members, smtp_server):
    milano, _torino, _viewer = members

    first = _run("--at", AT)
    second = _run("--at", "2025-03-10T10:00:00+00:00")

    assert "Sent 1 digest (1 without activity not sent, 0 failed)." in first
    assert f"{milano.email}: sent" in first
    assert second.strip() == "Sent 0 digests (0 without activity not sent, 0 failed)."
    assert [message["To"] for message in smtp_server.messages] == [milano.email]


def test_brand_and_frequency_narrow_the_run(members, other_brand, smtp_server):
    assert "Sent 0 digests" in _run("--brand", "rival", "--at", AT)
    assert "Sent 0 digests" in _run("--brand", "bottega", "--frequency", "daily", "--at", AT)
    assert "Sent 1 digest " in _run("--brand", "bottega", "--frequency", "weekly", "--at", AT)
    assert len(smtp_server.messages) == 1


def test_bad_arguments_are_named(members):
    with pytest.raises(CommandError, match="No brand with slug nope"):
        _run("--brand", "nope")
    with pytest.raises(CommandError, match="--at"):
        _run("--at", "yesterday")
    with pytest.raises(CommandError, match="UTC offset"):
        _run("--at", "2025-03-10T09:00:00")
    with pytest.raises(CommandError, match="invalid choice"):
        _run("--frequency", "monthly")
