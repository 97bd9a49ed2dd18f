"""Brand monitoring: rules evaluated on real feedback rows, alerts stored once, e-mailed to the
right members over real SMTP and delivered to a real local webhook receiver."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from opencx.feedback.models import FeedbackItem
from opencx.insights import alerts
from opencx.insights.models import Alert, AlertRule
from opencx.integrations.models import NotificationPreference, WebhookDelivery, WebhookEndpoint
from opencx.integrations.services import new_secret
from opencx.platform.errors import AppError, Forbidden, NotFound
from opencx.platform.roles import Role
from tests.factories import ChannelFactory, FeedbackItemFactory, LocationFactory

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def add_items(brand, location, *, n, negative=0, days_ago=(0.5, 6.5), channel=None, **fields):
    """`n` items spread over `days_ago` (before NOW), the first `negative` of them negative."""
    first, last = days_ago
    step = (last - first) / max(1, n - 1)
    sentiment = fields.pop("sentiment", "positive")
    rows = [
        FeedbackItemFactory.build(
            brand=brand,
            location=location,
            channel=channel,
            sentiment="negative" if index < negative else sentiment,
            occurred_at=NOW - timedelta(days=first + index * step),
            **fields,
        )
        for index in range(n)
    ]
    return FeedbackItem.objects.bulk_create(rows)


def history(brand, location, *, recent, recent_negative, baseline=200, baseline_negative=20):
    add_items(brand, location, n=recent, negative=recent_negative, days_ago=(0.5, 6.5))
    add_items(brand, location, n=baseline, negative=baseline_negative, days_ago=(8, 60))


def rule(actor, **fields):
    values = {"name": "Negative share", "kind": AlertRule.Kind.NEGATIVE_SHARE, "min_n": 30}
    return alerts.alert_rule_create(actor=actor, **{**values, **fields})


# --- negative share ---------------------------------------------------------------------------


def test_a_significant_rise_fires_with_its_figures(brand, store, owner_actor):
    history(brand, store, recent=60, recent_negative=24)  # 10% -> 40%
    watch = rule(owner_actor)

    raised = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert len(raised) == 1
    alert = raised[0]
    assert alert.location == store and alert.kind == "negative_share"
    figures = alert.details
    assert figures["now"] == {"n": 60, "negative": 24, "share": 40.0}
    assert figures["before"] == {"n": 200, "negative": 20, "share": 10.0}
    assert figures["difference"] == pytest.approx(30.0)
    assert figures["p_value"] < 1e-6 and figures["p_adjusted"] == figures["p_value"]
    assert figures["tested_groups"] == 1
    assert "10% → 40%" in alert.title and "Milano Centro" in alert.title
    negative_ids = set(
        FeedbackItem.objects.filter(
            sentiment="negative", occurred_at__gt=NOW - timedelta(days=7)
        ).values_list("pk", flat=True)
    )
    assert set(alert.items) == negative_ids and len(alert.items) == 24


def test_a_small_rise_or_a_thin_sample_does_not_fire(brand, store, sibling_store, owner_actor):
    history(brand, store, recent=60, recent_negative=8)  # 10% -> 13%: not significant
    history(brand, sibling_store, recent=10, recent_negative=10)  # 100%, but n=10 < 30
    watch = rule(owner_actor)

    assert alerts.alert_rule_evaluate(rule=watch, now=NOW) == []


def test_items_without_sentiment_do_not_count(brand, store, owner_actor):
    history(brand, store, recent=60, recent_negative=24)
    add_items(brand, store, n=500, negative=0, days_ago=(0.5, 6), sentiment="")
    watch = rule(owner_actor)

    (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert alert.details["now"]["n"] == 60


def test_holm_across_the_locations_of_one_run(brand, region, store, owner_actor):
    # At `store` alone 10% -> 20% is significant (one-sided p = 0.019 < 0.05) ...
    history(brand, store, recent=60, recent_negative=12)
    alone = rule(owner_actor, name="Milano only", location=store)
    (alert,) = alerts.alert_rule_evaluate(rule=alone, now=NOW)
    assert alert.details["p_value"] == pytest.approx(0.0193, abs=1e-4)
    assert alert.details["tested_groups"] == 1

    # ... but not once three more stores are tested in the same run: Holm multiplies the
    # smallest p-value by 4 (0.077 > 0.05).
    for code in ("a", "b", "c"):
        flat = LocationFactory(parent=region, name=f"Store {code}", code=code)
        history(brand, flat, recent=60, recent_negative=6)
    everywhere = rule(owner_actor, name="Every store")
    assert alerts.alert_rule_evaluate(rule=everywhere, now=NOW) == []


def test_per_channel(brand, store, owner_actor):
    google = ChannelFactory(brand=brand, name="Google", kind="google")
    email = ChannelFactory(brand=brand, name="E-mail", kind="email")
    add_items(brand, store, n=60, negative=24, channel=google)
    add_items(brand, store, n=200, negative=20, channel=google, days_ago=(8, 60))
    add_items(brand, store, n=60, negative=6, channel=email)
    add_items(brand, store, n=200, negative=20, channel=email, days_ago=(8, 60))
    watch = rule(owner_actor, group_by="channel")

    (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert alert.channel == google and alert.location is None
    assert alert.details["tested_groups"] == 2


def test_a_rerun_adds_nothing_even_after_acknowledging(brand, store, owner_actor):
    history(brand, store, recent=60, recent_negative=24)
    rule(owner_actor)

    first = alerts.alerts_evaluate(now=NOW)
    alerts.alert_acknowledge(actor=owner_actor, alert=first[0])
    again = alerts.alerts_evaluate(now=NOW + timedelta(minutes=15))

    assert len(first) == 1 and again == []
    assert Alert.objects.count() == 1
    # The next day the window ends on another date: a rise that persists alerts again.
    assert len(alerts.alerts_evaluate(now=NOW + timedelta(days=1))) == 1


def test_inactive_rules_are_left_alone(brand, store, owner_actor):
    history(brand, store, recent=60, recent_negative=24)
    rule(owner_actor, is_active=False)
    assert alerts.alerts_evaluate(now=NOW) == []


# --- rating drop ------------------------------------------------------------------------------


def test_a_significant_rating_drop_fires_on_any_scale(brand, store, owner_actor):
    add_items(brand, store, n=40, rating=4, rating_scale=10)  # 2 of 5 stars
    add_items(brand, store, n=40, rating=6, rating_scale=10)  # 3 of 5
    add_items(brand, store, n=100, rating=5, rating_scale=5, days_ago=(8, 60))
    add_items(brand, store, n=100, rating=4, rating_scale=5, days_ago=(8, 60))
    watch = rule(owner_actor, name="Stars", kind=AlertRule.Kind.RATING_DROP, min_n=20)

    (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert alert.details["now"] == {"n": 80, "mean": 2.5}
    assert alert.details["before"] == {"n": 200, "mean": 4.5}
    assert alert.details["difference"] == pytest.approx(-2.0)
    assert alert.details["p_value"] < 1e-6
    assert "4.50 → 2.50" in alert.title


def test_a_drop_below_the_threshold_or_thin_does_not_fire(brand, store, sibling_store, owner_actor):
    add_items(brand, store, n=200, rating=4, rating_scale=5, days_ago=(0.5, 6.5))
    add_items(brand, store, n=200, rating=5, rating_scale=5, days_ago=(0.5, 6.5))
    add_items(brand, store, n=300, rating=5, rating_scale=5, days_ago=(8, 60))
    add_items(brand, store, n=100, rating=4, rating_scale=5, days_ago=(8, 60))
    add_items(brand, sibling_store, n=5, rating=1, rating_scale=5)
    add_items(brand, sibling_store, n=100, rating=5, rating_scale=5, days_ago=(8, 60))
    watch = rule(owner_actor, name="Stars", kind=AlertRule.Kind.RATING_DROP, threshold=0.5)

    # store: 4.75 -> 4.5 is significant but only a quarter star; sibling: n=5 < 20.
    assert alerts.alert_rule_evaluate(rule=watch, now=NOW) == []


# --- keyword watch ----------------------------------------------------------------------------


def keyword_rule(actor, words, **fields):
    return alerts.alert_rule_create(
        actor=actor, name="Watch", kind=AlertRule.Kind.KEYWORD, keywords=words, **fields
    )


def test_keywords_in_russian_and_italian_alert_once_per_item(brand, store, owner_actor):
    ru = FeedbackItemFactory(
        brand=brand, location=store, text="В зале было ГРЯЗНО.", occurred_at=NOW - timedelta(1)
    )
    it = FeedbackItemFactory(
        brand=brand,
        location=store,
        title="Personale Scortese",
        text="",
        occurred_at=NOW - timedelta(2),
    )
    FeedbackItemFactory(
        brand=brand, location=store, text="Nessuna sporcizia", occurred_at=NOW - timedelta(1)
    )
    FeedbackItemFactory(
        brand=brand, location=store, text="Было грязно", occurred_at=NOW - timedelta(30)
    )
    watch = keyword_rule(owner_actor, ["грязно", "scortese", "sporco"])

    raised = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert sorted(alert.items for alert in raised) == sorted([[ru.pk], [it.pk]])
    assert {alert.details["matched"][str(alert.items[0])] for alert in raised} == {
        "грязно",
        "scortese",
    }
    assert all(alert.location == store for alert in raised)
    assert alerts.alert_rule_evaluate(rule=watch, now=NOW + timedelta(hours=1)) == []

    later = FeedbackItemFactory(
        brand=brand, location=store, text="грязно опять", occurred_at=NOW + timedelta(hours=1)
    )
    (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW + timedelta(hours=2))
    assert alert.items == [later.pk]


def test_keywords_with_a_minimum_count(brand, store, sibling_store, owner_actor, region):
    watch = keyword_rule(owner_actor, ["refund"], min_count=3)
    for location in (store, sibling_store):
        FeedbackItemFactory(
            brand=brand, location=location, text="I want a refund", occurred_at=NOW - timedelta(1)
        )
    FeedbackItemFactory(brand=brand, location=store, text="prefunding", occurred_at=NOW)
    assert alerts.alert_rule_evaluate(rule=watch, now=NOW) == []

    FeedbackItemFactory(brand=brand, location=store, text="Refunded late", occurred_at=NOW)
    (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert alert.details["count"] == 3 and len(alert.items) == 3
    assert alert.location == region  # the nearest location above all of them
    assert alerts.alert_rule_evaluate(rule=watch, now=NOW) == []


# --- rules: hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"kind": "panic"}, "kind"),
        ({"alpha": 0.9}, "alpha"),
        ({"alpha": "0.05"}, "alpha"),
        ({"min_n": -1}, "min_n"),
        ({"window_days": 10_000}, "window_days"),
        ({"threshold": 500}, "threshold"),
        ({"kind": "keyword", "keywords": []}, "keywords"),
        ({"kind": "keyword", "keywords": ["x" * 101]}, "keywords"),
        ({"group_by": "planet"}, "group_by"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_rule_input_is_checked_field_by_field(owner_actor, fields, field):
    with pytest.raises(AppError) as error:
        rule(owner_actor, **fields)
    assert error.value.field == field
    assert not AlertRule.objects.exists()


def test_rules_need_manage_feedback_and_stay_in_the_brand(
    brand, store, make_actor, owner_actor, other_brand
):
    with pytest.raises(Forbidden):
        rule(make_actor(Role.AGENT))
    foreign = LocationFactory(brand=other_brand, code="foreign")
    with pytest.raises(NotFound):
        rule(owner_actor, location=foreign)
    with pytest.raises(NotFound):
        rule(owner_actor, channel=ChannelFactory(brand=other_brand))


# --- e-mail and webhook -----------------------------------------------------------------------


def test_the_alert_is_emailed_to_members_who_want_it_and_see_its_location(
    brand, region, store, sibling_store, owner, owner_actor, make_actor, smtp_server,
    immediate_tasks, django_capture_on_commit_callbacks,
):  # fmt: skip
    cx_off = make_actor(Role.CX_MANAGER)
    NotificationPreference.objects.create(user=cx_off.user, brand=brand, email_alerts=False)
    at_store = make_actor(Role.LOCATION_MANAGER, store)
    at_region = make_actor(Role.VIEWER, region)
    at_sibling = make_actor(Role.LOCATION_MANAGER, sibling_store)
    history(brand, store, recent=60, recent_negative=24)
    rule(owner_actor)

    with django_capture_on_commit_callbacks(execute=True):
        (alert,) = alerts.alerts_evaluate(now=NOW)

    received = {message["To"]: message for message in smtp_server.messages}
    assert set(received) == {owner.email, at_store.user.email, at_region.user.email}
    assert cx_off.user.email not in received and at_sibling.user.email not in received
    body = received[owner.email].get_content()
    assert "Negative share" in received[owner.email]["Subject"]
    assert "40.0% (24 of 60)" in body and "10.0% (20 of 200)" in body
    assert f"/b/{brand.slug}/alerts/{alert.pk}/" in body
    alert.refresh_from_db()
    assert alert.emailed_at is not None
    assert alerts.alert_email_send(alert_id=alert.pk) == "already_sent"
    assert len(smtp_server.messages) == 3


def test_a_brand_level_alert_goes_to_brand_wide_members_only(
    brand, store, owner, owner_actor, make_actor
):
    make_actor(Role.LOCATION_MANAGER, store)
    google = ChannelFactory(brand=brand, name="Google", kind="google")
    alert = Alert.objects.create(
        brand=brand, channel=google, kind="keyword", title="x", window_end=NOW.date(), key="k"
    )
    assert alerts.alert_recipients(alert) == [owner]


class _Receiver:
    def __init__(self):
        self.bodies = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"


@pytest.fixture
def receiver():
    hub = _Receiver()
    hub.thread.start()
    try:
        yield hub
    finally:
        hub.server.shutdown()
        hub.server.server_close()


def test_webhooks_and_slack_endpoints_receive_alert_raised(
    brand, store, owner_actor, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    for kind in (WebhookEndpoint.Kind.WEBHOOK, WebhookEndpoint.Kind.SLACK):
        WebhookEndpoint.objects.create(
            brand=brand,
            name=kind,
            url=receiver.url,
            kind=kind,
            events=["alert.raised"],
            secret=new_secret(),
        )
    watch = keyword_rule(owner_actor, ["scortese"])
    item = FeedbackItemFactory(
        brand=brand, location=store, text="Cameriere scortese", occurred_at=NOW - timedelta(1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        (alert,) = alerts.alert_rule_evaluate(rule=watch, now=NOW)

    assert WebhookDelivery.objects.filter(status="delivered").count() == 2
    (envelope,) = [body for body in receiver.bodies if "event" in body]
    assert envelope["event"] == "alert.raised"
    data = envelope["data"]
    assert data["id"] == alert.pk and data["kind"] == "keyword" and data["items"] == [item.pk]
    assert data["location"]["code"] == store.code and data["rule"]["name"] == "Watch"
    assert data["url"].endswith(f"/b/{brand.slug}/alerts/{alert.pk}/")
    (slack,) = [body for body in receiver.bodies if "text" in body]
    assert slack["text"].startswith("Alert raised: “scortese” mentioned")
    assert f"/alerts/{alert.pk}/|Open in OpenCX>" in slack["text"]


def test_evaluate_alerts_command(brand, store, owner_actor, capsys):
    history(brand, store, recent=60, recent_negative=24)
    rule(owner_actor)
    call_command("evaluate_alerts", "--at", NOW.isoformat())
    assert "1 alert raised." in capsys.readouterr().out
    call_command("evaluate_alerts", "--at", NOW.isoformat())
    assert Alert.objects.count() == 1


def test_the_welch_test_from_sums_matches_scipy_on_the_raw_values():
    from scipy import stats

    from opencx.insights import facade

    now = [2.0, 3.0, 1.0, 4.0, 2.5, 3.0, 2.0]
    before = [4.0, 5.0, 4.5, 3.0, 5.0, 4.0, 4.0, 5.0, 3.5]

    def sums(values):
        return len(values), sum(values), sum(v * v for v in values)

    test = facade.mean_drop(now=sums(now), before=sums(before))
    expected = stats.ttest_ind(now, before, equal_var=False, alternative="less")
    assert test.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert test.difference == pytest.approx(sum(now) / 7 - sum(before) / 9)
    assert facade.mean_drop(now=(1, 3.0, 9.0), before=sums(before)) is None
