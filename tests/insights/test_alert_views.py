"""Alert pages: the list and one alert in the member's reach, acknowledging, the rules."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from opencx.insights.models import Alert, AlertRule
from opencx.platform.roles import Role
from tests.factories import ChannelFactory, FeedbackItemFactory, LocationFactory


@pytest.fixture
def alert(brand, store):
    items = [
        FeedbackItemFactory(brand=brand, location=store, text=f"Sporco {n}", sentiment="negative")
        for n in range(2)
    ]
    rule = AlertRule.objects.create(brand=brand, name="Negativi", kind="negative_share")
    return Alert.objects.create(
        brand=brand,
        rule=rule,
        location=store,
        kind="negative_share",
        title="Negative share up at Milano Centro: 10% → 40%",
        details={
            "now": {"n": 60, "negative": 24, "share": 40.0},
            "before": {"n": 200, "negative": 20, "share": 10.0},
            "window": {"start": "2026-05-25T12:00", "end": "2026-06-01T12:00", "days": 7},
            "baseline": {"start": "2026-03-30T12:00", "end": "2026-05-25T12:00", "days": 56},
            "difference": 30.0, "ci_low": 17.1, "ci_high": 42.2, "p_value": 2.7e-08,
            "p_adjusted": 5.4e-08, "alpha": 0.05, "tested_groups": 2, "min_n": 30,
            "test": "two-proportion z test (pooled), one-sided", "unit": "percentage points",
        },
        items=[item.pk for item in items],
        window_end=datetime(2026, 6, 1, tzinfo=UTC).date(),
        key="a",
    )  # fmt: skip


def url(name, brand, *args):
    return reverse(f"alerts:{name}", args=[brand.slug, *args])


def test_the_list_shows_open_alerts_in_reach(client, brand, owner, alert, region):
    channel = ChannelFactory(brand=brand, name="Google")
    Alert.objects.create(
        brand=brand, channel=channel, kind="keyword", title="Brand-level",
        window_end=alert.window_end, key="b", acknowledged_at=alert.created_at,
    )  # fmt: skip
    client.force_login(owner)

    page = client.get(url("list", brand)).content.decode()
    assert alert.title in page and "Brand-level" not in page  # open only, by default
    page = client.get(url("list", brand), {"state": "acknowledged"}).content.decode()
    assert "Brand-level" in page and alert.title not in page
    page = client.get(url("list", brand), {"state": "all", "kind": "keyword"}).content.decode()
    assert "Brand-level" in page and alert.title not in page
    elsewhere = LocationFactory(brand=brand, name="Elsewhere", code="elsewhere")
    page = client.get(url("list", brand), {"location": elsewhere.pk}).content.decode()
    assert alert.title not in page


def test_a_location_manager_sees_only_their_subtree(
    client, brand, alert, sibling_store, store, make_actor
):
    sibling = make_actor(Role.LOCATION_MANAGER, sibling_store)
    client.force_login(sibling.user)
    assert alert.title not in client.get(url("list", brand)).content.decode()
    assert client.get(url("detail", brand, alert.pk)).status_code == 404
    assert client.post(url("acknowledge", brand, alert.pk)).status_code == 404

    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    assert alert.title in client.get(url("list", brand)).content.decode()
    assert client.get(url("detail", brand, alert.pk)).status_code == 200


def test_another_brand_gets_404(client, brand, alert, stranger):
    client.force_login(stranger)
    assert client.get(url("list", brand)).status_code == 404
    assert client.get(url("detail", brand, alert.pk)).status_code == 404
    assert client.get(url("rules", brand)).status_code == 404


def test_the_detail_shows_the_figures_and_links_the_items(client, brand, owner, alert):
    client.force_login(owner)
    page = client.get(url("detail", brand, alert.pk)).content.decode()
    assert "40.0% (24)" in page and "10.0% (20)" in page
    assert "2.7e-08" in page and "Holm-adjusted over 2 groups" in page
    for pk in alert.items:
        assert reverse("feedback:detail", args=[brand.slug, pk]) in page
    assert "Acknowledge" in page


def test_acknowledging_needs_reply(client, brand, alert, make_actor):
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    assert "Acknowledge</button>" not in client.get(url("detail", brand, alert.pk)).content.decode()
    assert client.post(url("acknowledge", brand, alert.pk)).status_code == 403

    agent = make_actor(Role.AGENT)
    client.force_login(agent.user)
    response = client.post(url("acknowledge", brand, alert.pk))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == agent.user and alert.acknowledged_at is not None
    assert "acknowledged" in client.get(url("detail", brand, alert.pk)).content.decode()


def form(**fields):
    values = {
        "name": "Negatives up", "kind": "negative_share", "group_by": "location",
        "window_days": "7", "baseline_days": "56", "min_n": "30", "min_count": "1",
        "alpha": "0.05", "threshold": "0", "is_active": "on", "keywords": "",
    }  # fmt: skip
    return {**values, **fields}


def test_rules_are_created_edited_and_deleted(client, brand, owner, store):
    client.force_login(owner)
    response = client.post(url("rules", brand), form(location=store.pk))
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.location == store and rule.min_n == 30 and rule.alpha == 0.05

    response = client.post(
        url("rule", brand, rule.pk),
        form(name="Parole", kind="keyword", keywords="scortese, грязно\nsporco", min_count="2"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.kind == "keyword" and rule.keywords == ["scortese", "грязно", "sporco"]
    assert rule.location is None and rule.min_count == 2
    page = client.get(url("rules", brand)).content.decode()
    assert "Parole" in page and "scortese, грязно, sporco" in page
    assert 'value="2"' in client.get(url("rule", brand, rule.pk)).content.decode()

    assert client.post(url("rule-delete", brand, rule.pk)).status_code == 302
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"alpha": "abc"}, "Significance level: a number"),
        ({"alpha": "0.5"}, "alpha must be between"),
        ({"min_n": "²"}, "Least items: a whole number"),
        ({"window_days": "-3"}, "Recent window: a whole number"),
        ({"kind": "keyword", "keywords": " , "}, "at least one word"),
        ({"location": "999999"}, "Select a valid choice"),
    ],
)
def test_hostile_rule_input_is_refused_by_field(client, brand, owner, fields, message):
    client.force_login(owner)
    response = client.post(url("rules", brand), form(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_location_of_another_brand_is_not_a_choice(client, brand, owner, other_brand):
    foreign = LocationFactory(brand=other_brand, code="foreign")
    client.force_login(owner)
    response = client.post(url("rules", brand), form(location=foreign.pk))
    assert response.status_code == 400 and not AlertRule.objects.exists()


def test_rules_are_read_only_below_manage_feedback(client, brand, make_actor, alert):
    viewer = make_actor(Role.LOCATION_MANAGER)
    client.force_login(viewer.user)
    page = client.get(url("rules", brand)).content.decode()
    assert "Negativi" in page and "Add a rule" not in page
    assert client.post(url("rules", brand), form()).status_code == 403
    assert client.post(url("rule", brand, alert.rule.pk), form()).status_code == 403
    assert client.post(url("rule-delete", brand, alert.rule.pk)).status_code == 403
    assert AlertRule.objects.count() == 1


def test_filters_answer_htmx_with_the_results_only(client, brand, owner, alert):
    client.force_login(owner)
    response = client.get(url("list", brand), {"state": "open"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and alert.title in page and "<h1>" not in page
