"""Issue 7's "done when": a customer writes in the widget on one Chromium page; the agent, logged
in in another browser, sees the conversation appear in the queue and the customer's next line
appear in the conversation without reloading; the agent answers with a canned reply and the
customer sees the answer in the widget without reloading; the first response time shows on the
inbox report."""

import re

import pytest

from opencx.inbox import canned
from opencx.inbox.models import Conversation, Message
from opencx.inbox.widget import inbox_create_web_chat
from opencx.platform.actor import Actor
from opencx.platform.roles import Role
from tests.factories import PASSWORD, BrandFactory, LocationFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Do you bake gluten-free bread on Saturdays?"
FOLLOW_UP = "I would pick it up around ten."
ANSWER = "Yes: every Saturday from eight. We keep one for you until noon. Luca Verdi"
MARK = "window.__noReload = 'still here'"
NOT_RELOADED = "() => window.__noReload === 'still here'"


def _log_in(page, path: str, email: str) -> None:
    page.goto(path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _answer_with_canned_reply(desk, shortcut: str, expected: str) -> None:
    """The agent types /shortcut and Tab: the canned reply, filled in, replaces it; Send."""
    box = desk.get_by_label(re.compile("^Reply to the customer"))
    box.fill(f"/{shortcut}")
    box.press("End")
    box.press("Tab")
    desk.wait_for_function(
        "text => document.querySelector('#reply-body').value === text", arg=expected
    )
    desk.get_by_role("button", name="Send", exact=True).click()


def test_a_chat_is_answered_live_on_both_sides(browser, live_server):
    brand = BrandFactory(name="Bottega", slug="bottega", languages=["en"])
    store = LocationFactory(brand=brand, name="Milano Centro", code="milano")
    owner = MembershipFactory(brand=brand, role=Role.OWNER)
    agent = MembershipFactory(
        brand=brand,
        role=Role.AGENT,
        user__email="agent@bottega.test",
        user__first_name="Luca",
        user__last_name="Verdi",
    ).user
    owner_actor = Actor(user=owner.user, brand=brand, membership=owner)
    canned.canned_reply_create(
        actor=owner_actor,
        shortcut="saturday",
        title="Saturday bread",
        body="Yes: every Saturday from eight. We keep one for you until noon. {{ agent.name }}",
    )
    chat = inbox_create_web_chat(
        actor=Actor(user=owner.user, brand=brand, membership=owner),
        name="Bakery chat",
        location=store,
        greeting="Ciao! Ask us anything.",
    ).web_chat

    # The agent watches the (empty) queue.
    desk_context = browser.new_context(base_url=live_server.url)
    desk = desk_context.new_page()
    desk.set_default_timeout(15_000)
    _log_in(desk, f"/b/{brand.slug}/inbox/", agent.email)
    desk.get_by_role("heading", name="Inbox").wait_for()
    desk.evaluate(MARK)

    # The customer writes in the widget on the demo page (the snippet a site embeds).
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    customer = phone.new_page()
    customer.set_default_timeout(15_000)
    customer.goto(f"/widget/{chat.widget_key}/demo/")
    customer.get_by_role("button", name="Chat with us").click()
    customer.get_by_text("Ciao! Ask us anything.").wait_for()
    message_box = customer.get_by_label("Message", exact=True)
    # Opening the panel puts the keyboard in the message box (inside the widget's shadow root).
    assert customer.evaluate("() => document.activeElement.shadowRoot.activeElement.id") == (
        "ocx-message"
    )
    message_box.fill(QUESTION)
    customer.get_by_role("button", name="Send", exact=True).click()
    customer.locator("li.msg.visitor:not(.pending)").filter(has_text=QUESTION).wait_for()
    customer.evaluate(MARK)

    # It appears in the agent's queue without a reload.
    link = desk.get_by_role("link", name=QUESTION)
    link.wait_for()
    assert desk.evaluate(NOT_RELOADED)
    conversation = Conversation.objects.get()
    assert conversation.inbox_id == chat.inbox_id and conversation.status == "open"

    # The agent opens it; the customer's next line arrives live.
    link.click()
    desk.get_by_role("heading", name=QUESTION).wait_for()
    desk.evaluate(MARK)
    message_box.fill(FOLLOW_UP)
    customer.get_by_role("button", name="Send", exact=True).click()
    desk.locator("ol.thread").get_by_text(FOLLOW_UP).wait_for()
    assert desk.evaluate(NOT_RELOADED)

    # The agent answers with the canned reply; the customer sees it without reloading.
    _answer_with_canned_reply(desk, "saturday", ANSWER)
    customer.locator("li.msg.agent").filter(has_text=ANSWER).wait_for()
    assert "Luca" in customer.locator("li.msg.agent").last.inner_text()
    assert customer.evaluate(NOT_RELOADED)
    assert list(
        Message.objects.filter(conversation=conversation).values_list("direction", "body")
    ) == [("in", QUESTION), ("in", FOLLOW_UP), ("out", ANSWER)]
    conversation.refresh_from_db()
    assert conversation.first_reply_at is not None

    # The first response time shows on the inbox report, for the agent who answered.
    owner_page = desk_context.browser.new_context(base_url=live_server.url).new_page()
    _log_in(owner_page, f"/b/{brand.slug}/insights/inbox/", owner.user.email)
    report = owner_page.get_by_role("table").filter(has_text="Median first response").first
    row = report.locator("tbody tr").filter(has_text="Luca")
    row.wait_for()
    assert re.search(r"\d+ min|\d+\.\d h", row.inner_text())
    owner_page.context.close()

    # A new page of the customer's site shows the whole conversation again.
    customer.reload()
    customer.get_by_role("button", name="Chat with us").click()
    customer.locator("li.msg.agent").filter(has_text=ANSWER).wait_for()
    phone.close()
    desk_context.close()
