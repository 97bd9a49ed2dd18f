"""Issue 5 in a real browser: the demo's analysed feedback, its Topics page finding the planted
topic that drives detractors, drill-down to the comments, and a person correcting a label."""

import pytest
from django.conf import settings
from django.core.management import call_command

from opencx.insights.models import LabelCorrection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_brand():
    call_command("demo", "--contacts", "120", "--responses", "1500", verbosity=0)


def test_topics_drill_down_and_a_label_correction(page, demo_brand):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_label("E-mail").fill("owner@demo.opencx.org")
    page.get_by_label("Password").fill(settings.OPENCX_DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Overview").wait_for()

    page.get_by_role("link", name="Topics", exact=True).click()
    page.get_by_role("heading", name="Topics", exact=True).wait_for()
    # Ranked by what a topic does to NPS: the demo's planted driver of detractors comes first.
    first = page.locator("table tbody tr").first
    assert first.locator("th, td").first.inner_text().strip() == "Returns and refunds"
    assert "lowers NPS" in first.inner_text()

    first.locator("td").first.get_by_role("link").click()
    page.get_by_role("heading", name="Feedback").wait_for()
    assert page.get_by_label("Topic").input_value() == "returns"
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    assert "Returns and refunds" in rows.first.inner_text()

    rows.first.locator("a").filter(has_not_text="Returns").first.click()
    panel = page.locator("section[id^=labels-]")
    panel.wait_for()
    shown = panel.locator("p", has_text="Shown:").inner_text()
    other = next(
        label for label in ("Negative", "Neutral", "Positive") if f"Shown: {label}" not in shown
    )
    panel.get_by_role("button", name=other, exact=True).click()
    page.get_by_text(f"Shown: {other}").wait_for()
    assert "corrected by" in panel.inner_text()
    assert LabelCorrection.objects.filter(field="sentiment", corrected=other.lower()).count() == 1

    page.get_by_role("link", name="How accurate are the labels?").click()
    page.get_by_role("heading", name="Label accuracy").wait_for()
    assert errors == []
