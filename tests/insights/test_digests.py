"""Daily and weekly digests: what each member's reach shows, when they are due in the brand's
time zone, and that each goes out once, through a real SMTP server."""

import socket
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from opencx.cases.models import Case, CaseEvent
from opencx.insights.digests import digest_build, digest_period, digests_send
from opencx.insights.models import DigestSent
from opencx.integrations.models import NotificationPreference
from opencx.offers.models import Playbook, PlaybookRun
from opencx.platform.actor import Actor
from opencx.platform.roles import Role
from opencx.surveys.services import response_record
from tests.factories import (
    BrandFactory,
    CaseFactory,
    LocationFactory,
    MembershipFactory,
    QuestionFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Monday 10 March 2025, 09:00 UTC: yesterday (Sunday 9) and last week (3–9 March) are due in UTC.
NOW = datetime(2025, 3, 10, 9, tzinfo=UTC)
IN_PERIOD = datetime(2025, 3, 7, 12, tzinfo=UTC)  # Friday of last week
BEFORE = datetime(2025, 2, 28, 12, tzinfo=UTC)  # the week before


def _answer(survey, headline, follow_up, location, score, when=IN_PERIOD, comment=""):
    answers = {headline.pk: score}
    if comment:
        answers[follow_up.pk] = comment
    return response_record(
        survey=survey, location=location, answers=answers, language="en", created_at=when
    )


def _wants(user, brand, digest):
    NotificationPreference.objects.update_or_create(
        user=user, brand=brand, defaults={"digest": digest}
    )


def _refused_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nps(make_survey):
    return make_survey("nps")


@pytest.fixture
def manager(brand, store):
    """The location manager of Milano Centro (a weekly digest, the default)."""
    return MembershipFactory(brand=brand, role=Role.LOCATION_MANAGER, location=store).user


@pytest.fixture
def cx_manager(brand):
    return MembershipFactory(brand=brand, role=Role.CX_MANAGER, location=None).user


@pytest.fixture
def last_week(brand, store, sibling_store, nps):
    """Milano: 10, 9, 2 ("Rude staff") last week; Torino: 0 ("Dirty floor"). A case at each
    store opened last week; Milano's is overdue now. The week before: Milano 10, 10."""
    survey, headline, follow_up = nps
    for score in (10, 9):
        _answer(survey, headline, follow_up, store, score)
    _answer(survey, headline, follow_up, store, 2, comment="Rude staff at the till")
    _answer(survey, headline, follow_up, sibling_store, 0, comment="Dirty floor everywhere")
    for score in (10, 10):
        _answer(survey, headline, follow_up, store, score, when=BEFORE)
    milano = CaseFactory(
        brand=brand,
        location=store,
        title="Rude staff complaint",
        opened_at=IN_PERIOD,
        due_at=IN_PERIOD + timedelta(days=1),
    )
    torino = CaseFactory(
        brand=brand,
        location=sibling_store,
        title="Dirty floor complaint",
        opened_at=IN_PERIOD,
        due_at=NOW + timedelta(days=3),
    )
    return milano, torino


def _actor(user, brand):
    return Actor(user=user, brand=brand, membership=user.memberships.get(brand=brand))


# --- the period and when it is due -----------------------------------------------------------


def test_periods_are_yesterday_and_last_monday_to_sunday_in_the_brands_time_zone(brand):
    weekly = digest_period(brand=brand, frequency="weekly", now=NOW)
    daily = digest_period(brand=brand, frequency="daily", now=NOW)

    assert (weekly.start, weekly.end) == (date(2025, 3, 3), date(2025, 3, 9))
    assert (weekly.before().start, weekly.before().end) == (date(2025, 2, 24), date(2025, 3, 2))
    assert (daily.start, daily.end) == (date(2025, 3, 9), date(2025, 3, 9))
    assert weekly.due_at == daily.due_at == datetime(2025, 3, 10, 7, tzinfo=UTC)
    with pytest.raises(ValueError):
        digest_period(brand=brand, frequency="monthly", now=NOW)


def test_due_time_follows_each_brands_clock_tokyo_before_los_angeles(db):
    tokyo = BrandFactory(slug="tokyo", timezone="Asia/Tokyo")
    los_angeles = BrandFactory(slug="la", timezone="America/Los_Angeles")
    noon = datetime(2025, 3, 10, 12, tzinfo=UTC)  # Tokyo: Mon 21:00; Los Angeles: Mon 05:00 PDT

    for frequency in ("daily", "weekly"):
        in_tokyo = digest_period(brand=tokyo, frequency=frequency, now=noon)
        in_la = digest_period(brand=los_angeles, frequency=frequency, now=noon)
        assert in_tokyo.end == in_la.end == date(2025, 3, 9)
        assert noon >= in_tokyo.due_at  # 07:00 JST = Sunday 22:00 UTC
        assert noon < in_la.due_at == datetime(2025, 3, 10, 14, tzinfo=UTC)  # 07:00 PDT

    # Sunday afternoon in Los Angeles: the last finished week is still the one before.
    sunday = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    assert digest_period(brand=tokyo, frequency="weekly", now=sunday).start == date(2025, 3, 3)
    assert digest_period(brand=los_angeles, frequency="weekly", now=sunday).start == date(
        2025, 2, 24
    )


def test_each_brand_is_sent_when_its_own_morning_comes(smtp_server):
    people = {}
    for slug, zone in (("tokyo", "Asia/Tokyo"), ("la", "America/Los_Angeles")):
        brand = BrandFactory(slug=slug, name=slug.upper(), timezone=zone)
        store = LocationFactory(brand=brand, timezone=zone)
        people[slug] = MembershipFactory(brand=brand, role=Role.OWNER).user
        _wants(people[slug], brand, "daily")
        survey = SurveyFactory(brand=brand, kind="nps")
        headline = QuestionFactory(
            survey=survey, kind="nps", scale_min=0, scale_max=10, satisfied_values=[9, 10]
        )
        sunday_noon = datetime(2025, 3, 9, 12, tzinfo=ZoneInfo(zone))
        response_record(
            survey=survey,
            location=store,
            answers={headline.pk: 9},
            language="en",
            created_at=sunday_noon,
        )

    noon = datetime(2025, 3, 10, 12, tzinfo=UTC)
    first = digests_send(now=noon, frequencies=("daily",))
    assert {(o.brand, o.status) for o in first} == {("tokyo", "sent"), ("la", "not_due")}
    assert [m["To"] for m in smtp_server.messages] == [people["tokyo"].email]

    later = digests_send(now=noon + timedelta(hours=2, minutes=30), frequencies=("daily",))
    assert {(o.brand, o.status) for o in later} == {("tokyo", "already_sent"), ("la", "sent")}
    assert [m["To"] for m in smtp_server.messages] == [people["tokyo"].email, people["la"].email]


# --- what a digest shows ---------------------------------------------------------------------


def test_a_location_managers_digest_lists_only_their_stores(brand, manager, last_week, smtp_server):
    milano, torino = last_week

    outcomes = digests_send(now=NOW, frequencies=("weekly",))

    assert [(o.email, o.status) for o in outcomes] == [(manager.email, "sent")]
    [message] = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Milano Centro" in body
        assert "Torino" not in body and "Dirty floor" not in body
        assert f"/b/bottega/cases/{milano.pk}/" in body
        assert f"/cases/{torino.pk}/" not in body
        assert "Rude staff at the till" in body
    assert message["Subject"].strip().startswith("[Bottega] Weekly digest, 3–9 Mar 2025: NPS")
    assert "http" in text and f"/b/bottega/cases/{milano.pk}/" in text


def test_a_cx_managers_digest_covers_the_brand(brand, cx_manager, last_week, nps):
    digest = digest_build(
        _actor(cx_manager, brand),
        period=digest_period(brand=brand, frequency="weekly", now=NOW),
        now=NOW,
    )

    assert [line.name for line in digest.locations] == ["Milano Centro", "Torino"]
    assert digest.scope == "the whole brand"
    assert digest.responses == 4 and digest.nps.n == 4
    assert digest.new_case_count == 2 and digest.open_count == 2
    assert [case.title for case in digest.overdue_cases] == ["Rude staff complaint"]
    # Harshest first: Torino's 0 before Milano's 2.
    assert [c.comment for c in digest.comments] == [
        "Dirty floor everywhere",
        "Rude staff at the till",
    ]
    assert digest.csat is None  # the brand has no CSAT survey


def test_scores_carry_n_interval_thin_flag_and_an_honest_change(
    brand, manager, last_week, make_survey, store
):
    survey, headline, follow_up = make_survey("csat")
    _answer(survey, headline, follow_up, store, 5)

    digest = digest_build(
        _actor(manager, brand),
        period=digest_period(brand=brand, frequency="weekly", now=NOW),
        now=NOW,
    )

    # Milano: 10, 9, 2 → NPS 33 (n=3); the week before 10, 10 → 100 (n=2).
    assert round(digest.nps.value) == 33 and digest.nps.n == 3
    assert digest.nps_text.startswith("33 (n=3, 95% interval ")
    assert digest.nps_text.endswith("thin sample)")
    assert digest.nps_change is not None and not digest.nps_change.significant
    assert digest.change_text.endswith("not significant")
    assert "vs the week before" in digest.change_text
    assert digest.csat is not None and digest.csat.n == 1
    assert digest.csat_text.startswith("100% (n=1")
    [line] = digest.locations
    assert line.is_thin and line.csat is not None


def test_resolved_won_back_and_playbook_outcomes(brand, manager, last_week, store, nps):
    milano, _torino = last_week
    Case.objects.filter(pk=milano.pk).update(
        status=Case.Status.RESOLVED, resolved_at=IN_PERIOD, recovered=True, resurvey_score=9
    )
    CaseEvent.objects.create(case=milano, kind=CaseEvent.Kind.OUTCOME, at=IN_PERIOD)
    playbook = Playbook.objects.create(brand=brand, segment="promoter", action="review")
    PlaybookRun.objects.create(
        brand=brand,
        playbook=playbook,
        response=store.responses.filter(score=10).first(),
        location=store,
        segment="promoter",
        action="review",
        status=PlaybookRun.Status.SENT,
        token="t" * 32,
        created_at=IN_PERIOD,
    )

    digest = digest_build(
        _actor(manager, brand),
        period=digest_period(brand=brand, frequency="weekly", now=NOW),
        now=NOW,
    )

    assert (digest.resolved, digest.resurveys_answered, digest.won_back) == (1, 1, 1)
    assert digest.overdue_count == 0
    [line] = digest.playbooks
    assert (line.segment, line.runs, line.sent) == ("Promoters (9–10)", 1, 1)


# --- once, and only when there is something to say --------------------------------------------


def test_running_twice_sends_one_mail(brand, manager, last_week, smtp_server):
    digests_send(now=NOW)
    again = digests_send(now=NOW + timedelta(hours=1))

    assert len(smtp_server.messages) == 1
    assert [o.status for o in again] == ["already_sent"]
    assert DigestSent.objects.filter(user=manager, frequency="weekly", empty=False).count() == 1


def test_an_smtp_failure_leaves_no_claim_and_the_next_run_retries(
    brand, manager, last_week, smtp_server
):
    with override_settings(EMAIL_PORT=_refused_port()):  # the mail server is down
        [failed] = digests_send(now=NOW)

    assert failed.status == "failed"
    assert not DigestSent.objects.exists()

    [retried] = digests_send(now=NOW + timedelta(hours=1))

    assert retried.status == "sent"
    assert len(smtp_server.messages) == 1
    assert DigestSent.objects.get(user=manager).empty is False


def test_a_period_without_activity_sends_nothing(brand, manager, store, nps, smtp_server):
    survey, headline, follow_up = nps
    _answer(survey, headline, follow_up, store, 3, when=BEFORE)  # the week before only
    CaseFactory(brand=brand, location=store, opened_at=BEFORE, due_at=BEFORE)  # overdue, old

    [outcome] = digests_send(now=NOW, frequencies=("weekly",))

    assert outcome.status == "empty"
    assert smtp_server.messages == []
    assert DigestSent.objects.get(user=manager).empty  # not built again every hour
    assert [o.status for o in digests_send(now=NOW + timedelta(hours=1))] == ["already_sent"]


def test_activity_elsewhere_is_no_activity_for_a_location_manager(
    brand, manager, sibling_store, nps, smtp_server
):
    survey, headline, follow_up = nps
    _answer(survey, headline, follow_up, sibling_store, 0, comment="Dirty floor everywhere")

    assert [o.status for o in digests_send(now=NOW)] == ["empty"]
    assert smtp_server.messages == []


def test_preferences_choose_who_gets_which_digest(brand, manager, cx_manager, last_week):
    _wants(cx_manager, brand, "daily")
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER).user
    _wants(viewer, brand, "off")
    UserFactory()  # not a member

    outcomes = digests_send(now=NOW, dry_run=True)

    assert sorted((o.email, o.frequency) for o in outcomes) == sorted(
        [(manager.email, "weekly"), (cx_manager.email, "daily")]
    )
    assert not DigestSent.objects.exists()  # a dry run writes nothing


def test_a_member_of_two_brands_gets_one_digest_per_brand(
    brand, manager, last_week, make_survey, smtp_server
):
    other = BrandFactory(slug="other", name="Other")
    store = LocationFactory(brand=other, name="Elsewhere")
    MembershipFactory(brand=other, user=manager, role=Role.OWNER)
    survey, headline, follow_up = make_survey("nps", of_brand=other)
    _answer(survey, headline, follow_up, store, 8)

    outcomes = digests_send(now=NOW)

    assert sorted((o.brand, o.status) for o in outcomes) == [
        ("bottega", "sent"),
        ("other", "sent"),
    ]
    subjects = sorted(m["Subject"].strip() for m in smtp_server.messages)
    assert subjects[0].startswith("[Bottega] ") and subjects[1].startswith("[Other] ")
    assert all(m["To"] == manager.email for m in smtp_server.messages)
