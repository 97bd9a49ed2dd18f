"""The cases API: list and filters, one case with its timeline, every change through services,
rules, routing, SLA and the closed-loop report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.cases.models import Case, CaseRule, RoutingRule, SlaPolicy
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from tests.factories import CaseFactory, CaseRuleFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    """api(user) -> call(method, path, body=None) with the user's token."""

    def as_user(user):
        headers = {"Authorization": f"Bearer {api_token_create(user=user, name='t').secret}"}

        def call(method, path, body=None, **params):
            url = f"/api/v1/brands/bottega{path}"
            if method == "get":
                return client.get(url, params, headers=headers)
            return getattr(client, method)(
                url, data=body or {}, content_type="application/json", headers=headers
            )

        return call

    return as_user


def test_list_filters_and_paginates(api, brand, store, sibling_store, owner, manager):
    now = timezone.now()
    mine = CaseFactory(brand=brand, location=store, owner=manager, title="Cold coffee")
    late = CaseFactory(brand=brand, location=sibling_store, due_at=now - timedelta(hours=1))
    done = CaseFactory(brand=brand, location=store, status=Case.Status.CLOSED)
    call = api(owner)

    def ids(**params):
        response = call("get", "/cases", **params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert set(ids()) == {mine.pk, late.pk, done.pk}
    assert set(ids(status="open")) == {mine.pk, late.pk}
    assert ids(owner_id=manager.pk) == [mine.pk]
    assert set(ids(unassigned="true")) == {late.pk, done.pk}
    assert ids(overdue="true") == [late.pk]
    assert ids(location=sibling_store.pk) == [late.pk]
    assert ids(q="coffee") == [mine.pk]
    page = call("get", "/cases", limit=1).json()
    assert page["count"] == 3 and page["next_offset"] == 1
    item = call("get", "/cases", overdue="true").json()["items"][0]
    assert item["overdue"] is True
    assert call("get", "/cases", status="nope").status_code == 400


def test_location_manager_sees_only_their_store(api, brand, store, sibling_store, manager):
    here = CaseFactory(brand=brand, location=store)
    there = CaseFactory(brand=brand, location=sibling_store)
    call = api(manager)
    assert [i["id"] for i in call("get", "/cases").json()["items"]] == [here.pk]
    assert call("get", f"/cases/{there.pk}").status_code == 404
    assert call("post", f"/cases/{there.pk}/notes", {"body": "x"}).status_code == 404


def test_work_a_case_through_the_api(api, brand, store, manager, cx_manager):
    case = CaseFactory(brand=brand, location=store, owner=manager)
    call = api(manager)
    response = call("post", f"/cases/{case.pk}/transition", {"to": "acknowledged"})
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    refused = call("post", f"/cases/{case.pk}/transition", {"to": "resolved"})
    assert refused.status_code == 400 and refused.json()["field"] == "note"
    assert call("post", f"/cases/{case.pk}/transition", {"to": "bogus"}).status_code == 422
    assigned = call("post", f"/cases/{case.pk}/assign", {"owner_id": cx_manager.pk})
    assert assigned.json()["owner_id"] == cx_manager.pk
    assert call("post", f"/cases/{case.pk}/assign", {"owner_id": None}).json()["owner_id"] is None
    assert call("post", f"/cases/{case.pk}/assign", {"owner_id": 10**6}).json()["field"] == (
        "owner_id"
    )
    assert (
        call("post", f"/cases/{case.pk}/priority", {"priority": "urgent"}).json()["priority"]
        == "urgent"
    )
    root = call(
        "put",
        f"/cases/{case.pk}/root-cause",
        {"why": "Short-staffed", "root_cause": "staff", "happened_at": "2026-03-14T18:30:00+01:00"},
    )
    assert root.status_code == 200
    assert root.json()["why"] == "Short-staffed" and root.json()["root_cause"] == "staff"
    naive = call("put", f"/cases/{case.pk}/root-cause", {"happened_at": "2026-03-14T18:30:00"})
    assert naive.status_code == 400 and naive.json()["field"] == "happened_at"
    note = call("post", f"/cases/{case.pk}/notes", {"body": "Called the store"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    no_address = call("post", f"/cases/{case.pk}/replies", {"body": "Sorry"})
    assert no_address.status_code == 400
    resolved = call(
        "post", f"/cases/{case.pk}/transition", {"to": "resolved", "note": "Refunded"}
    ).json()
    assert resolved["status"] == "resolved" and resolved["resolution"] == "Refunded"
    detail = call("get", f"/cases/{case.pk}").json()
    assert [e["kind"] for e in detail["timeline"]] == [
        "status",
        "assigned",
        "assigned",
        "priority",
        "root_cause",
        "note",
        "status",
    ]


def test_reply_is_queued_then_sent(
    api,
    brand,
    store,
    manager,
    customer,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    case = CaseFactory(brand=brand, location=store, owner=manager, contact=customer)
    call = api(manager)
    with django_capture_on_commit_callbacks(execute=True):
        reply = call("post", f"/cases/{case.pk}/replies", {"body": "We are sorry", "subject": "Hi"})
    assert reply.status_code == 201 and reply.json()["delivery"] == "queued"
    [message] = smtp_server.messages
    assert message["Subject"] == "Hi"
    detail = call("get", f"/cases/{case.pk}").json()
    assert [e["delivery"] for e in detail["timeline"] if e["kind"] == "reply"] == ["sent"]


def test_open_a_case_by_hand(api, brand, store, owner, manager):
    survey = SurveyFactory(brand=brand)
    response = ResponseFactory(survey=survey, location=store, score=2)
    call = api(owner)
    created = call(
        "post",
        "/cases",
        {"title": "Called in", "location_id": store.pk, "response_id": response.pk},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner_id"] == manager.pk and body["trigger_score"] == 2
    assert body["sources"][0]["response_id"] == response.pk
    again = call(
        "post", "/cases", {"title": "Again", "location_id": store.pk, "response_id": response.pk}
    )
    assert again.status_code == 409
    assert call("post", "/cases", {"title": "x", "location_id": 10**6}).json()["field"] == (
        "location_id"
    )


def test_viewer_gets_403_whatever_the_body(api, brand, store, make_actor):
    case = CaseFactory(brand=brand, location=store)
    call = api(make_actor(Role.VIEWER).user)
    assert call("get", f"/cases/{case.pk}").status_code == 200
    for path in (f"/cases/{case.pk}/transition", f"/cases/{case.pk}/notes", "/cases"):
        assert call("post", path, {"nonsense": 1}).status_code == 403
    assert call("post", "/case-rules", {}).status_code == 403
    agent = api(make_actor(Role.AGENT).user)
    assert agent("post", "/case-rules", {}).status_code == 403  # agents work cases, not rules
    assert agent("put", "/sla-policies/high", {}).status_code == 403


def test_rules_crud(api, brand, store, cx_manager, owner):
    call = api(cx_manager)
    created = call(
        "post",
        "/case-rules",
        {
            "name": "Refunds",
            "trigger": "keyword",
            "keywords": ["refund", "возврат"],
            "location_id": store.pk,
            "priority": "high",
        },
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["keywords"] == ["refund", "возврат"]
    assert call("post", "/case-rules", {"name": "x", "trigger": "keyword"}).json()["field"] == (
        "keywords"
    )
    patched = call("patch", f"/case-rules/{rule_id}", {"is_active": False, "location_id": None})
    assert patched.json()["is_active"] is False and patched.json()["location_id"] is None
    assert call("patch", f"/case-rules/{rule_id}", {"name": None}).status_code == 400
    assert [r["id"] for r in call("get", "/case-rules").json()["items"]] == [rule_id]
    assert call("get", f"/case-rules/{rule_id}").json()["name"] == "Refunds"
    assert call("delete", f"/case-rules/{rule_id}").status_code == 204
    assert not CaseRule.objects.exists()
    other = CaseRuleFactory()  # another brand's
    assert call("get", f"/case-rules/{other.pk}").status_code == 404


def test_routing_and_sla(api, brand, store, cx_manager, manager):
    call = api(cx_manager)
    route = call("post", "/routing-rules", {"owner_id": manager.pk, "location_id": store.pk})
    assert route.status_code == 201
    assert [r["owner_id"] for r in call("get", "/routing-rules").json()["items"]] == [manager.pk]
    assert call("delete", f"/routing-rules/{route.json()['id']}").status_code == 204
    assert not RoutingRule.objects.exists()
    default = call("get", "/sla-policies/high").json()
    assert default == {
        "priority": "high",
        "acknowledge_hours": 4,
        "resolve_hours": 24,
        "is_default": True,
    }
    saved = call("put", "/sla-policies/high", {"acknowledge_hours": 2, "resolve_hours": 16})
    assert saved.json()["is_default"] is False and SlaPolicy.objects.get().resolve_hours == 16
    assert (
        call("put", "/sla-policies/high", {"acknowledge_hours": 9, "resolve_hours": 3}).json()[
            "field"
        ]
        == "resolve_hours"
    )
    assert (
        call("put", "/sla-policies/high", {"acknowledge_hours": 0, "resolve_hours": 3}).status_code
        == 422
    )
    assert call("get", "/sla-policies/nope").status_code == 404
    assert len(call("get", "/sla-policies").json()) == 4


def test_report(api, brand, store, owner):
    now = timezone.now()
    CaseFactory(
        brand=brand,
        location=store,
        opened_at=now - timedelta(days=3),
        acknowledged_at=now - timedelta(days=3) + timedelta(hours=1),
        resolved_at=now - timedelta(days=2),
        status=Case.Status.RESOLVED,
        resurvey_score=9,
        recovered=True,
        root_cause="waiting",
    )
    report = api(owner)("get", "/cases/report").json()
    assert report["opened"] == 1
    assert report["recovery_rate"]["value"] == 100.0 and report["recovery_rate"]["n"] == 1
    assert report["time_to_acknowledge"]["median_hours"] == pytest.approx(1)
    assert report["root_causes"] == [{"root_cause": "waiting", "label": "Waiting time", "cases": 1}]
    assert isinstance(report["playbook_outcomes"], list)
    empty = api(owner)("get", "/cases/report", since="2000-01-01T00:00", until="2000-02-01T00:00")
    assert empty.json()["time_to_resolve"] is None
