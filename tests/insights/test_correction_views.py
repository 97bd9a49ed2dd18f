"""Pages of label corrections: the panel on a feedback item and the accuracy page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.feedback.models import FeedbackItem
from opencx.insights.models import LabelCorrection, TextSettings
from opencx.platform.roles import Role
from tests.factories import FeedbackItemFactory, FeedbackTopicFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def item(brand, store):
    found = FeedbackItemFactory(
        brand=brand,
        location=store,
        title="",
        text="The queue was endless.",
        sentiment="neutral",
        sentiment_score=0.0,
        language="en",
        analysed_at=timezone.now(),
        analysis_version=1,
    )
    FeedbackTopicFactory(item=found, topic="waiting_time")
    return found


def _panel_url(brand, item):
    return reverse("labels:panel", args=[brand.slug, item.pk])


def _as(client, make_actor, role, location=None):
    actor = make_actor(role, location)
    client.force_login(actor.user)
    return actor


def test_the_feedback_page_fetches_the_panel(client, brand, item, owner):
    client.force_login(owner)
    page = client.get(reverse("feedback:detail", args=[brand.slug, item.pk]))
    assert f'hx-get="{_panel_url(brand, item)}"' in page.content.decode()


def test_the_panel_offers_corrections_to_those_who_work_feedback(client, brand, item, make_actor):
    _as(client, make_actor, Role.AGENT)
    html = client.get(_panel_url(brand, item), headers=HTMX).content.decode()
    assert "<html" not in html  # a fragment
    assert 'name="sentiment" value="negative"' in html
    assert 'value="waiting_time" checked' in html
    assert "✓ Right: Neutral" in html

    client.force_login(_as(client, make_actor, Role.VIEWER).user)
    html = client.get(_panel_url(brand, item), headers=HTMX).content.decode()
    assert "Neutral" in html and 'name="sentiment"' not in html and "<form" not in html


def test_without_htmx_the_panel_is_a_page(client, brand, item, owner):
    client.force_login(owner)
    html = client.get(_panel_url(brand, item)).content.decode()
    assert "<html" in html and 'name="field" value="sentiment"' in html


def test_correcting_the_sentiment_through_htmx(client, brand, item, make_actor):
    _as(client, make_actor, Role.AGENT)
    response = client.post(
        _panel_url(brand, item), {"field": "sentiment", "sentiment": "negative"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sentiment corrected. Thank you." in html
    assert "the model said neutral; corrected by" in html
    item.refresh_from_db()
    assert item.sentiment == "negative"


def test_correcting_topics_without_htmx_goes_back_to_the_item(client, brand, item, owner):
    client.force_login(owner)
    response = client.post(
        _panel_url(brand, item), {"field": "topics", "topics": ["price", "waiting_time"]}
    )
    assert response.url == reverse("feedback:detail", args=[brand.slug, item.pk])
    assert LabelCorrection.objects.get().corrected == ["price", "waiting_time"]


def test_a_bad_verdict_is_shown_in_the_panel(client, brand, item, owner):
    client.force_login(owner)
    response = client.post(
        _panel_url(brand, item), {"field": "topics", "topics": ["<script>"]}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200  # HTMX swaps only successful responses
    assert 'role="alert"' in html and "is not a topic of this brand" in html
    assert "<script>" not in html
    assert not LabelCorrection.objects.exists()


def test_viewers_and_other_stores_may_not_correct(client, brand, item, make_actor, sibling_store):
    _as(client, make_actor, Role.VIEWER)
    body = {"field": "sentiment", "sentiment": "negative"}
    assert client.post(_panel_url(brand, item), body).status_code == 403
    _as(client, make_actor, Role.LOCATION_MANAGER, sibling_store)
    assert client.post(_panel_url(brand, item), body).status_code == 404
    assert client.get(_panel_url(brand, item)).status_code == 404
    assert not LabelCorrection.objects.exists()


def test_the_accuracy_page_shows_the_figures(client, brand, item, owner):
    client.force_login(owner)
    client.post(_panel_url(brand, item), {"field": "sentiment", "sentiment": "negative"})
    html = client.get(reverse("labels:accuracy", args=[brand.slug])).content.decode()
    assert "Verdicts agreeing with the model" in html
    assert "n = 1" in html and "thin sample" in html
    assert "Model against people" in html
    assert "not adapted to this brand yet" in html
    assert "Retrain on the verdicts" in html


def test_the_accuracy_page_says_when_the_model_was_retrained(client, brand, make_actor):
    TextSettings.objects.create(brand=brand, adapter_trained_at=timezone.now(), adapter_examples=42)
    _as(client, make_actor, Role.AGENT)
    html = client.get(reverse("labels:accuracy", args=[brand.slug])).content.decode()
    assert "on 42 verdicts" in html
    assert "Retrain on the verdicts" not in html  # agents do not retrain
    assert "No sentiment verdicts yet" in html


def test_retrain_refuses_thin_evidence_with_a_message(client, brand, item, owner):
    client.force_login(owner)
    response = client.post(reverse("labels:retrain", args=[brand.slug]), follow=True)
    assert "at least 10 sentiment verdicts; this brand has 0" in response.content.decode()
    assert TextSettings.objects.filter(brand=brand, adapter__isnull=False).count() == 0


def test_retrain_runs_in_the_background(
    client, brand, store, owner, immediate_tasks, django_capture_on_commit_callbacks
):
    TextSettings.objects.create(brand=brand, mode="fast")
    client.force_login(owner)
    texts = [f"Our order {n} came florped." for n in range(8)] + [
        "Lovely staff, thank you.",
        "The shop opens at nine.",
        "Great value.",
    ]
    for n, text in enumerate(texts):
        found = FeedbackItemFactory(
            brand=brand, location=store, title="", text=text, sentiment="neutral",
            language="en", analysed_at=timezone.now(), analysis_version=1,
        )  # fmt: skip
        label = "negative" if n < 8 else ("positive" if "ovely" in text else "neutral")
        client.post(_panel_url(brand, found), {"field": "sentiment", "sentiment": label})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("labels:retrain", args=[brand.slug]), follow=True)
    assert "Retraining on 11 verdicts has started" in response.content.decode()
    settings_ = TextSettings.objects.get(brand=brand)
    assert settings_.adapter_examples == 11 and settings_.adapter["mode"] == "fast"
    # ...and the re-analysis that followed kept the people's labels.
    assert set(FeedbackItem.objects.filter(brand=brand).values_list("sentiment", flat=True)) == {
        "negative",
        "neutral",
        "positive",
    }
    assert not FeedbackItem.objects.filter(brand=brand, analysis_version__lt=settings_.version)


def test_only_brand_wide_feedback_managers_retrain(client, brand, store, make_actor):
    for role, location in [(Role.AGENT, None), (Role.VIEWER, None), (Role.CX_MANAGER, store)]:
        _as(client, make_actor, role, location)
        assert client.post(reverse("labels:retrain", args=[brand.slug])).status_code == 403
    assert client.get(reverse("labels:retrain", args=[brand.slug])).status_code == 405
