"""The planted effects are in the data, where docs/demo.md says analytics will find them."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth

from opencx.contacts.models import Order, WebEvent
from opencx.demo import catalogue, effects
from opencx.feedback.models import FeedbackItem
from opencx.surveys.models import Response

from .conftest import END_DATE

END = datetime.fromisoformat(END_DATE).replace(tzinfo=UTC)
DELAY_MONTH = date(2026, 3, 1)  # four calendar months before July 2026
TOPIC_OF = {
    text: topic
    for topic, by_language in catalogue.COMMENTS.items()
    for texts in by_language.values()
    for text in texts
}


def _nps(queryset) -> float:
    row = queryset.aggregate(
        n=Count("id"),
        promoters=Count("id", filter=Q(score__gte=9)),
        detractors=Count("id", filter=Q(score__lte=6)),
    )
    assert row["n"] >= 20, "too few responses to compare"
    return 100 * (row["promoters"] - row["detractors"]) / row["n"]


def _nps_responses(brand):
    return Response.objects.filter(brand=brand, survey__kind="nps")


@pytest.mark.django_db
def test_slow_store_nps_falls_over_the_last_months(demo):
    cardiff = _nps_responses(demo).filter(location__code=effects.SLOW_STORE)
    start = END - timedelta(days=548)
    first_six = _nps(cardiff.filter(created_at__lt=start + timedelta(days=183)))
    last_three = _nps(cardiff.filter(created_at__gte=END - timedelta(days=90)))
    assert last_three < first_six - 30
    others = _nps_responses(demo).exclude(location__code=effects.SLOW_STORE)
    assert _nps(others.filter(created_at__gte=END - timedelta(days=90))) > last_three + 30


@pytest.mark.django_db
def test_slow_store_detractors_talk_about_waiting(demo):
    recent = _nps_responses(demo).filter(
        location__code=effects.SLOW_STORE, created_at__gte=END - timedelta(days=120), score__lte=6
    )
    topics = Counter(
        TOPIC_OF[c] for c in recent.exclude(comment="").values_list("comment", flat=True)
    )
    assert topics.most_common(1)[0][0] == "waiting"


@pytest.mark.django_db
def test_checkout_sessions_drop_most_at_the_shipping_step(demo):
    events = WebEvent.objects.filter(brand=demo)

    def sessions(**filters) -> int:
        return events.filter(**filters).values("session_id").distinct().count()

    funnel = [("add_to_cart", sessions(kind="add_to_cart"))]
    for step in catalogue.CHECKOUT_STEPS:
        funnel.append((step, sessions(kind="checkout", path__endswith=f"/checkout/{step}")))
    funnel.append(("purchase", sessions(kind="purchase")))
    losses = {
        f"{a}->{b}": before - after
        for (a, before), (b, after) in zip(funnel, funnel[1:], strict=False)
    }
    assert max(losses, key=losses.get) == "shipping->payment", funnel
    shipping, payment = funnel[2][1], funnel[3][1]
    assert payment < shipping * 0.5


@pytest.mark.django_db
def test_delay_month_has_late_orders_and_lower_nps(demo):
    shipped = Order.objects.filter(
        brand=demo, promised_at__isnull=False, delivered_at__isnull=False
    )
    by_month = {
        row["month"].date(): row["late"] / row["n"]
        for row in shipped.annotate(month=TruncMonth("placed_at"))
        .values("month")
        .annotate(n=Count("id"), late=Count("id", filter=Q(delivered_at__gt=F("promised_at"))))
    }
    delay = by_month.pop(DELAY_MONTH)
    assert delay > 0.4
    assert max(by_month.values()) < 0.2

    nps = _nps_responses(demo)
    in_month = nps.filter(created_at__gte=datetime(2026, 3, 1, tzinfo=UTC)).filter(
        created_at__lt=datetime(2026, 4, 1, tzinfo=UTC)
    )
    around = nps.filter(created_at__gte=datetime(2025, 11, 1, tzinfo=UTC)).filter(
        Q(created_at__lt=datetime(2026, 3, 1, tzinfo=UTC))
        | Q(created_at__gte=datetime(2026, 4, 1, tzinfo=UTC))
    )
    assert _nps(in_month) < _nps(around) - 10


@pytest.mark.django_db
def test_delay_month_brings_delivery_reviews(demo):
    reviews = FeedbackItem.objects.filter(brand=demo, kind="review", rating__lte=2)
    month = reviews.filter(
        occurred_at__gte=datetime(2026, 3, 1, tzinfo=UTC),
        occurred_at__lt=datetime(2026, 4, 1, tzinfo=UTC),
    )
    topics = Counter(TOPIC_OF[t] for t in month.values_list("text", flat=True))
    assert topics.most_common(1)[0][0] == "delivery"


@pytest.mark.django_db
def test_returns_drive_detractors_and_friendly_staff_promoters(demo):
    commented = _nps_responses(demo).exclude(comment="")

    def topics(**filters) -> Counter:
        return Counter(
            TOPIC_OF[c] for c in commented.filter(**filters).values_list("comment", flat=True)
        )

    detractors = topics(score__lte=6)
    assert detractors.most_common(1)[0][0] == "returns"
    assert detractors["returns"] > 1.4 * detractors.most_common(2)[1][1]
    promoters = topics(score__gte=9)
    assert promoters.most_common(1)[0][0] == "staff"
    assert topics(score__gte=9)["returns"] == 0


# --- the knobs themselves ---------------------------------------------------------------


def test_slow_penalty_ramps_up_only_at_the_slow_store():
    assert effects.slow_penalty("milano", 0) == 0
    assert effects.slow_penalty(effects.SLOW_STORE, effects.SLOW_RAMP_DAYS) == 0
    assert effects.slow_penalty(effects.SLOW_STORE, 0) == effects.SLOW_MAX_PENALTY
    assert 0 < effects.slow_penalty(effects.SLOW_STORE, 90) < effects.SLOW_MAX_PENALTY


def test_scores_stay_on_each_survey_scale():
    rng = random.Random(1)
    ranges = {"nps": range(0, 11), "csat": range(1, 6), "ces": range(1, 8), "review": range(1, 6)}
    for kind, allowed in ranges.items():
        scores = {effects.score_for(rng, kind, mood) for mood in ("good", "neutral", "bad") * 50}
        assert scores <= set(allowed)
    assert {effects.score_for(rng, "nps", "good") for _ in range(50)} == {9, 10}
    assert max(effects.score_for(rng, "nps", "bad") for _ in range(200)) == 6


def test_a_penalty_makes_bad_moods_likelier():
    def bad_share(penalty):
        rng = random.Random(3)
        moods = [effects.draw_mood(rng, "nps", penalty=penalty) for _ in range(2000)]
        return moods.count("bad") / len(moods)

    assert bad_share(0.9) > bad_share(0.0) + 0.3
