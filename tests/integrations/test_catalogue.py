import pytest

from opencx.integrations.catalogue import CATALOGUE, public_event, response_payload
from opencx.surveys.services import response_record
from tests import factories


def test_response_payload(make_survey, store, brand):
    survey, headline, follow_up = make_survey("nps")
    contact = factories.ContactFactory(brand=brand)
    from opencx.contacts.models import Identity

    Identity.objects.create(brand=brand, contact=contact, kind="email", value="ann@example.test")
    response = response_record(
        survey=survey,
        location=store,
        answers={headline.pk: 3, follow_up.pk: "Slow"},
        language="it",
        contact=contact,
    )
    data = response_payload(response_id=response.pk)
    assert data["survey"] == {
        "id": survey.pk,
        "slug": survey.slug,
        "name": survey.name,
        "kind": "nps",
    }
    assert data["answers"] == {headline.key: 3, follow_up.key: "Slow"}
    assert data["contact"] == {"id": contact.pk, "email": "ann@example.test"}
    assert (data["language"], data["score"], data["comment"]) == ("it", 3, "Slow")
    assert response_payload(response_id=10**9) is None


def test_catalogue_names_and_sources():
    assert set(CATALOGUE) == {
        "response.received",
        "case.opened",
        "case.changed",
        "case.closed",
        "case.escalated",
        "alert.raised",
    }
    assert CATALOGUE["response.received"].sources == ("response.completed",)
    assert public_event("ping") is not None


@pytest.mark.django_db
def test_an_alert_that_is_gone_has_no_payload():
    # The payload of a real alert is tested with the alerts (tests/insights/test_alerts.py).
    assert CATALOGUE["alert.raised"].build(alert_id=4, brand_id=1) is None
