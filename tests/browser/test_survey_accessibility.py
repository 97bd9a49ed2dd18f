"""The hosted survey pages against axe-core's WCAG 2.1 A/AA rules, at a phone's size."""

from pathlib import Path

import pytest

from opencx.surveys.definitions import library
from opencx.surveys.services import link_ensure, survey_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _violations(page) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {v['nodes'][0]['html'][:120]})"
        for v in result["violations"]
    ]


@pytest.mark.parametrize("language", ["it", "cy", "ru"])
def test_every_step_of_the_nps_survey_passes_wcag_21_aa(
    browser, live_server, owner_actor, store, language
):
    survey = survey_import(actor=owner_actor, spec=library()["nps"])
    link = link_ensure(actor=owner_actor, survey=survey, location=store)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"/s/{link.token}/?lang={language}")
    assert _violations(page) == []
    page.locator("button[type=submit]").click()  # nothing chosen: the error state
    page.locator("#problems").wait_for()
    assert _violations(page) == []
    page.locator("label").filter(has_text="10").first.click()
    page.locator("textarea").wait_for()
    assert _violations(page) == []
    page.locator("button[type=submit]").click()
    page.locator("h1").wait_for()
    assert _violations(page) == []
    context.close()
