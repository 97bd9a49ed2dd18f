"""A new user's first minutes: log in, see the demo overview, switch to a location, log out."""

import pytest
from django.conf import settings
from django.core.management import call_command

from opencx.platform.models import Location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_brand():
    call_command("demo", "--contacts", "120", "--responses", "1500", verbosity=0)


def test_log_in_see_overview_switch_location_log_out(page, demo_brand, tmp_path):
    page.goto("/")
    page.get_by_label("E-mail").fill("owner@demo.opencx.org")
    page.get_by_label("Password").fill(settings.OPENCX_DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("heading", name="Overview").wait_for()
    assert page.get_by_text("Net Promoter Score").is_visible()
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    store = Location.objects.filter(kind="store").order_by("path").first()
    page.get_by_label("Location").select_option(label=f"{store.depth_indent}{store.name}")
    page.get_by_role("heading", name=f"Overview · {store.name}").wait_for()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in to OpenCX").wait_for()
    page.goto("/")
    assert "/accounts/login/" in page.url
