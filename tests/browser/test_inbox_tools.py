"""The agent's tools in a real browser: a canned reply typed as /shortcut + Tab or picked from
the list lands in the reply box filled in; ticking all rows and one bulk action changes them."""

import pytest

from opencx.inbox import canned
from opencx.inbox.models import Conversation
from opencx.platform.actor import Actor
from opencx.platform.roles import Role
from tests.factories import (
    PASSWORD,
    BrandFactory,
    ContactFactory,
    ConversationFactory,
    LocationFactory,
    MembershipFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, path: str, email: str) -> None:
    page.goto(path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def desk(page):
    brand = BrandFactory(name="Bottega", slug="bottega", languages=["en"])
    store = LocationFactory(brand=brand, name="Milano Centro", code="milano")
    owner = MembershipFactory(brand=brand, role=Role.OWNER, user__first_name="Giulia")
    actor = Actor(user=owner.user, brand=brand, membership=owner)
    canned.canned_reply_create(
        actor=actor, shortcut="thanks", title="Thanks", body="Grazie {{ contact.first_name }}!"
    )
    canned.canned_reply_create(
        actor=actor, shortcut="sign", title="Signature", body="{{ agent.name }}, {{ brand.name }}"
    )
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    conversations = [
        ConversationFactory(brand=brand, location=store, contact=contact) for _ in range(3)
    ]
    _log_in(page, f"/b/{brand.slug}/inbox/", owner.user.email)
    page.get_by_role("heading", name="Inbox").wait_for()
    return page, brand, conversations


def test_canned_replies_fill_the_reply_box(desk):
    page, brand, conversations = desk
    page.goto(f"/b/{brand.slug}/inbox/{conversations[0].pk}/")
    box = page.locator("#reply-body")
    box.fill("Hello. /thanks")
    box.press("End")
    box.press("Tab")
    page.wait_for_function("document.querySelector('#reply-body').value.includes('Grazie')")
    assert box.input_value() == "Hello. Grazie Marta!"
    box.press("End")
    box.type(" ")
    page.get_by_label("Canned reply").select_option(label="/sign · Signature")
    page.wait_for_function("document.querySelector('#reply-body').value.includes('Bottega')")
    value = box.input_value()  # inserted at the cursor, after what was there
    assert value.startswith("Hello. Grazie Marta! Giulia") and value.endswith(", Bottega")


def test_bulk_priority_on_all_rows(desk):
    page, brand, conversations = desk
    page.get_by_label("Select all on this page").check()
    page.get_by_label("With the ticked conversations").select_option(label="Set priority")
    assert page.get_by_label("Priority", exact=True).last.is_visible()
    page.locator("form.bulk select[name=priority]").select_option("urgent")
    page.locator("form.bulk").get_by_role("button", name="Apply").click()
    page.get_by_text("Set priority: 3 of 3 done.").wait_for()
    assert set(Conversation.objects.values_list("priority", flat=True)) == {"urgent"}
