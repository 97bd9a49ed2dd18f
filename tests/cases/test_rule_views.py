"""Settings of the closed loop: rules, routing rules and SLA per priority."""

import pytest
from django.urls import reverse

from opencx.cases.models import CaseRule, RoutingRule, SlaPolicy
from opencx.platform.roles import Role
from tests.factories import CaseRuleFactory

pytestmark = pytest.mark.django_db


def _url(brand):
    return reverse("cases:rules", args=[brand.slug])


def _rule_data(**overrides):
    data = {
        "form": "rule",
        "rule-name": "Refund requests",
        "rule-trigger": "keyword",
        "rule-threshold": "",
        "rule-keywords": "refund, rimborso, возврат",
        "rule-location": "",
        "rule-touchpoint": "",
        "rule-survey": "",
        "rule-priority": "high",
        "rule-position": "2",
        "rule-is_active": "on",
    }
    data.update(overrides)
    return data


def test_cx_manager_adds_a_keyword_rule(client, brand, store, cx_manager):
    client.force_login(cx_manager)
    response = client.post(_url(brand), _rule_data(**{"rule-location": store.pk}))
    assert response.status_code == 302
    rule = CaseRule.objects.get()
    assert rule.keywords == ["refund", "rimborso", "возврат"]
    assert (rule.location, rule.priority, rule.position) == (store, "high", 2)
    page = client.get(_url(brand))
    assert "Refund requests" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rule-threshold": "²"}, "threshold"),
        ({"rule-threshold": "1000"}, "threshold"),
        ({"rule-keywords": " , "}, "keywords"),  # the service: a keyword rule needs a keyword
        ({"rule-trigger": "nope"}, "trigger"),
        ({"rule-location": "999999"}, "location"),
        ({"rule-position": "-1"}, "position"),
    ],
)
def test_bad_rule_input_is_shown_on_its_field_and_nothing_stored(
    client, brand, cx_manager, overrides, field
):
    client.force_login(cx_manager)
    page = client.post(_url(brand), _rule_data(**overrides))
    assert page.status_code == 400
    assert field in page.context["rule_form"].errors
    assert not CaseRule.objects.exists()


def test_edit_toggle_and_delete_a_rule(client, brand, cx_manager):
    rule = CaseRuleFactory(brand=brand, name="Detractors", threshold=6)
    client.force_login(cx_manager)
    url = reverse("cases:rule", args=[brand.slug, rule.pk])
    page = client.get(url)
    assert page.context["form"]["threshold"].value() == 6
    data = {key: value for key, value in _rule_data().items() if key != "form"}
    data.update({"rule-name": "Detractors", "rule-trigger": "nps_at_most", "rule-threshold": "4"})
    assert client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.threshold == 4 and rule.trigger == "nps_at_most"
    client.post(url, {"action": "toggle"})
    rule.refresh_from_db()
    assert rule.is_active is False
    client.post(reverse("cases:rule-delete", args=[brand.slug, rule.pk]))
    assert not CaseRule.objects.exists()


def test_routing_rule_add_and_delete(client, brand, store, cx_manager, manager):
    client.force_login(cx_manager)
    data = {
        "form": "routing",
        "routing-location": store.pk,
        "routing-touchpoint": "",
        "routing-topic": "refund",
        "routing-owner": manager.pk,
        "routing-position": "",
    }
    assert client.post(_url(brand), data).status_code == 302
    route = RoutingRule.objects.get()
    assert (route.location, route.topic, route.owner) == (store, "refund", manager)
    page = client.post(_url(brand), {**data, "routing-owner": ""})
    assert page.status_code == 400 and "owner" in page.context["routing_form"].errors
    client.post(reverse("cases:routing-delete", args=[brand.slug, route.pk]))
    assert not RoutingRule.objects.exists()


def test_sla_shows_defaults_and_saves_a_policy(client, brand, cx_manager):
    client.force_login(cx_manager)
    rows = {row["priority"]: row for row in client.get(_url(brand)).context["sla_rows"]}
    assert (rows["urgent"]["acknowledge_hours"], rows["urgent"]["resolve_hours"]) == (1, 8)
    assert rows["urgent"]["is_default"]
    data = {
        "form": "sla",
        "priority": "urgent",
        "sla-urgent-priority": "urgent",
        "sla-urgent-acknowledge_hours": "2",
        "sla-urgent-resolve_hours": "1",
    }
    page = client.post(_url(brand), data)
    assert page.status_code == 400  # the service: resolving cannot be due before acknowledging
    assert not SlaPolicy.objects.exists()
    assert client.post(_url(brand), {**data, "sla-urgent-resolve_hours": "12"}).status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.priority, policy.acknowledge_hours, policy.resolve_hours) == ("urgent", 2, 12)


def test_viewers_and_location_managers_read_but_cannot_change(client, brand, store, make_actor):
    rule = CaseRuleFactory(brand=brand, name="Detractors")
    for actor in (make_actor(Role.VIEWER), make_actor(Role.LOCATION_MANAGER, store)):
        client.force_login(actor.user)
        page = client.get(_url(brand))
        assert page.status_code == 200 and page.context["rule_form"] is None
        assert "Detractors" in page.content.decode()
        assert client.post(_url(brand), _rule_data()).status_code == 403
        url = reverse("cases:rule", args=[brand.slug, rule.pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"action": "toggle"}).status_code == 403
        delete = reverse("cases:rule-delete", args=[brand.slug, rule.pk])
        assert client.post(delete).status_code == 403
    assert CaseRule.objects.get().is_active


def test_another_brands_rule_is_404(client, other_brand, stranger, brand, owner):
    rule = CaseRuleFactory(brand=other_brand)
    client.force_login(owner)
    assert client.get(reverse("cases:rule", args=[brand.slug, rule.pk])).status_code == 404
