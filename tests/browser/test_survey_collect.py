"""Issue 4's "done when": a customer answers a store's QR-code survey on a phone, in Italian,
and the manager sees the response in the responses table and the Overview's NPS move."""

import pytest
from django.conf import settings
from django.core.management import call_command

from opencx.surveys.models import Response, SurveyLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
COMMENT = "La commessa è stata scortese e la coda lunghissima"


@pytest.fixture
def demo_brand():
    call_command("demo", "--contacts", "120", "--responses", "1500", verbosity=0)


def _store_row(page, store_name):
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=store_name))
    cells = row.locator("td")
    return float(cells.nth(1).inner_text()), int(cells.nth(3).inner_text().split()[0])


def test_phone_qr_survey_in_italian_reaches_the_table_and_moves_the_nps(
    browser, live_server, demo_brand, tmp_path
):
    link = SurveyLink.objects.select_related("location").order_by("location__path").first()
    store = link.location

    manager = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    desk = manager.new_page()
    desk.set_default_timeout(15_000)
    desk.goto("/")
    desk.get_by_label("E-mail").fill("owner@demo.opencx.org")
    desk.get_by_label("Password").fill(settings.OPENCX_DEMO_PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_role("heading", name="Overview").wait_for()
    nps_before, n_before = _store_row(desk, store.name)

    phone = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, locale="it-IT"
    )
    customer = phone.new_page()
    customer.set_default_timeout(15_000)
    errors = []
    customer.on("pageerror", lambda error: errors.append(str(error)))
    customer.goto(f"/s/{link.token}/")  # what the QR code on the counter opens
    assert customer.locator("html").get_attribute("lang") == "it"
    customer.get_by_text("Quanto è probabile").wait_for()
    customer.screenshot(path=str(tmp_path / "score.png"), full_page=True)
    customer.locator("label").filter(has_text="2").first.tap()  # one tap saves the score
    customer.get_by_text("Passaggio 2 di 2").wait_for()
    assert Response.objects.filter(link=link, is_partial=True).count() == 1
    customer.locator("textarea").fill(COMMENT)
    customer.get_by_role("button", name="Invia").tap()
    customer.get_by_role("heading", name="Grazie!").wait_for()
    customer.screenshot(path=str(tmp_path / "thanks.png"), full_page=True)
    assert errors == []

    response = Response.objects.get(link=link)
    assert (response.score, response.is_partial, response.language) == (2, False, "it")

    desk.goto("/b/demo/surveys/responses/?q=scortese")
    row = desk.get_by_role("row").filter(has_text=COMMENT)
    row.wait_for()
    assert desk.locator("tbody tr").count() == 1  # the search finds just this one
    row.get_by_role("link").first.click()
    desk.get_by_text(COMMENT).wait_for()
    assert desk.get_by_role("main").get_by_text(store.name).first.is_visible()

    desk.goto("/")
    desk.get_by_role("heading", name="Overview").wait_for()
    nps_after, n_after = _store_row(desk, store.name)
    assert n_after == n_before + 1
    assert nps_after < nps_before  # a detractor pulls the store's NPS down
    manager.close()
    phone.close()


def test_the_score_question_works_without_javascript(browser, live_server, demo_brand):
    link = SurveyLink.objects.order_by("location__path").first()
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"/s/{link.token}/")
    page.locator("label").filter(has_text="9").first.click()
    page.get_by_role("button", name="Next").click()
    page.locator("textarea").fill("Lovely staff")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you!").wait_for()
    response = Response.objects.get(link=link)
    assert (response.score, response.comment, response.is_partial) == (9, "Lovely staff", False)
    context.close()
