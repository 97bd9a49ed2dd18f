"""The metrics API: scores from the rollups, grouped, with n and interval, actor-scoped."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from opencx.analytics.metrics.nps import nps
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.platform.roles import Role
from opencx.surveys.services import response_record
from tests.api.conftest import assert_error
from tests.factories import ConversationFactory, TouchpointFactory

pytestmark = pytest.mark.django_db
B = "/brands/bottega/metrics"
MAY = datetime(2026, 5, 10, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 10, 12, tzinfo=UTC)


@pytest.fixture
def answered(brand, store, sibling_store, make_survey):
    surveys = {kind: make_survey(kind) for kind in ("nps", "csat")}
    touchpoint = TouchpointFactory(brand=brand)

    def answer(kind, location, score, when, **extra):
        survey, headline, _ = surveys[kind]
        response_record(
            survey=survey,
            location=location,
            answers={headline.pk: score},
            language="it",
            created_at=when,
            **extra,
        )

    for score in (10, 9, 2):
        answer("nps", store, score, MAY, touchpoint=touchpoint)
    answer("nps", store, 7, APRIL)
    answer("nps", sibling_store, 0, MAY)
    answer("csat", store, 5, MAY)
    answer("csat", sibling_store, 1, MAY)
    return surveys, touchpoint


def test_nps_of_the_whole_brand_matches_the_raw_scores(api_as, owner, answered):
    body = api_as(owner).get(f"{B}/nps").json()

    (row,) = body["rows"]
    expected = nps([10, 9, 2, 7, 0])
    assert (row["value"], row["n"], row["ci_low"], row["ci_high"]) == (
        expected.value,
        5,
        expected.ci_low,
        expected.ci_high,
    )
    assert (row["promoters"], row["passives"], row["detractors"], row["satisfied"]) == (
        2,
        1,
        2,
        None,
    )
    assert body["metric"] == "nps"
    assert body["questions"] == [answered[0]["nps"][1].pk]


def test_nps_by_location_and_month(api_as, owner, store, sibling_store, answered):
    body = api_as(owner).get(f"{B}/nps", {"by": "location,month"}).json()

    keys = [(r["period"], r["location_id"], r["n"]) for r in body["rows"]]
    assert keys == [
        ("2026-04-01", store.pk, 1),
        ("2026-05-01", store.pk, 3),
        ("2026-05-01", sibling_store.pk, 1),
    ]
    assert body["by"] == ["location", "month"]


def test_nps_by_touchpoint_keeps_answers_without_one_apart(api_as, owner, answered):
    _, touchpoint = answered
    rows = api_as(owner).get(f"{B}/nps", {"by": "touchpoint"}).json()["rows"]
    assert [(r["touchpoint_id"], r["n"]) for r in rows] == [(None, 2), (touchpoint.pk, 3)]


def test_period_and_location_filters(api_as, owner, region, sibling_store, answered):
    client = api_as(owner)
    may = client.get(f"{B}/nps", {"since": "2026-05-01", "until": "2026-06-01"}).json()
    assert may["rows"][0]["n"] == 4
    assert may["since"] == "2026-05-01"
    torino = client.get(f"{B}/nps", {"location": sibling_store.pk}).json()
    assert torino["rows"][0]["n"] == 1


def test_csat_is_the_share_in_the_stored_satisfied_set(api_as, owner, answered):
    (row,) = api_as(owner).get(f"{B}/csat").json()["rows"]
    expected = share_from_counts(n=2, satisfied=1)
    assert (row["value"], row["n"], row["satisfied"], row["ci_low"]) == (
        50.0,
        2,
        1,
        expected.ci_low,
    )
    assert row["promoters"] is None


def test_ces_without_surveys_has_no_rows(api_as, owner, answered):
    assert api_as(owner).get(f"{B}/ces").json()["rows"] == []


def test_a_location_manager_sees_only_their_subtree(
    api_as, make_actor, store, sibling_store, answered
):
    client = api_as(make_actor(Role.LOCATION_MANAGER, store).user)
    (row,) = client.get(f"{B}/nps").json()["rows"]
    assert row["n"] == 4
    assert_error(client.get(f"{B}/nps", {"location": sibling_store.pk}), 404, "not_found")


def test_another_brand_is_404_and_anonymous_is_401(api_as, stranger, anonymous_client, answered):
    assert_error(api_as(stranger).get(f"{B}/nps"), 404, "not_found")
    assert_error(anonymous_client.get(f"{B}/nps"), 401, "unauthorized")


def test_a_survey_or_question_of_another_kind_is_refused(api_as, owner, answered):
    surveys, _ = answered
    client = api_as(owner)
    csat_survey, csat_question, _ = surveys["csat"]
    assert_error(client.get(f"{B}/nps", {"survey": csat_survey.pk}), 404, "not_found", "survey")
    assert_error(client.get(f"{B}/nps", {"question": csat_question.pk}), 400, "invalid", "question")
    one = client.get(f"{B}/csat", {"question": csat_question.pk}).json()
    assert one["questions"] == [csat_question.pk]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"by": "colour"}, "by"),
        ({"by": "month,week"}, "by"),
        ({"by": "location,location"}, "by"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
    ],
)
def test_bad_parameters_name_their_field(api_as, owner, answered, params, field):
    assert_error(api_as(owner).get(f"{B}/nps", params), 400, "invalid", field)


def test_first_response_time_summary(api_as, owner, brand, store):
    now = timezone.now()
    for hours in (1, 3):
        ConversationFactory(
            brand=brand,
            location=store,
            created_at=now - timedelta(days=2),
            first_reply_at=now - timedelta(days=2) + timedelta(hours=hours),
        )
    ConversationFactory(brand=brand, location=store, created_at=now - timedelta(days=1))

    body = api_as(owner).get(f"{B}/first-response-time", {"sla_hours": 2}).json()

    assert (body["conversations"], body["answered"], body["unanswered"]) == (3, 2, 1)
    assert body["median_hours"] == pytest.approx(3.0)
    assert (body["within_sla"], body["within_sla_n"]) == (pytest.approx(100 / 3), 3)
    assert body["method"] == "Kaplan–Meier"
