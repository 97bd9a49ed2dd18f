"""Fan-out of public events and sending deliveries, against a real HTTP receiver."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.integrations import flows
from opencx.integrations.catalogue import CATALOGUE
from opencx.integrations.models import WebhookDelivery, WebhookEndpoint
from opencx.integrations.services import webhook_deliveries_retry_due
from opencx.integrations.signing import verify_signature
from opencx.platform.events import emit
from opencx.surveys.services import response_record, response_update
from tests import factories

pytestmark = pytest.mark.usefixtures("immediate_tasks")


def _record(make_survey, store, *, partial=False, comment="Lovely staff"):
    survey, headline, follow_up = make_survey("nps")
    answers = {headline.pk: 9}
    if comment:
        answers[follow_up.pk] = comment
    return response_record(
        survey=survey, location=store, answers=answers, language="en", is_partial=partial
    )


def test_a_complete_response_is_delivered_signed(
    receiver, make_endpoint, make_survey, store, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = _record(make_survey, store)
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    headers = {key.lower(): value for key, value in sent["headers"].items()}
    assert verify_signature(
        secret=endpoint.secret, header=headers["opencx-signature"], body=sent["body"]
    )
    assert headers["opencx-event"] == "response.received"
    assert headers["user-agent"] == "OpenCX-Webhooks/1"
    assert headers["content-type"] == "application/json"
    body = json.loads(sent["body"])
    assert body["event"] == "response.received"
    assert body["brand"] == "bottega"
    assert body["data"]["id"] == response.pk
    assert body["data"]["score"] == 9
    assert body["data"]["location"]["code"] == "milano"
    assert body["data"]["comment"] == "Lovely staff"
    assert "T" in body["data"]["completed_at"]
    delivery = WebhookDelivery.objects.get()
    assert headers["opencx-delivery"] == str(delivery.pk)
    assert body["id"] == delivery.event_id
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    assert delivery.response_code == 200
    assert delivery.response_body == '{"ok": true}'
    assert delivery.delivered_at is not None
    assert delivery.duration_ms is not None
    assert delivery.request_headers["OpenCX-Event"] == "response.received"


def test_a_partial_response_is_sent_only_when_it_completes(
    receiver, make_endpoint, make_survey, store, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = _record(make_survey, store, partial=True, comment="")
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=response, answers={}, complete=True)
    assert [receiver.json(0)["event"]] == ["response.received"]
    assert receiver.json(0)["data"]["is_partial"] is False


def test_every_endpoint_gets_the_same_event_id_and_a_re_emit_is_not_queued_twice(
    receiver, make_endpoint, brand, store, make_survey, django_capture_on_commit_callbacks
):
    first = make_endpoint(receiver.url, name="one")
    second = make_endpoint(receiver.url, name="two")
    response = _record(make_survey, store)  # callbacks not run: nothing sent yet
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            emit("response.completed", response_id=response.pk, brand_id=brand.pk)
    deliveries = WebhookDelivery.objects.all()
    assert sorted(d.endpoint_id for d in deliveries) == sorted([first.pk, second.pk])
    assert len({d.event_id for d in deliveries}) == 1
    assert len(receiver.requests) == 2


def test_endpoints_of_other_brands_inactive_ones_and_unsubscribed_ones_get_nothing(
    committed, receiver, make_endpoint, other_brand, brand, store, make_survey
):
    make_endpoint(receiver.url, of_brand=other_brand)
    make_endpoint(receiver.url, is_active=False)
    make_endpoint(receiver.url, events=["case.opened"])
    wanted = make_endpoint(receiver.url, events=["response.received"])
    response = _record(make_survey, store)
    committed(
        flows.fan_out, CATALOGUE["response.received"], response_id=response.pk, brand_id=brand.pk
    )
    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [wanted.pk]


def test_a_refusal_is_retried_with_back_off_then_given_up(
    committed, receiver, make_endpoint, brand, store
):
    receiver.status = 500
    receiver.answer = b"boom" * 1000
    make_endpoint(receiver.url)
    response = factories.ResponseFactory(
        survey=factories.SurveyFactory(brand=brand), location=store
    )
    before = timezone.now()
    committed(
        flows.fan_out, CATALOGUE["response.received"], response_id=response.pk, brand_id=brand.pk
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 1
    assert delivery.response_code == 500
    assert len(delivery.response_body) == 2048
    assert delivery.error.startswith("HTTP 500")
    waited = delivery.next_attempt_at - before
    assert timedelta(seconds=59) < waited < timedelta(minutes=1, seconds=30)

    # Not due yet: the periodic retry leaves it alone.
    assert committed(webhook_deliveries_retry_due) == 0
    for attempt in range(2, flows.MAX_ATTEMPTS + 1):
        previous = delivery.next_attempt_at
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        assert committed(webhook_deliveries_retry_due) == 1
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if attempt < flows.MAX_ATTEMPTS:
            assert delivery.status == WebhookDelivery.Status.FAILED
            step = flows.BACKOFF[attempt - 1]
            assert delivery.next_attempt_at - timezone.now() > step - timedelta(seconds=30)
            assert delivery.next_attempt_at > previous - timedelta(days=2)
    assert delivery.status == WebhookDelivery.Status.GAVE_UP
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == flows.MAX_ATTEMPTS
    assert committed(webhook_deliveries_retry_due, now=timezone.now() + timedelta(days=30)) == 0


def test_back_off_steps():
    minutes = [step.total_seconds() / 60 for step in flows.BACKOFF]
    assert minutes == [1, 5, 30, 120, 360, 720, 1440]


def test_a_recovered_receiver_gets_the_retry(committed, receiver, make_endpoint, brand, store):
    receiver.status = 503
    make_endpoint(receiver.url)
    response = factories.ResponseFactory(
        survey=factories.SurveyFactory(brand=brand), location=store
    )
    committed(
        flows.fan_out, CATALOGUE["response.received"], response_id=response.pk, brand_id=brand.pk
    )
    receiver.status = 204
    receiver.answer = b""
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    committed(webhook_deliveries_retry_due)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 2
    assert delivery.error == ""
    first, second = receiver.requests
    assert json.loads(first["body"]) == json.loads(second["body"])


def test_redirects_are_not_followed(receiver, make_endpoint, brand):
    receiver.redirect_to = "http://127.0.0.1:9/elsewhere"
    endpoint = make_endpoint(receiver.url)
    delivery = _ping_delivery(endpoint)
    assert flows.webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.response_code == 302
    assert len(receiver.requests) == 1


def test_a_connection_error_is_recorded(make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/closed")
    delivery = _ping_delivery(endpoint)
    assert flows.webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert delivery.error


def test_an_attempt_is_claimed_once(receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    delivery = _ping_delivery(endpoint)
    stale = WebhookDelivery.objects.get(pk=delivery.pk)  # read by a second worker
    assert flows.webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.DELIVERED
    assert not flows._claim(stale, timezone.now())
    assert flows.webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.DELIVERED
    assert len(receiver.requests) == 1


def test_a_lapsed_claim_is_due_again(committed, receiver, make_endpoint):
    endpoint = make_endpoint(receiver.url)
    delivery = _ping_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.SENDING, attempts=1, next_attempt_at=timezone.now()
    )
    assert committed(webhook_deliveries_retry_due, now=timezone.now() + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 2


def test_a_disabled_endpoint_gives_up_queued_events(receiver, make_endpoint, brand, store):
    endpoint = make_endpoint(receiver.url)
    response = factories.ResponseFactory(
        survey=factories.SurveyFactory(brand=brand), location=store
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    delivery = WebhookDelivery.objects.create(
        brand=brand,
        endpoint=endpoint,
        event="response.received",
        event_id="x",
        payload={"data": {"id": response.pk}},
    )
    assert flows.webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.GAVE_UP
    assert receiver.requests == []


def test_slack_endpoints_get_one_line_of_text(
    committed, receiver, make_endpoint, brand, store, make_survey
):
    make_endpoint(receiver.url, kind=WebhookEndpoint.Kind.SLACK)
    response = _record(make_survey, store, comment="Great <b>coffee</b> & cake")
    committed(
        flows.fan_out, CATALOGUE["response.received"], response_id=response.pk, brand_id=brand.pk
    )
    sent = receiver.requests[0]
    headers = {key.lower() for key in sent["headers"]}
    assert "opencx-signature" not in headers
    body = json.loads(sent["body"])
    assert list(body) == ["text"]
    text = body["text"]
    assert "NPS 9" in text and "Milano Centro" in text
    assert "coffee" in text and "&amp; cake" in text and "<b>" not in text
    assert f"/b/bottega/surveys/responses/{response.pk}/|Open in OpenCX>" in text
    assert "\n" not in text


def test_slack_text_of_a_case_event():
    body = {
        "event": "case.changed",
        "brand": "bottega",
        "data": {"id": 7, "title": "Cold coffee", "change": "owner", "url": "https://x/c/7"},
    }
    assert (
        flows.slack_text(body)
        == "Case #7 changed (owner): Cold coffee <https://x/c/7|Open in OpenCX>"
    )


def _ping_delivery(endpoint):
    return WebhookDelivery.objects.create(
        brand=endpoint.brand,
        endpoint=endpoint,
        event="ping",
        event_id="11111111-1111-1111-1111-111111111111",
        payload={"id": "1", "event": "ping", "data": {}},
        next_attempt_at=timezone.now(),
    )


def test_case_events_are_delivered(receiver, make_endpoint, owner_actor, store, committed, brand):
    from opencx.cases.services import case_open_manually

    make_endpoint(receiver.url, events=["case.opened", "case.changed"])
    case = committed(case_open_manually, actor=owner_actor, location=store, title="Cold coffee")
    opened = [json.loads(r["body"]) for r in receiver.requests]
    assert [body["event"] for body in opened] == ["case.opened"]
    assert opened[0]["data"]["id"] == case.pk
    assert opened[0]["data"]["title"] == "Cold coffee"
    committed(emit, "case.changed", case_id=case.pk, brand_id=brand.pk, change="priority")
    changed = receiver.json()
    assert changed["event"] == "case.changed"
    assert changed["data"]["change"] == "priority"
    assert changed["id"] != opened[0]["id"]


def test_a_case_link_in_slack(receiver, make_endpoint, owner_actor, store, committed):
    from opencx.cases.services import case_open_manually

    make_endpoint(receiver.url, kind=WebhookEndpoint.Kind.SLACK, events=["case.opened"])
    case = committed(case_open_manually, actor=owner_actor, location=store, title="Cold coffee")
    text = receiver.json()["text"]
    assert text.startswith(f"Case #{case.pk} opened: Cold coffee <http")
    assert text.endswith(f"/b/bottega/cases/{case.pk}/|Open in OpenCX>")
