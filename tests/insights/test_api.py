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


# --- library metrics on the app's rows --------------------------------------------------------


def _hours(body, statistic, clock="calendar"):
    (row,) = [r for r in body["rows"] if r["statistic"] == statistic and r["clock"] == clock]
    return row


def test_resolution_time_censors_unresolved_and_uses_opening_hours(api_as, owner, brand, store):
    from opencx.analytics.calendar import BusinessCalendar
    from opencx.analytics.metrics.response_times import summarize_durations

    store.opening_hours = {str(day): [["09:00", "17:00"]] for day in range(7)}
    store.save()
    # Monday 1 June 2026, 08:00 in Rome (06:00 UTC); resolved 2, 4 and 10 calendar hours later.
    opened = datetime(2026, 6, 1, 6, tzinfo=UTC)
    for hours in (2, 4, 10):
        ConversationFactory(
            brand=brand,
            location=store,
            created_at=opened,
            resolved_at=opened + timedelta(hours=hours),
            status="resolved",
        )
    ConversationFactory(brand=brand, location=store, created_at=opened, status="open")
    ConversationFactory(  # resolved once, then reopened: still waiting
        brand=brand,
        location=store,
        created_at=opened,
        resolved_at=opened + timedelta(hours=1),
        status="open",
    )

    body = api_as(owner).get(f"{B}/resolution-time", {"since": "2026-06-01"}).json()

    assert (body["conversations"], body["resolved"], body["waiting"]) == (5, 3, 2)
    now = timezone.now()
    censored = (now - opened).total_seconds() / 3600
    calendar = summarize_durations([2, 4, 10, censored, censored], [True] * 3 + [False] * 2)
    median = _hours(body, "median")
    assert median["value"] == pytest.approx(calendar.median.value)
    assert median["n"] == 5
    assert _hours(body, "mean")["value"] == pytest.approx(calendar.mean.value)
    # In business hours (09:00–17:00 Rome) the clock starts at 09:00: 1, 3 and 8 hours.
    rome = BusinessCalendar.weekly("Europe/Rome", {d: ["09:00-17:00"] for d in range(7)})
    open_hours = rome.business_hours(opened, now)
    business = summarize_durations([1, 3, 8, open_hours, open_hours], [True] * 3 + [False] * 2)
    assert _hours(body, "median", "business")["value"] == pytest.approx(business.median.value)
    assert _hours(body, "mean", "business")["value"] == pytest.approx((1 + 3 + 8) / 3)
    assert body["business_hours_known"] is True


@pytest.fixture
def shoppers(brand, store, sibling_store):
    """Orders of known customers: at Milano, A twice in April and once in May, B once in May;
    at Torino, C twice in May. One anonymous order at Milano."""
    from tests.factories import ContactFactory, OrderFactory

    a, b, c = (ContactFactory(brand=brand) for _ in range(3))
    for contact, location, when in (
        (a, store, datetime(2026, 4, 2, 10, tzinfo=UTC)),
        (a, store, datetime(2026, 4, 20, 10, tzinfo=UTC)),
        (a, store, datetime(2026, 5, 3, 10, tzinfo=UTC)),
        (b, store, datetime(2026, 5, 4, 10, tzinfo=UTC)),
        (c, sibling_store, datetime(2026, 5, 5, 10, tzinfo=UTC)),
        (c, sibling_store, datetime(2026, 5, 6, 10, tzinfo=UTC)),
        (None, store, datetime(2026, 5, 7, 10, tzinfo=UTC)),
    ):
        OrderFactory(brand=brand, location=location, contact=contact, placed_at=when)
    return a, b, c


def test_repeat_purchase_rate_matches_the_library(api_as, owner, shoppers):
    from opencx.analytics.metrics.churn import repeat_purchase_rate

    body = api_as(owner).get(f"{B}/repeat-purchase").json()
    (row,) = body["rows"]
    expected = repeat_purchase_rate(customers=3, repeat_customers=2)
    assert (row["value"], row["n"], row["hits"], row["ci_low"], row["ci_high"]) == (
        expected.value,
        3,
        2,
        expected.ci_low,
        expected.ci_high,
    )
    may = api_as(owner).get(f"{B}/repeat-purchase", {"since": "2026-05-01"}).json()
    assert (may["rows"][0]["n"], may["rows"][0]["hits"]) == (3, 1)


def test_cohort_retention_by_month(api_as, owner, shoppers):
    from opencx.analytics.metrics.churn import percent_score

    body = api_as(owner).get(f"{B}/cohort-retention", {"until": "2026-06-01"}).json()
    cells = [(r["cohort"], r["periods_since"], r["retained"], r["n"]) for r in body["rows"]]
    assert cells == [("2026-04-01", 0, 1, 1), ("2026-04-01", 1, 1, 1), ("2026-05-01", 0, 2, 2)]
    expected = percent_score(1, 1)
    assert (body["rows"][1]["value"], body["rows"][1]["ci_low"]) == (
        expected.value,
        expected.ci_low,
    )
    assert_error(api_as(owner).get(f"{B}/cohort-retention", {"mode": "x"}), 400, "invalid", "mode")


def test_order_metrics_follow_the_location_managers_subtree(
    api_as, make_actor, store, sibling_store, shoppers
):
    client = api_as(make_actor(Role.LOCATION_MANAGER, store).user)
    (row,) = client.get(f"{B}/repeat-purchase").json()["rows"]
    assert (row["n"], row["hits"]) == (2, 1)
    assert_error(
        client.get(f"{B}/repeat-purchase", {"location": sibling_store.pk}), 404, "not_found"
    )


@pytest.fixture
def sessions(brand):
    """Shop A: s1 one page view (bounce), s2 one view over 30 s (engaged), s3 two views and a
    purchase. Shop B: s4 one page view (bounce)."""
    from tests.factories import LocationFactory, WebEventFactory

    shop = LocationFactory(brand=brand, kind="online", code="shop")
    other = LocationFactory(brand=brand, kind="online", code="shop-b")
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    for session, location, kind, seconds in (
        ("s1", shop, "page_view", 0),
        ("s2", shop, "page_view", 0),
        ("s2", shop, "search", 30),
        ("s3", shop, "page_view", 0),
        ("s3", shop, "page_view", 3),
        ("s3", shop, "purchase", 5),
        ("s4", other, "page_view", 0),
    ):
        WebEventFactory(
            brand=brand,
            location=location,
            session_id=session,
            kind=kind,
            occurred_at=start + timedelta(seconds=seconds),
        )
    return shop, other


def test_conversion_is_sessions_with_a_purchase(api_as, owner, sessions):
    from opencx.analytics.metrics.conversion import conversion_rate

    shop, other = sessions
    body = api_as(owner).get(f"{B}/conversion").json()
    expected = conversion_rate(conversions=1, denominator=4, per="sessions")
    (row,) = body["rows"]
    assert (row["value"], row["n"], row["hits"], row["ci_low"]) == (25.0, 4, 1, expected.ci_low)
    by = api_as(owner).get(f"{B}/conversion", {"by": "location"}).json()["rows"]
    assert [(r["location_id"], r["n"], r["hits"]) for r in by] == [
        (shop.pk, 3, 1),
        (other.pk, 1, 0),
    ]


def test_bounce_is_ga4_not_engaged(api_as, owner, sessions):
    from opencx.analytics.metrics.conversion import ga4_bounce_rate

    shop, other = sessions
    (row,) = api_as(owner).get(f"{B}/bounce").json()["rows"]
    expected = ga4_bounce_rate(sessions=4, engaged_sessions=2)
    assert (row["value"], row["n"], row["hits"], row["ci_high"]) == (
        50.0,
        4,
        2,
        expected.ci_high,
    )
    by = api_as(owner).get(f"{B}/bounce", {"by": "location"}).json()["rows"]
    assert [(r["location_id"], r["value"]) for r in by] == [
        (shop.pk, pytest.approx(100 / 3)),
        (other.pk, 100.0),
    ]
    assert_error(api_as(owner).get(f"{B}/bounce", {"by": "week"}), 400, "invalid", "by")


def test_web_metrics_are_scoped(api_as, make_actor, stranger, sessions):
    shop, _ = sessions
    client = api_as(make_actor(Role.LOCATION_MANAGER, shop).user)
    (row,) = client.get(f"{B}/conversion").json()["rows"]
    assert row["n"] == 3
    for metric in ("conversion", "bounce", "repeat-purchase", "cohort-retention", "clv"):
        assert_error(api_as(stranger).get(f"{B}/{metric}"), 404, "not_found")
    assert_error(api_as(stranger).get(f"{B}/resolution-time"), 404, "not_found")


def _customer_base(brand, store, seed):
    """50 customers from June 2025: each buys (around their own typical spend), then drops out
    with probability 0.35 or buys again after an exponential gap (mean 25 days), until June
    2026 (seeded)."""
    import random

    from tests.factories import ContactFactory, OrderFactory

    rng = random.Random(seed)
    start = datetime(2025, 6, 1, 12, tzinfo=UTC)
    end = datetime(2026, 6, 1, tzinfo=UTC)
    for _ in range(50):
        contact = ContactFactory(brand=brand)
        moment = start + timedelta(days=rng.randrange(0, 120))
        spend = rng.gammavariate(4, 12)  # each customer's own typical spend
        while moment < end:
            total = f"{spend * rng.uniform(0.5, 1.5):.2f}"
            OrderFactory(
                brand=brand, location=store, contact=contact, placed_at=moment, total=total
            )
            if rng.random() < 0.35:
                break
            moment += timedelta(days=rng.expovariate(1 / 25))


def test_clv_matches_the_library_on_the_same_orders(api_as, owner, brand, store):
    _customer_base(brand, store, seed=4)
    import pandas as pd

    from opencx.analytics.metrics import clv as model
    from opencx.contacts.models import Order

    body = api_as(owner).get(f"{B}/clv", {"until": "2026-06-01", "horizon_months": 6}).json()

    orders = pd.DataFrame(
        [(o.contact_id, o.placed_at, float(o.total)) for o in Order.objects.filter(brand=brand)],
        columns=["customer_id", "timestamp", "total"],
    )
    orders["timestamp"] = pd.to_datetime(orders["timestamp"], utc=True)
    rfm = model.rfm_summary(
        orders,
        unit="weeks",
        monetary="total",
        observation_end=pd.Timestamp("2026-06-01", tz="UTC"),
    )
    args = (rfm["frequency"], rfm["recency"], rfm["T"])
    bg = model.fit_bg_nbd(*args, unit="weeks")
    gg = model.fit_gamma_gamma(rfm["frequency"], rfm["monetary_value"])
    clv = model.clv_bg_nbd_gamma_gamma(
        bg.params, gg.params, *args, rfm["monetary_value"], horizon_months=6
    )
    assert body["customers"] == 50
    assert body["bg_nbd"]["r"] == pytest.approx(bg.params.r, rel=1e-6)
    assert body["gamma_gamma"]["q"] == pytest.approx(gg.params.q, rel=1e-6)
    assert body["clv"] == pytest.approx(float(clv.mean()), rel=1e-6)
    assert body["rows"][1] == {
        "statistic": "clv",
        "value": pytest.approx(float(clv.mean()), rel=1e-6),
        "n": 50,
        "ci_low": None,
        "ci_high": None,
    }
    assert body["currency"] == "EUR" and body["horizon_months"] == 6


def test_clv_refuses_too_few_customers(api_as, owner, shoppers):
    body = assert_error(api_as(owner).get(f"{B}/clv"), 422, "invalid")
    assert "at least 20 customers" in body["message"]


def test_clv_refuses_a_fit_it_cannot_use(api_as, owner, brand, store):
    _customer_base(brand, store, seed=0)  # the dropout MLE runs off to a, b → ∞
    body = assert_error(api_as(owner).get(f"{B}/clv", {"until": "2026-06-01"}), 422, "invalid")
    assert body["message"].startswith("The BG/NBD fit did not converge")


def test_churn_and_retention_from_orders(api_as, owner, shoppers):
    from opencx.analytics.metrics.churn import churn_rate, customer_retention_rate

    # Active = ordered in the 30 days before. On 1 May only A is active (April orders); on
    # 1 June A, B and C are (May orders): nobody lost, two arrived.
    body = (
        api_as(owner)
        .get(f"{B}/churn", {"since": "2026-05-01", "until": "2026-06-01", "activity_days": 30})
        .json()
    )
    assert (body["customers_start"], body["customers_end"]) == (1, 3)
    assert (body["new_or_returning"], body["lost"]) == (2, 0)
    expected = churn_rate(customers_start=1, customers_lost=0)
    assert (body["churn"]["value"], body["churn"]["ci_high"]) == (expected.value, expected.ci_high)
    retention = customer_retention_rate(customers_start=1, customers_end=3, new_customers=2)
    assert body["retention"]["value"] == retention.value == 100.0

    # On 1 July (window June) nobody is active: all three May customers are lost.
    later = (
        api_as(owner)
        .get(f"{B}/churn", {"since": "2026-06-01", "until": "2026-07-01", "activity_days": 30})
        .json()
    )
    assert (later["customers_start"], later["lost"], later["churn"]["value"]) == (3, 3, 100.0)


def test_churn_is_scoped_to_the_location_managers_subtree(api_as, make_actor, store, shoppers):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    body = (
        api_as(manager.user)
        .get(f"{B}/churn", {"since": "2026-05-01", "until": "2026-06-01", "activity_days": 30})
        .json()
    )
    assert body["customers_end"] == 2  # A and B ordered at Milano; C only at Torino


# --- CSAT and CES variants --------------------------------------------------------------------


def test_csat_default_is_the_share_and_mean_matches_the_library(api_as, owner, answered):
    from opencx.analytics.metrics.csat import ONE_TO_FIVE, csat_mean

    client = api_as(owner)
    share = client.get(f"{B}/csat").json()
    assert share["variant"] == "share"
    assert share["rows"] == client.get(f"{B}/csat", {"variant": "share"}).json()["rows"]
    body = client.get(f"{B}/csat", {"variant": "mean"}).json()
    (row,) = body["rows"]
    expected = csat_mean([5, 1], ONE_TO_FIVE)
    assert (row["value"], row["n"], row["ci_low"], row["ci_high"]) == (
        3.0,
        2,
        pytest.approx(expected.ci_low),
        pytest.approx(expected.ci_high),
    )
    assert body["variant"] == "mean"
    assert client.get(f"{B}/nps").json()["variant"] == "nps"


def test_csat_mean_refuses_to_mix_scales(api_as, owner, answered, make_survey, store):
    ten, ten_question, _ = make_survey("csat", satisfied=[9, 10])
    ten_question.scale_max = 10
    ten_question.save()
    response_record(
        survey=ten, location=store, answers={ten_question.pk: 10}, language="it", created_at=MAY
    )
    client = api_as(owner)
    body = assert_error(client.get(f"{B}/csat", {"variant": "mean"}), 400, "invalid", "variant")
    assert "different scales" in body["message"]
    (row,) = client.get(f"{B}/csat", {"variant": "mean", "survey": ten.pk}).json()["rows"]
    assert (row["value"], row["n"], row["ci_low"]) == (10.0, 1, None)  # one answer: no interval
    (share,) = client.get(f"{B}/csat").json()["rows"]  # shares of stored sets do mix
    assert (share["n"], share["satisfied"]) == (3, 2)


@pytest.fixture
def effort(brand, store, sibling_store, make_survey):
    """CES 2.0 (1–7, higher is better, good {5, 6, 7}): Milano 7, 6, 4, 2 in May and 1 in
    April; Torino 5, 3 in May. A CES 1.0 survey (1–5, lower is better, good {1, 2}): Milano
    1, 2, 3, 5 in May."""
    from opencx.surveys.models import Question

    two, two_question, _ = make_survey("ces")
    one, one_question, _ = make_survey("ces", satisfied=[1, 2])
    one_question.scale_max = 5
    one_question.polarity = Question.Polarity.LOWER_IS_BETTER
    one_question.save()

    def answer(survey, question, location, score, when=MAY):
        response_record(
            survey=survey,
            location=location,
            answers={question.pk: score},
            language="it",
            created_at=when,
        )

    for score in (7, 6, 4, 2):
        answer(two, two_question, store, score)
    answer(two, two_question, store, 1, APRIL)
    for score in (5, 3):
        answer(two, two_question, sibling_store, score)
    for score in (1, 2, 3, 5):
        answer(one, one_question, store, score)
    return {"ces2": (two, two_question), "ces1": (one, one_question)}


@pytest.mark.parametrize("variant", ["percent_agree", "mean", "net"])
def test_ces_variants_match_the_library(api_as, owner, effort, variant):
    from opencx.analytics.metrics.ces import CES_2, ces

    survey, _ = effort["ces2"]
    params = {"survey": survey.pk} | ({"variant": variant} if variant != "percent_agree" else {})
    body = api_as(owner).get(f"{B}/ces", params).json()
    (row,) = body["rows"]
    expected = ces([7, 6, 4, 2, 1, 5, 3], CES_2, variant=variant)
    assert body["variant"] == variant
    assert (row["value"], row["n"]) == (pytest.approx(expected.value), 7)
    assert (row["ci_low"], row["ci_high"]) == (
        pytest.approx(expected.ci_low),
        pytest.approx(expected.ci_high),
    )
    assert row["satisfied"] == 3  # 7, 6, 5 on the good side
    assert row["dissatisfied"] == (3 if variant == "net" else None)  # 3, 2, 1 below the middle


def test_ces_net_never_assumes_the_direction(api_as, owner, effort):
    from opencx.analytics.metrics.ces import CES_1, ces

    survey, question = effort["ces1"]
    (row,) = api_as(owner).get(f"{B}/ces", {"survey": survey.pk, "variant": "net"}).json()["rows"]
    expected = ces([1, 2, 3, 5], CES_1, variant="net")  # lower is better: 1, 2 good; 5 bad
    assert (row["value"], row["satisfied"], row["dissatisfied"]) == (expected.value, 2, 1)
    assert row["value"] == 25.0
    (mean,) = (
        api_as(owner).get(f"{B}/ces", {"question": question.pk, "variant": "mean"}).json()["rows"]
    )
    assert mean["value"] == 2.75  # on the scale as given, never flipped


def test_ces_net_over_several_surveys_uses_each_questions_sides(api_as, owner, effort):
    from opencx.analytics.metrics.ces import net_from_counts

    body = api_as(owner).get(f"{B}/ces", {"variant": "net"}).json()
    (row,) = body["rows"]
    # CES 2.0: good 7, 6, 5; bad (below the midpoint 4) 2, 1, 3. CES 1.0: good 1, 2; bad 5.
    assert (row["n"], row["satisfied"], row["dissatisfied"]) == (11, 5, 4)
    assert row["value"] == pytest.approx(net_from_counts(n=11, good=5, bad=4).value)
    assert len(body["questions"]) == 2
    mean = api_as(owner).get(f"{B}/ces", {"variant": "mean"})
    assert_error(mean, 400, "invalid", "variant")  # 1–7 and 1–5 cannot share a mean


def test_ces_net_groups_and_filters_like_the_rollups(
    api_as, owner, effort, store, sibling_store, make_actor
):
    from opencx.analytics.metrics.ces import CES_2, ces

    survey, _ = effort["ces2"]
    client = api_as(owner)
    params = {"survey": survey.pk, "variant": "net", "by": "location,month"}
    rows = client.get(f"{B}/ces", params).json()["rows"]
    assert [(r["period"], r["location_id"], r["n"]) for r in rows] == [
        ("2026-04-01", store.pk, 1),
        ("2026-05-01", store.pk, 4),
        ("2026-05-01", sibling_store.pk, 2),
    ]
    assert rows[1]["value"] == pytest.approx(ces([7, 6, 4, 2], CES_2, variant="net").value)
    shares = client.get(f"{B}/ces", {**params, "variant": "percent_agree"}).json()["rows"]
    assert [(r["n"], r["satisfied"]) for r in rows] == [(r["n"], r["satisfied"]) for r in shares]
    may = client.get(f"{B}/ces", {**params, "by": "", "since": "2026-05-01"}).json()["rows"]
    assert may[0]["n"] == 6
    manager = api_as(make_actor(Role.LOCATION_MANAGER, sibling_store).user)
    (torino,) = manager.get(f"{B}/ces", {**params, "by": ""}).json()["rows"]
    assert (torino["n"], torino["satisfied"], torino["dissatisfied"]) == (2, 1, 1)
    assert_error(manager.get(f"{B}/ces", {**params, "location": store.pk}), 404, "not_found")


def test_ces_net_counts_days_in_each_locations_time_zone(
    api_as, owner, brand, region, store, make_survey
):
    """An answer at 02:00 UTC on 1 June is still 31 May in New York: the net index (from the
    answers) and the rollups put it on the same day."""
    from tests.factories import LocationFactory

    new_york = LocationFactory(parent=region, code="nyc", timezone="America/New_York")
    survey, question, _ = make_survey("ces")
    for location, score, when in (
        (new_york, 7, datetime(2026, 6, 1, 2, tzinfo=UTC)),
        (new_york, 1, datetime(2026, 6, 1, 12, tzinfo=UTC)),
        (store, 2, datetime(2026, 5, 31, 22, 30, tzinfo=UTC)),  # 00:30 on 1 June in Rome
    ):
        response_record(
            survey=survey,
            location=location,
            answers={question.pk: score},
            language="it",
            created_at=when,
        )
    client = api_as(owner)
    params = {"by": "location,day", "survey": survey.pk}
    net = client.get(f"{B}/ces", {**params, "variant": "net"}).json()["rows"]
    share = client.get(f"{B}/ces", params).json()["rows"]
    keys = [(r["period"], r["location_id"], r["n"], r["satisfied"]) for r in net]
    assert keys == [(r["period"], r["location_id"], r["n"], r["satisfied"]) for r in share]
    assert keys == [
        ("2026-05-31", new_york.pk, 1, 1),
        ("2026-06-01", store.pk, 1, 0),
        ("2026-06-01", new_york.pk, 1, 0),
    ]
    june = client.get(f"{B}/ces", {**params, "variant": "net", "since": "2026-06-01"}).json()
    assert sum(r["n"] for r in june["rows"]) == 2


@pytest.mark.parametrize(
    "path, params",
    [
        ("csat", {"variant": "net"}),
        ("csat", {"variant": "percent_agree"}),
        ("ces", {"variant": "share"}),
        ("ces", {"variant": "NET"}),
        ("ces", {"variant": ""}),
    ],
)
def test_an_unknown_variant_is_refused_naming_the_field(api_as, owner, answered, path, params):
    assert_error(api_as(owner).get(f"{B}/{path}", params), 422, "invalid", "variant")


def test_ces_net_refuses_a_question_without_a_usable_scale(api_as, owner, brand, make_survey):
    from opencx.surveys.models import Question
    from tests.factories import QuestionFactory

    survey, question, _ = make_survey("ces")
    rating = QuestionFactory(
        survey=survey, position=2, kind="rating", scale_min=None, scale_max=None
    )
    client = api_as(owner)
    body = assert_error(
        client.get(f"{B}/ces", {"question": rating.pk, "variant": "net"}),
        422,
        "invalid",
        "question",
    )
    assert "no scale" in body["message"]
    question.polarity = Question.Polarity.LOWER_IS_BETTER  # but 5–7 stored as the good side
    question.save()
    body = assert_error(
        client.get(f"{B}/ces", {"survey": survey.pk, "variant": "net"}), 422, "invalid", "question"
    )
    assert "polarity" in body["message"]


def test_ces_net_and_bounce_are_404_for_another_brand(api_as, stranger, effort):
    assert_error(api_as(stranger).get(f"{B}/ces", {"variant": "net"}), 404, "not_found")
    params = {"definition": "single_page"}
    assert_error(api_as(stranger).get(f"{B}/bounce", params), 404, "not_found")


# --- bounce: GA4 and the older single-page definition, named apart ----------------------------


def _more_sessions(brand, shop):
    """s5: a page view and a search 5 s later (GA4 bounce, not a UA one); s6: only a search (no
    landing page: no UA session)."""
    from tests.factories import WebEventFactory

    start = datetime(2026, 5, 2, 9, tzinfo=UTC)
    for session, kind, seconds in (
        ("s5", "page_view", 0),
        ("s5", "search", 5),
        ("s6", "search", 0),
    ):
        WebEventFactory(
            brand=brand,
            location=shop,
            session_id=session,
            kind=kind,
            occurred_at=start + timedelta(seconds=seconds),
        )


def test_single_page_bounce_is_universal_analytics_and_named_apart(api_as, owner, brand, sessions):
    from opencx.analytics.metrics.conversion import ga4_bounce_rate, ua_bounce_rate

    shop, other = sessions
    _more_sessions(brand, shop)
    client = api_as(owner)
    ga4 = client.get(f"{B}/bounce").json()
    ua = client.get(f"{B}/bounce", {"definition": "single_page"}).json()
    assert (ga4["metric"], ua["metric"]) == ("bounce", "bounce-single-page")
    assert ga4["definition"].startswith("GA4") and ua["definition"].startswith("Universal")
    assert client.get(f"{B}/bounce", {"definition": "ga4"}).json() == ga4
    # GA4: s2 (30 s) and s3 (2 views, purchase) engaged; s1, s4, s5, s6 bounce.
    (row,) = ga4["rows"]
    expected = ga4_bounce_rate(sessions=6, engaged_sessions=2)
    assert (row["n"], row["hits"], row["value"]) == (6, 4, pytest.approx(expected.value))
    # UA: sessions with a page view s1–s5; single page, no interaction: s1 and s4.
    (row,) = ua["rows"]
    expected = ua_bounce_rate(sessions=5, bounced_sessions=2)
    assert (row["n"], row["hits"], row["value"]) == (5, 2, 40.0)
    assert (row["ci_low"], row["ci_high"]) == (expected.ci_low, expected.ci_high)
    by = client.get(f"{B}/bounce", {"definition": "single_page", "by": "location"}).json()
    assert [(r["location_id"], r["n"], r["hits"]) for r in by["rows"]] == [
        (shop.pk, 4, 1),
        (other.pk, 1, 1),
    ]


def test_single_page_bounce_of_nothing_and_bad_definitions(api_as, owner, sessions):
    client = api_as(owner)
    params = {"definition": "single_page", "since": "2027-01-01"}
    (row,) = client.get(f"{B}/bounce", params).json()["rows"]
    assert (row["n"], row["value"], row["hits"]) == (0, None, 0)
    assert client.get(f"{B}/bounce", {**params, "by": "location"}).json()["rows"] == []
    (ga4,) = client.get(f"{B}/bounce", {"since": "2027-01-01"}).json()["rows"]
    assert (ga4["n"], ga4["value"]) == (0, None)
    for definition in ("ua", "GA4", ""):
        response = client.get(f"{B}/bounce", {"definition": definition})
        assert_error(response, 422, "invalid", "definition")


def test_single_page_bounce_follows_the_location_managers_subtree(api_as, make_actor, sessions):
    shop, other = sessions
    client = api_as(make_actor(Role.LOCATION_MANAGER, other).user)
    (row,) = client.get(f"{B}/bounce", {"definition": "single_page"}).json()["rows"]
    assert (row["n"], row["hits"]) == (1, 1)


# --- usability figures from the caller's counts -----------------------------------------------


def test_task_success_matches_the_library(api_as, owner, brand):
    from opencx.analytics.metrics.ux import task_success_rate

    client = api_as(owner)
    response = client.post(f"{B}/task-success", {"successes": 4, "attempts": 5})
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = task_success_rate(successes=4, attempts=5)
    assert body == {
        "metric": "task-success",
        "value": 80.0,
        "n": 5,
        "ci_low": expected.ci_low,
        "ci_high": expected.ci_high,
        "confidence": 0.95,
        "method": "adjusted Wald (Agresti–Coull)",
    }
    wilson = client.post(
        f"{B}/task-success",
        {"successes": 4, "attempts": 5, "interval": "wilson", "confidence": 0.9},
    ).json()
    expected = task_success_rate(successes=4, attempts=5, interval="wilson", confidence=0.9)
    assert (wilson["ci_low"], wilson["method"]) == (expected.ci_low, "Wilson score")
    empty = client.post(f"{B}/task-success", {"successes": 0, "attempts": 0}).json()
    assert (empty["value"], empty["n"], empty["ci_low"]) == (None, 0, None)


def test_error_rate_matches_the_library(api_as, owner, brand):
    from opencx.analytics.metrics.ux import error_rate

    body = api_as(owner).post(f"{B}/error-rate", {"errors": 3, "opportunities": 40}).json()
    expected = error_rate(errors=3, opportunities=40)
    assert (body["metric"], body["value"], body["n"]) == ("error-rate", 7.5, 40)
    assert (body["ci_low"], body["ci_high"]) == (expected.ci_low, expected.ci_high)
    assert body["method"] == "Wilson score"


def test_time_on_task_is_the_geometric_mean(api_as, owner, brand):
    from opencx.analytics.metrics.ux import time_on_task

    client = api_as(owner)
    times = [34, 41, 52.5, 38, 120]
    body = client.post(f"{B}/time-on-task", {"seconds": times}).json()
    expected = time_on_task(times)
    assert (body["metric"], body["n"]) == ("time-on-task", 5)
    assert body["value"] == pytest.approx(expected.value)
    assert (body["ci_low"], body["ci_high"]) == (
        pytest.approx(expected.ci_low),
        pytest.approx(expected.ci_high),
    )
    one = client.post(f"{B}/time-on-task", {"seconds": [30]}).json()
    assert (one["value"], one["n"], one["ci_low"], one["ci_high"]) == (
        pytest.approx(30.0),
        1,
        None,
        None,
    )
    none = client.post(f"{B}/time-on-task", {"seconds": []}).json()
    assert (none["value"], none["n"]) == (None, 0)


def test_time_on_task_takes_up_to_100000_times(api_as, owner, brand):
    client = api_as(owner)
    body = client.post(f"{B}/time-on-task", {"seconds": [2.0, 8.0] * 50_000}).json()
    assert (body["n"], body["value"]) == (100_000, pytest.approx(4.0))
    too_many = client.post(f"{B}/time-on-task", {"seconds": [1.0] * 100_001})
    assert_error(too_many, 422, "invalid", "seconds")


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("task-success", {"successes": -1, "attempts": 5}, "successes"),
        ("task-success", {"successes": 6, "attempts": 5}, "successes"),
        ("task-success", {"successes": 2.5, "attempts": 5}, "successes"),
        ("task-success", {"successes": 1, "attempts": 10**16}, "attempts"),
        ("task-success", {"successes": 1, "attempts": "many"}, "attempts"),
        ("task-success", {"attempts": 5}, "successes"),
        ("task-success", {"successes": 1, "attempts": 5, "interval": "wald"}, "interval"),
        ("task-success", {"successes": 1, "attempts": 5, "confidence": 1}, "confidence"),
        ("task-success", {"successes": 1, "attempts": 5, "confidence": 0}, "confidence"),
        ("error-rate", {"errors": 5, "opportunities": -2}, "opportunities"),
        ("error-rate", {"errors": 41, "opportunities": 40}, "errors"),
        ("time-on-task", {"seconds": [10, 0]}, "seconds.1"),
        ("time-on-task", {"seconds": [-3]}, "seconds.0"),
        ("time-on-task", {"seconds": [10, "soon"]}, "seconds.1"),
        ("time-on-task", {"seconds": 12}, "seconds"),
        ("time-on-task", {}, "seconds"),
    ],
)
def test_usability_endpoints_refuse_hostile_bodies_naming_the_field(
    api_as, owner, brand, path, body, field
):
    assert_error(api_as(owner).post(f"{B}/{path}", body), 422, "invalid", field)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_time_on_task_refuses_non_finite_times(api_as, owner, brand, value):
    response = api_as(owner).client.post(
        f"/api/v1{B}/time-on-task",
        f'{{"seconds": [10, {value}]}}',
        content_type="application/json",
        headers=api_as(owner).headers,
    )
    assert_error(response, 422, "invalid", "seconds.1")


def test_any_member_may_compute_usability_figures_but_no_one_else(
    api_as, make_actor, stranger, anonymous_client, store
):
    viewer = api_as(make_actor(Role.VIEWER, store).user)
    body = {"successes": 1, "attempts": 2}
    assert viewer.post(f"{B}/task-success", body).json()["value"] == 50.0
    assert viewer.post(f"{B}/error-rate", {"errors": 0, "opportunities": 3}).status_code == 200
    for path in ("task-success", "error-rate", "time-on-task"):
        # A non-member gets 404 even for a body that would be refused: the route tells nothing.
        assert_error(api_as(stranger).post(f"{B}/{path}", {"successes": -1}), 404, "not_found")
        assert_error(anonymous_client.post(f"{B}/{path}", body), 401, "unauthorized")
        assert viewer.get(f"{B}/{path}").status_code == 405


@pytest.mark.parametrize("by", ["colour", "month,week"])
def test_ces_net_refuses_unknown_groupings(api_as, owner, effort, by):
    response = api_as(owner).get(f"{B}/ces", {"variant": "net", "by": by})
    assert_error(response, 400, "invalid", "by")
