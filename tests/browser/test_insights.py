"""The Overview's trend chart, the Insights leaderboard and a CSV download, in a real browser."""

import csv
import io

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_brand():
    call_command("demo", "--contacts", "120", "--responses", "1500", verbosity=0)


def test_overview_chart_leaderboard_and_csv_download(page, demo_brand, tmp_path):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_label("E-mail").fill("owner@demo.opencx.org")
    page.get_by_label("Password").fill(settings.OPENCX_DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Overview").wait_for()

    # The NPS trend is drawn by the vendored Chart.js (the figure is marked once drawn).
    chart = page.locator("#chart-nps-trend.is-drawn canvas")
    chart.wait_for()
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert page.evaluate("typeof window.Chart") == "function"
    # Its data table stays available (collapsed) for keyboard and screen-reader users.
    assert page.locator("#chart-nps-trend details.chart-data").count() == 1
    assert page.get_by_text("The change is").is_visible()
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.get_by_role("link", name="Insights: location leaderboard").click()
    page.get_by_role("heading", name="Location leaderboard").wait_for()
    leaderboard = page.get_by_role("table", name="Location leaderboard")
    assert leaderboard.locator("tbody tr").count() >= 2
    assert page.locator("#chart-leaderboard.is-drawn canvas").is_visible()

    with page.expect_download() as download_info:
        page.locator("#leaderboard").locator("..").get_by_role(
            "link", name="CSV of leaderboard"
        ).click()
    download = download_info.value
    assert download.suggested_filename.startswith("demo-leaderboard-")
    assert download.suggested_filename.endswith(".csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Rank", "Location", "Shrunken NPS"]
    assert len(rows) == leaderboard.locator("tbody tr").count() + 1
    assert errors == []
