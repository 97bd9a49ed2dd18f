"""Issue 6's "done when": a detractor answers an invitation → a case opens for the store's manager
→ the manager's e-mail reaches a local SMTP server and the webhook reaches a local HTTP receiver,
correctly signed → the manager replies and resolves in the browser → the re-survey goes out →
the customer answers it and the case shows the customer won back."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from opencx.cases.models import Case, CaseRule
from opencx.integrations.services import webhook_endpoint_create
from opencx.integrations.signing import verify_signature
from opencx.platform.actor import Actor
from opencx.platform.roles import Role
from opencx.surveys.services import invitation_create
from tests.factories import (
    PASSWORD,
    BrandFactory,
    ContactFactory,
    IdentityFactory,
    LocationFactory,
    MembershipFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPLAINT = "Waited forty minutes and nobody apologised"
REPLY = "We are sorry about the wait. Your next coffee is on us."


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers.items()), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/opencx"

    def events(self, name: str) -> list[dict]:
        return [r for r in self.requests if json.loads(r["body"])["event"] == name]


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()


def _path_of_link(mail, pattern: str) -> str:
    text = mail.get_body(("plain",)).get_content()
    url = re.search(rf"https?://\S*{pattern}\S*", text).group(0)
    return urlsplit(url).path


def _answer(page, path: str, score: int, comment: str = "") -> None:
    page.goto(path)
    page.get_by_text("How likely").wait_for()
    page.locator("label").filter(has_text=re.compile(rf"^\s*{score}\s*$")).first.click()
    page.get_by_text("Step 2 of 2").wait_for()
    if comment:
        page.locator("textarea").fill(comment)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you").wait_for()


def test_a_detractor_is_followed_up_and_won_back(
    browser, live_server, smtp_server, immediate_tasks, receiver, settings
):
    settings.OPENCX_PUBLIC_HOST = live_server.url
    brand = BrandFactory(name="Bottega", slug="bottega", languages=["en"])
    store = LocationFactory(brand=brand, name="Milano Centro", code="milano")
    owner = MembershipFactory(brand=brand, role=Role.OWNER)
    owner_actor = Actor(user=owner.user, brand=brand, membership=owner)
    manager = MembershipFactory(
        brand=brand,
        role=Role.LOCATION_MANAGER,
        location=store,
        user__email="manager@bottega.test",
    ).user
    survey = SurveyFactory(brand=brand, name="Store visit", kind="nps")
    QuestionFactory(survey=survey, key="nps", position=0, required=True, satisfied_values=[9, 10])
    QuestionFactory(
        survey=survey,
        key="why",
        position=1,
        kind="text",
        text={"en": "What could we do better?"},
        scale_min=None,
        scale_max=None,
    )
    CaseRule.objects.create(brand=brand, name="Detractor", trigger="nps_at_most", priority="high")
    endpoint = webhook_endpoint_create(actor=owner_actor, name="n8n", url=receiver.url)
    customer = ContactFactory(brand=brand, name="Giulia", consent_email=True, language="en")
    IdentityFactory(contact=customer, value="giulia@example.test", is_primary=True)

    # The invitation goes out through the local SMTP server.
    invitation_create(
        actor=owner_actor, survey=survey, contact=customer, location=store, via="email"
    )
    [invitation_mail] = smtp_server.messages
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    customer_page = phone.new_page()
    customer_page.set_default_timeout(15_000)
    _answer(customer_page, _path_of_link(invitation_mail, "/s/i/"), 3, COMPLAINT)

    # A case opened for the store's manager, who was told by e-mail…
    case = Case.objects.get()
    assert (case.owner, case.priority, case.status) == (manager, "high", "new")
    [notice] = [m for m in smtp_server.messages if m["To"] == "manager@bottega.test"]
    assert f"Case #{case.pk}" in notice["Subject"]
    # …and the webhook arrived, signed with the endpoint's secret.
    [opened] = receiver.events("case.opened")
    assert verify_signature(
        secret=endpoint.secret, header=opened["headers"]["Opencx-Signature"], body=opened["body"]
    )
    assert json.loads(opened["body"])["data"]["id"] == case.pk
    assert receiver.events("response.received")

    # The manager follows the e-mail's link, replies and resolves.
    desk_context = browser.new_context(base_url=live_server.url)
    desk = desk_context.new_page()
    desk.set_default_timeout(15_000)
    desk.goto(_path_of_link(notice, f"/cases/{case.pk}/"))
    desk.get_by_label("E-mail").fill("manager@bottega.test")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_role("heading", name=re.compile(rf"Case #{case.pk}")).wait_for()
    assert desk.get_by_text(COMPLAINT).first.is_visible()
    desk.get_by_label("Message").fill(REPLY)
    desk.get_by_role("button", name="Send reply").click()
    desk.get_by_text("giulia@example.test").first.wait_for()
    [reply] = [m for m in smtp_server.messages if REPLY in m.get_body(("plain",)).get_content()]
    assert (reply["To"], reply["Reply-To"]) == ("giulia@example.test", "manager@bottega.test")

    resolution = desk.get_by_role("textbox", name=re.compile("^Note"))
    resolution.fill("Apologised and offered a free coffee")
    desk.get_by_role("button", name="Resolve", exact=True).click()
    desk.get_by_text("Re-survey").first.wait_for()
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at is not None
    assert receiver.events("case.changed")

    # The re-survey reached the customer; a 9 wins them back.
    resurvey = [
        m
        for m in smtp_server.messages
        if m["To"] == "giulia@example.test" and m is not reply and "/s/i/" in str(m)
    ][-1]
    _answer(customer_page, _path_of_link(resurvey, "/s/i/"), 9)
    desk.reload()
    desk.get_by_text("won back", exact=True).wait_for()
    case.refresh_from_db()
    assert (case.resurvey_score, case.recovered) == (9, True)
    desk_context.close()
    phone.close()
