"""Routes of the contacts, surveys, feedback and inbox APIs: scoped reads and filters."""

from datetime import UTC, datetime

import pytest

from tests.factories import (
    ContactFactory,
    ConversationFactory,
    FeedbackItemFactory,
    IdentityFactory,
    LocationFactory,
    MessageFactory,
    ResponseFactory,
    SurveyFactory,
)

from .conftest import assert_error

pytestmark = pytest.mark.django_db
B = "/brands/bottega"


def _ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


# --- contacts ---------------------------------------------------------------------------------


@pytest.fixture
def contacts(brand, store, sibling_store, other_brand):
    anna = ContactFactory(brand=brand, name="Anna Rossi", home_location=store)
    IdentityFactory(contact=anna, value="anna@example.test", is_primary=True)
    IdentityFactory(contact=anna, kind="phone", value="+393331234567")
    luca = ContactFactory(brand=brand, name="Luca Bianchi", home_location=sibling_store)
    nobody = ContactFactory(brand=brand, name="Brand-level", home_location=None)
    theirs = ContactFactory(brand=other_brand, name="Anna Rival")
    return anna, luca, nobody, theirs


def test_contact_list_and_search(owner_api, contacts):
    anna, luca, nobody, theirs = contacts
    assert _ids(owner_api.get(f"{B}/contacts")) == {anna.pk, luca.pk, nobody.pk}
    assert _ids(owner_api.get(f"{B}/contacts", {"q": "anna"})) == {anna.pk}
    assert _ids(owner_api.get(f"{B}/contacts", {"q": "3331234"})) == {anna.pk}
    assert _ids(owner_api.get(f"{B}/contacts", {"q": "bianchi"})) == {luca.pk}


def test_contact_detail_has_identities(owner_api, contacts):
    anna = contacts[0]
    body = owner_api.get(f"{B}/contacts/{anna.pk}").json()
    assert body["name"] == "Anna Rossi"
    assert [(i["kind"], i["value"], i["is_primary"]) for i in body["identities"]] == [
        ("email", "anna@example.test", True),
        ("phone", "+393331234567", False),
    ]


def test_contacts_for_a_store_manager(manager_api, contacts):
    anna, luca, nobody, theirs = contacts
    assert _ids(manager_api.get(f"{B}/contacts")) == {anna.pk}
    for other in (luca, nobody, theirs):
        assert_error(manager_api.get(f"{B}/contacts/{other.pk}"), 404, "not_found", "contact")


def test_contacts_for_a_stranger(stranger_api, contacts):
    assert_error(stranger_api.get(f"{B}/contacts"), 404, "not_found")
    assert_error(stranger_api.get(f"{B}/contacts/{contacts[0].pk}"), 404, "not_found")


# --- surveys and responses --------------------------------------------------------------------


@pytest.fixture
def responses(brand, store, sibling_store, other_brand):
    nps = SurveyFactory(brand=brand, name="Store NPS")
    csat = SurveyFactory(brand=brand, name="Delivery CSAT", kind="csat")
    at = lambda day: datetime(2026, 5, day, 12, tzinfo=UTC)  # noqa: E731
    return {
        "nps": nps,
        "csat": csat,
        "theirs_survey": SurveyFactory(brand=other_brand),
        "milano_early": ResponseFactory(survey=nps, location=store, created_at=at(1)),
        "milano_late": ResponseFactory(survey=csat, location=store, created_at=at(20)),
        "torino": ResponseFactory(survey=nps, location=sibling_store, created_at=at(10)),
        "theirs": ResponseFactory(
            survey=SurveyFactory(brand=other_brand),
            location=LocationFactory(brand=other_brand),
            created_at=at(10),
        ),
    }


def test_survey_list(owner_api, manager_api, stranger_api, responses):
    expected = {responses["nps"].pk, responses["csat"].pk}
    assert _ids(owner_api.get(f"{B}/surveys")) == expected
    assert _ids(manager_api.get(f"{B}/surveys")) == expected  # definitions are brand-level
    assert_error(stranger_api.get(f"{B}/surveys"), 404, "not_found")


def test_response_list_and_filters(owner_api, responses, store, region):
    r = responses
    everything = {r["milano_early"].pk, r["milano_late"].pk, r["torino"].pk}
    assert _ids(owner_api.get(f"{B}/responses")) == everything
    items = owner_api.get(f"{B}/responses").json()["items"]
    assert [i["id"] for i in items] == [r["milano_late"].pk, r["torino"].pk, r["milano_early"].pk]
    assert _ids(owner_api.get(f"{B}/responses", {"survey": r["nps"].pk})) == {
        r["milano_early"].pk,
        r["torino"].pk,
    }
    assert _ids(owner_api.get(f"{B}/responses", {"location": store.pk})) == {
        r["milano_early"].pk,
        r["milano_late"].pk,
    }
    assert _ids(owner_api.get(f"{B}/responses", {"location": region.pk})) == everything
    window = {"since": "2026-05-05T00:00:00Z", "until": "2026-05-20T12:00:00Z"}
    assert _ids(owner_api.get(f"{B}/responses", window)) == {r["torino"].pk}
    assert _ids(owner_api.get(f"{B}/responses", {"since": "2026-05-10"})) == {
        r["milano_late"].pk,
        r["torino"].pk,
    }
    assert_error(owner_api.get(f"{B}/responses", {"since": "soon"}), 422, "invalid", "since")


def test_responses_for_a_store_manager(manager_api, responses, sibling_store):
    r = responses
    assert _ids(manager_api.get(f"{B}/responses")) == {r["milano_early"].pk, r["milano_late"].pk}
    assert_error(
        manager_api.get(f"{B}/responses", {"location": sibling_store.pk}), 404, "not_found"
    )


def test_responses_of_another_brands_location_are_404(owner_api, responses):
    theirs = responses["theirs"].location
    assert_error(owner_api.get(f"{B}/responses", {"location": theirs.pk}), 404, "not_found")
    assert _ids(owner_api.get(f"{B}/responses", {"survey": responses["theirs_survey"].pk})) == set()


# --- feedback ---------------------------------------------------------------------------------


@pytest.fixture
def feedback(brand, store, sibling_store, other_brand):
    return {
        "milano_review": FeedbackItemFactory(brand=brand, location=store, source="google"),
        "milano_ticket": FeedbackItemFactory(
            brand=brand, location=store, kind="ticket", source="zendesk", rating=None
        ),
        "torino_review": FeedbackItemFactory(
            brand=brand, location=sibling_store, source="trustpilot"
        ),
        "brand_mention": FeedbackItemFactory(
            brand=brand, location=None, kind="mention", source="x"
        ),
        "theirs": FeedbackItemFactory(brand=other_brand),
    }


def test_feedback_list_and_filters(owner_api, feedback, store):
    f = feedback
    mine = {f[k].pk for k in ("milano_review", "milano_ticket", "torino_review", "brand_mention")}
    assert _ids(owner_api.get(f"{B}/feedback-items")) == mine
    assert _ids(owner_api.get(f"{B}/feedback-items", {"kind": "ticket"})) == {f["milano_ticket"].pk}
    assert _ids(owner_api.get(f"{B}/feedback-items", {"source": "trustpilot"})) == {
        f["torino_review"].pk
    }
    assert _ids(owner_api.get(f"{B}/feedback-items", {"location": store.pk})) == {
        f["milano_review"].pk,
        f["milano_ticket"].pk,
    }
    item = owner_api.get(f"{B}/feedback-items", {"source": "google"}).json()["items"][0]
    assert (item["rating"], item["rating_scale"]) == (4.0, 5)
    assert_error(owner_api.get(f"{B}/feedback-items", {"kind": "fax"}), 422, "invalid", "kind")


def test_feedback_items_carry_their_analysis_and_filter_by_it(owner_api, feedback, brand):
    from opencx.feedback.models import FeedbackItem
    from opencx.insights.models import TextSettings
    from tests.factories import FeedbackTopicFactory

    review = feedback["milano_review"]
    FeedbackItem.objects.filter(pk=review.pk).update(
        sentiment="negative",
        sentiment_score=-0.8,
        language="it",
        keyphrases=["mail me at ada@example.com"],
        text="Scrivetemi: ada@example.com",
    )
    FeedbackTopicFactory(item=review, topic="waiting_time")
    FeedbackTopicFactory(item=review, topic="price")

    found = owner_api.get(f"{B}/feedback-items", {"sentiment": "negative", "topic": "price"})
    [item] = found.json()["items"]
    assert item["id"] == review.pk
    assert (item["sentiment"], item["sentiment_score"]) == ("negative", -0.8)
    assert item["language"] == "it"
    assert item["topics"] == ["price", "waiting_time"]
    assert item["text"] == "Scrivetemi: ada@example.com"
    assert _ids(owner_api.get(f"{B}/feedback-items", {"language": "it"})) == {review.pk}
    assert _ids(owner_api.get(f"{B}/feedback-items", {"topic": "billing"})) == set()
    assert_error(
        owner_api.get(f"{B}/feedback-items", {"sentiment": "angry"}), 422, "invalid", "sentiment"
    )

    TextSettings.objects.create(brand=brand, redact_pii=True)
    [item] = owner_api.get(f"{B}/feedback-items", {"topic": "price"}).json()["items"]
    assert item["text"] == "Scrivetemi: [email]"
    assert item["keyphrases"] == ["mail me at [email]"]


def test_feedback_for_a_store_manager_and_a_stranger(
    manager_api, stranger_api, feedback, sibling_store
):
    f = feedback
    assert _ids(manager_api.get(f"{B}/feedback-items")) == {
        f["milano_review"].pk,
        f["milano_ticket"].pk,
    }
    assert_error(
        manager_api.get(f"{B}/feedback-items", {"location": sibling_store.pk}), 404, "not_found"
    )
    assert_error(stranger_api.get(f"{B}/feedback-items"), 404, "not_found")


# --- conversations ----------------------------------------------------------------------------


@pytest.fixture
def conversations(brand, store, sibling_store, other_brand, owner):
    milano = ConversationFactory(brand=brand, location=store)
    MessageFactory(conversation=milano, body="Where is my parcel?")
    MessageFactory(
        conversation=milano,
        direction="out",
        sender_kind="agent",
        sender=owner,
        is_private=True,
        body="Courier says Tuesday.",
    )
    resolved = ConversationFactory(brand=brand, location=store, status="resolved")
    torino = ConversationFactory(brand=brand, location=sibling_store)
    theirs = ConversationFactory(brand=other_brand)
    return milano, resolved, torino, theirs


def test_conversation_list_and_status_filter(owner_api, conversations):
    milano, resolved, torino, theirs = conversations
    assert _ids(owner_api.get(f"{B}/conversations")) == {milano.pk, resolved.pk, torino.pk}
    assert _ids(owner_api.get(f"{B}/conversations", {"status": "resolved"})) == {resolved.pk}
    assert _ids(owner_api.get(f"{B}/conversations", {"status": "open"})) == {milano.pk, torino.pk}
    assert_error(owner_api.get(f"{B}/conversations", {"status": "lost"}), 422, "invalid", "status")


def test_conversation_detail_shows_private_notes_flagged(api_as, make_actor, conversations, store):
    milano = conversations[0]
    agent = api_as(make_actor("agent", store).user)
    body = agent.get(f"{B}/conversations/{milano.pk}").json()
    assert [(m["body"], m["is_private"]) for m in body["messages"]] == [
        ("Where is my parcel?", False),
        ("Courier says Tuesday.", True),
    ]


def test_conversations_for_a_store_manager_and_a_stranger(manager_api, stranger_api, conversations):
    milano, resolved, torino, theirs = conversations
    assert _ids(manager_api.get(f"{B}/conversations")) == {milano.pk, resolved.pk}
    assert_error(manager_api.get(f"{B}/conversations/{torino.pk}"), 404, "not_found")
    assert_error(manager_api.get(f"{B}/conversations/{theirs.pk}"), 404, "not_found")
    assert_error(stranger_api.get(f"{B}/conversations"), 404, "not_found")
    assert_error(stranger_api.get(f"{B}/conversations/{milano.pk}"), 404, "not_found")


# --- lists keep a flat query count ------------------------------------------------------------


def test_list_queries_do_not_grow_with_rows(
    owner_api, brand, store, make_actor, django_assert_max_num_queries
):
    for _ in range(12):
        make_actor("agent", store)
        conversation = ConversationFactory(brand=brand, location=store)
        MessageFactory(conversation=conversation)
        ContactFactory(brand=brand, home_location=store)
    owner_api.patch(B, {"name": "Bottega 2"})
    for route in ("members", "audit-events", "conversations", "contacts", "locations"):
        with django_assert_max_num_queries(8):
            assert owner_api.get(f"{B}/{route}").status_code == 200
