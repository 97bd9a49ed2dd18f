"""The closed-loop figures and the dashboard page that shows them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.cases import report_selectors
from opencx.cases.models import Case
from opencx.platform.roles import Role
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _report(actor, **kwargs):
    now = timezone.now()
    return report_selectors.closed_loop_report(
        actor, since=now - timedelta(days=90), until=now + timedelta(minutes=1), **kwargs
    )


@pytest.fixture
def cases(brand, store, sibling_store, manager):
    """Four cases in the last month: one acknowledged in 2 h and resolved in 10 h and won back,
    one resolved and not won back, one open and overdue at the store, one new at the sibling."""
    now = timezone.now()
    start = now - timedelta(days=20)
    won = CaseFactory(
        brand=brand,
        location=store,
        owner=manager,
        opened_at=start,
        acknowledged_at=start + timedelta(hours=2),
        resolved_at=start + timedelta(hours=10),
        status=Case.Status.RESOLVED,
        root_cause="staff",
        resurvey_score=9,
        recovered=True,
    )
    lost = CaseFactory(
        brand=brand,
        location=store,
        owner=manager,
        opened_at=start,
        acknowledged_at=start + timedelta(hours=4),
        resolved_at=start + timedelta(hours=30),
        status=Case.Status.CLOSED,
        closed_at=start + timedelta(hours=31),
        resurvey_score=3,
        recovered=False,
    )
    late = CaseFactory(
        brand=brand,
        location=store,
        owner=manager,
        opened_at=now - timedelta(days=3),
        due_at=now - timedelta(days=1),
        status=Case.Status.IN_PROGRESS,
        acknowledged_at=now - timedelta(days=2),
        root_cause="staff",
    )
    fresh = CaseFactory(brand=brand, location=sibling_store, opened_at=now - timedelta(hours=1))
    old = CaseFactory(brand=brand, location=store, opened_at=now - timedelta(days=200))
    return {"won": won, "lost": lost, "late": late, "fresh": fresh, "old": old}


def test_open_and_overdue_by_location_and_owner(owner_actor, cases, store, sibling_store, manager):
    report = _report(owner_actor)
    assert report.opened == 4  # the case from 200 days ago is outside the period
    assert (report.open_now, report.overdue_now) == (3, 2)  # ...but it is open, and late
    rows = {row.key: row for row in report.by_location}
    assert (rows[store.pk].open, rows[store.pk].overdue) == (2, 2)
    assert (rows[store.pk].opened, rows[store.pk].resolved) == (3, 2)
    assert (rows[sibling_store.pk].open, rows[sibling_store.pk].opened) == (1, 1)
    owners = {row.key: row for row in report.by_owner}
    assert owners[manager.pk].overdue == 1 and owners[None].label == "Nobody"


def test_times_are_censored_for_open_cases(owner_actor, cases):
    report = _report(owner_actor)
    assert (report.acknowledge.resolved, report.acknowledge.waiting) == (3, 1)
    assert (report.resolve.resolved, report.resolve.waiting) == (2, 2)
    assert report.acknowledge.calendar.median.value == pytest.approx(4, abs=0.01)
    assert report.resolve.business is not None  # stores without opening hours: every hour


def test_recovery_rate_with_n_and_interval_and_root_causes(owner_actor, cases):
    report = _report(owner_actor)
    assert (report.resurveys_answered, report.recovered) == (2, 1)
    assert report.recovery.value == 50.0 and report.recovery.n == 2
    assert report.recovery.ci_low < 50 < report.recovery.ci_high
    assert [(row.value, row.count) for row in report.root_causes] == [("staff", 2)]
    assert report.without_root_cause == 1


def test_the_report_is_scoped_to_the_actor(cases, brand, sibling_store, make_actor):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store)
    report = _report(manager)
    assert report.opened == 1 and report.recovery.n == 0


def test_no_case_gives_no_times(owner_actor):
    report = _report(owner_actor)
    assert report.acknowledge is None and report.resolve is None and report.opened == 0


def test_dashboard_page(client, brand, owner, cases, store):
    client.force_login(owner)
    url = reverse("cases:dashboard", args=[brand.slug])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Recovery rate" in body and "50%" in body and "Staff behaviour" in body
    narrow = client.get(url, {"location": store.pk, "from": "2000-01-01", "to": "bad"})
    assert narrow.context["report"].opened == 4  # the old case too, all at the store
    assert client.get(url, {"from": "2999-01-01"}).status_code == 200
