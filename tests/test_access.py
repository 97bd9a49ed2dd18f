"""Every page and API route, walked as people who must not see what is behind it.

- A member of another brand gets 404 on every route of our brand (pages and API).
- A location manager of a sibling store gets 404 on every object that lives at our store.
- Lower roles (viewer, agent) get 403 on every admin action.
New routes join automatically; a route with an object id must be classified in OBJECTS or
BRAND_LEVEL below, so nobody adds a route without deciding who may see it.
"""

import re
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from opencx.cases.models import RoutingRule
from opencx.feedback.models import ImportRun, QuarantinedRow, WebhookSource
from opencx.inbox.models import CannedReply, Inbox, Label, SavedView, Team
from opencx.insights.models import Alert, AlertRule
from opencx.integrations.models import WebhookDelivery, WebhookEndpoint
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from tests import factories
from tests.offers import factories as offer_factories

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _routes(prefix):
    return sorted(
        {route for route, _ in _walk(get_resolver().url_patterns) if route.startswith(prefix)}
    )


PAGE_ROUTES = _routes("b/<slug:brand_slug>/")
API_ROUTES = [r for r in _routes("api/v1/") if "{" not in r and "<" in r]


def _params(route):
    return [m.group("name") for m in PARAM.finditer(route)]


# Objects that live at a location, by the route prefix after the brand: made at `store`.
def _objects(brand, store):
    contact = factories.ContactFactory(brand=brand, home_location=store)
    survey = factories.SurveyFactory(brand=brand)
    endpoint = WebhookEndpoint.objects.create(brand=brand, name="n8n", url="https://x.test/h")
    delivery = WebhookDelivery.objects.create(
        brand=brand, endpoint=endpoint, event="ping", event_id="e", payload={}
    )
    pool = offer_factories.CouponPoolFactory(brand=brand)
    case_rule = factories.CaseRuleFactory(brand=brand)
    route = RoutingRule.objects.create(
        brand=brand, owner=factories.MembershipFactory(brand=brand, role=Role.CX_MANAGER).user
    )
    import_run = ImportRun.objects.create(
        brand=brand, file_name="a.csv", file_path="/nonexistent/a.csv", sha256="0", format="csv",
        source="reviews", status=ImportRun.Status.DONE,
    )  # fmt: skip
    quarantined = QuarantinedRow.objects.create(
        brand=brand, run=import_run, number=2, line=2, raw={"text": "x"}, errors=[]
    )
    webhook_source = WebhookSource.objects.create(brand=brand, name="widget", key="k", secret="s")
    alert_rule = AlertRule.objects.create(brand=brand, name="watch", kind="keyword")
    alert = Alert.objects.create(
        brand=brand, rule=alert_rule, location=store, kind="keyword", title="x",
        window_end="2026-06-01", key="k",
    )  # fmt: skip
    agent = factories.MembershipFactory(brand=brand, location=store, role=Role.AGENT).user
    channel = factories.ChannelFactory(brand=brand)
    inbox = Inbox.objects.create(
        brand=brand, location=store, channel=channel, name="Desk", kind="api"
    )
    return {
        "locations/": store,
        "customers/": contact,
        "feedback/": factories.FeedbackItemFactory(brand=brand, location=store),
        "inbox/": factories.ConversationFactory(brand=brand, location=store),
        "surveys/": survey,
        "surveys/responses/": factories.ResponseFactory(survey=survey, location=store),
        "settings/members/": factories.MembershipFactory(
            brand=brand, location=store, role=Role.AGENT
        ),
        "settings/touchpoints/": factories.TouchpointFactory(brand=brand),
        "contacts/": contact,
        "conversations/": factories.ConversationFactory(brand=brand, location=store),
        "members/": factories.MembershipFactory(brand=brand, location=store, role=Role.AGENT),
        "touchpoints/": factories.TouchpointFactory(brand=brand),
        "responses/": factories.ResponseFactory(survey=survey, location=store),
        "feedback-items/": factories.FeedbackItemFactory(brand=brand, location=store),
        # Webhooks: brand-level admin rows (brand-wide reach, else 404; MANAGE_BRAND, else 403).
        "settings/integrations/": endpoint,
        "settings/integrations/deliveries/": delivery,
        "webhooks/": endpoint,
        "webhook-deliveries/": delivery,
        "playbooks/": offer_factories.PlaybookFactory(brand=brand, location=store),
        "playbooks/pools/": pool,
        "coupon-pools/": pool,
        "coupons/": offer_factories.CouponFactory(pool=pool, issued_location=store),
        # Cases live at a location; their rules, routing and SLA are brand-level settings.
        "cases/": factories.CaseFactory(brand=brand, location=store),
        "cases/rules/": case_rule,
        "cases/routing/": route,
        "case-rules/": case_rule,
        "routing-rules/": route,
        "sla-policies/": SimpleNamespace(pk="high"),  # the path names a priority
        # Imports, their quarantine and feedback webhook sources: brand-level admin rows
        # (brand-wide reach, else 404; MANAGE_FEEDBACK, else 403).
        "feedback/imports/": import_run,
        "feedback/quarantine/": quarantined,
        "feedback/webhooks/": webhook_source,
        "feedback-imports/": import_run,
        "feedback-quarantine/": quarantined,
        "feedback-webhooks/": webhook_source,
        # Alerts live at a location; their rules are brand-level settings (MANAGE_FEEDBACK).
        "alerts/": alert,
        "alerts/rules/": alert_rule,
        "alert-rules/": alert_rule,
        # Label verdicts are made on a feedback item (its panel): whoever sees the item.
        "labels/": factories.FeedbackItemFactory(brand=brand, location=store),
        # The topic taxonomy: brand-level settings for brand-wide members (else 404), changes
        # need MANAGE_FEEDBACK (403). The path names a seeded topic.
        "settings/text/topics/": SimpleNamespace(pk="price"),
        # The inbox's canned replies, labels, teams and shared views: brand-level settings every
        # member sees; changes need MANAGE_FEEDBACK (a personal view: its owner, REPLY).
        "inbox/canned/": CannedReply.objects.create(
            brand=brand, shortcut="hi", title="Hi", body="Hi"
        ),
        "inbox/labels/": Label.objects.create(brand=brand, name="VIP"),
        "inbox/teams/": Team.objects.create(brand=brand, name="Desk"),
        "inbox/views/": SavedView.objects.create(brand=brand, name="Urgent", filters={"q": "x"}),
        # Agents' availability: a member at the store (outside it, 404); changing someone
        # else's needs MANAGE_MEMBERS (403). An inbox's SLA policies: the inbox's location.
        "inbox/agents/": agent,
        "agents/": agent,
        "inboxes/": inbox,
        # Inbox settings pages: the inbox's location (a sibling's manager: 404); MANAGE_BRAND.
        "inbox/settings/": inbox,
    }


# Brand-level objects everybody in the brand may see (a location manager too).
BRAND_LEVEL = (
    "cases/rules/",
    "cases/routing/",
    "case-rules/",
    "routing-rules/",
    "sla-policies/",
    "surveys/",
    "touchpoints/",
    "settings/touchpoints/",
    "playbooks/pools/",
    "coupon-pools/",
    "alerts/rules/",
    "alert-rules/",
    "inbox/canned/",
    "inbox/labels/",
    "inbox/teams/",
    "inbox/views/",
)


def _object_for(route_tail, objects):
    for prefix in sorted(objects, key=len, reverse=True):
        if route_tail.startswith(prefix):
            return prefix, objects[prefix]
    raise AssertionError(f"Route {route_tail!r} takes an id but is not classified in _objects")


def _fill(route, brand_slug, obj=None):
    def replace(match):
        if match.group("name") in {"brand_slug", "slug"}:
            return brand_slug
        assert obj is not None, f"{route} needs an object"
        return str(obj.pk)

    return "/" + PARAM.sub(replace, route)


@pytest.fixture
def world(brand, store, sibling_store, owner):
    return {"objects": _objects(brand, store)}


def test_routes_were_found():
    assert len(PAGE_ROUTES) >= 10
    assert set(API_ROUTES) >= API_POSTS_THAT_ONLY_COMPUTE | API_WRITES_OF_ONES_OWN
    assert any(r.startswith("b/<slug:brand_slug>/locations/") for r in PAGE_ROUTES)


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_member_of_another_brand_gets_404_on_every_page(client, world, brand, stranger, route):
    client.force_login(stranger)
    tail = route.removeprefix("b/<slug:brand_slug>/")
    obj = _object_for(tail, world["objects"])[1] if len(_params(route)) > 1 else None
    url = _fill(route, brand.slug, obj)
    assert client.get(url).status_code == 404, url
    assert client.post(url, {}).status_code == 404, url


@pytest.mark.parametrize("route", [r for r in PAGE_ROUTES if len(_params(r)) > 1])
def test_sibling_location_manager_gets_404_on_objects_of_another_store(
    client, world, brand, sibling_store, make_actor, route
):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store)
    client.force_login(manager.user)
    tail = route.removeprefix("b/<slug:brand_slug>/")
    prefix, obj = _object_for(tail, world["objects"])
    url = _fill(route, brand.slug, obj)
    status = client.get(url).status_code
    if prefix in BRAND_LEVEL:
        assert status in {200, 403, 405}, url
    else:
        assert status == 404, url


# POSTs a viewer may make: choosing what to look at is not an admin action.
VIEWER_MAY_POST = {
    "b/<slug:brand_slug>/switch/",
    # Every member's own notification choices.
    "b/<slug:brand_slug>/settings/integrations/notifications/",
}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
@pytest.mark.parametrize("route", [r for r in PAGE_ROUTES if r not in VIEWER_MAY_POST])
def test_lower_roles_cannot_change_anything_through_pages(
    client, world, brand, make_actor, role, route
):
    actor = make_actor(role)
    client.force_login(actor.user)
    tail = route.removeprefix("b/<slug:brand_slug>/")
    obj = _object_for(tail, world["objects"])[1] if len(_params(route)) > 1 else None
    url = _fill(route, brand.slug, obj)
    status = client.post(url, {"name": "x", "role": "owner", "email": "x@example.test"}).status_code
    # Agents may reply in inbox and work cases (later issues); admin screens must refuse.
    # ...and correct the labels of the feedback they work (labels/<pk>/).
    if role == Role.AGENT and tail.startswith(
        ("inbox/", "cases/", "alerts/<int:pk>/ack", "labels/<int:pk>/")
    ):
        return
    assert status in {403, 405}, f"{role} POST {url} -> {status}"


@pytest.mark.parametrize("route", API_ROUTES)
def test_member_of_another_brand_gets_404_on_every_api_route(client, world, brand, stranger, route):
    token = api_token_create(user=stranger, name="probe").secret
    headers = {"Authorization": f"Bearer {token}"}
    params = _params(route)
    if not ({"brand_slug", "slug"} & set(params)):
        pytest.skip("route is not inside a brand")
    tail = route.removeprefix("api/v1/brands/<slug>/").removeprefix("api/v1/brands/<slug:slug>/")
    obj = _object_for(tail, world["objects"])[1] if len(params) > 1 else None
    url = _fill(route, brand.slug, obj)
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(client, method)(
            url, data={}, content_type="application/json", headers=headers
        )
        assert response.status_code in {404, 405}, f"{method} {url} -> {response.status_code}"
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"


def _api_url(route, brand, objects):
    tail = route.removeprefix("api/v1/brands/<slug>/")
    obj = _object_for(tail, objects)[1] if len(_params(route)) > 1 else None
    return tail, _fill(route, brand.slug, obj)


BRAND_API_ROUTES = [r for r in API_ROUTES if r.startswith("api/v1/brands/<slug>")]

# POSTs that only compute a figure from the body and write nothing (a list of task times does
# not fit a query string): reading, so any member may make them; a non-member still gets 404.
API_POSTS_THAT_ONLY_COMPUTE = {
    f"api/v1/brands/<slug>/metrics/{name}"
    for name in ("task-success", "error-rate", "time-on-task")
}

# Writes of the caller's own settings (their notification choices): any member may make them;
# a non-member still gets 404. Their own tests check that nobody reaches someone else's.
# An agent's own availability: members who may reply (a viewer gets 403, tested with it).
API_WRITES_OF_ONES_OWN = {
    "api/v1/brands/<slug>/me/notifications",
    "api/v1/brands/<slug>/agents/me",
}


@pytest.mark.parametrize("route", [r for r in BRAND_API_ROUTES if len(_params(r)) > 1])
def test_sibling_location_manager_gets_404_on_api_objects_of_another_store(
    client, world, brand, sibling_store, make_actor, route
):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store)
    headers = {"Authorization": f"Bearer {api_token_create(user=manager.user, name='t').secret}"}
    tail, url = _api_url(route, brand, world["objects"])
    status = client.get(url, headers=headers).status_code
    if tail.startswith(BRAND_LEVEL):
        assert status in {200, 405}, url
    else:
        assert status in {404, 405}, url  # 405: the route has no GET (e.g. members/<id>)


# Case work (status, owner, notes, replies...) and acknowledging alerts are open to agents,
# who may reply to customers.
AGENTS_WORK_CASES = ("api/v1/brands/<slug>/cases", "api/v1/brands/<slug>/alerts/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
@pytest.mark.parametrize("route", [r for r in BRAND_API_ROUTES if r not in API_WRITES_OF_ONES_OWN])
def test_lower_roles_get_403_on_every_api_write(client, world, brand, make_actor, role, route):
    actor = make_actor(role)
    headers = {"Authorization": f"Bearer {api_token_create(user=actor.user, name='t').secret}"}
    _, url = _api_url(route, brand, world["objects"])
    body = {"name": "x", "role": "viewer", "email": "x@example.test", "key": "x"}
    for method in ("post", "put", "patch", "delete"):
        if method == "post" and route in API_POSTS_THAT_ONLY_COMPUTE:
            response = client.post(url, data=body, content_type="application/json", headers=headers)
            assert response.status_code == 422, f"{role} post {url} -> {response}"  # not 403
            continue
        response = getattr(client, method)(
            url, data=body, content_type="application/json", headers=headers
        )
        if role == Role.AGENT and route.startswith(AGENTS_WORK_CASES):
            assert response.status_code < 500, f"{role} {method} {url} -> {response}"
            continue  # agents work cases; a viewer still gets 403 whatever the body
        assert response.status_code in {403, 405}, f"{role} {method} {url} -> {response}"
        if response.status_code == 403:
            assert response.json()["code"] == "forbidden"


# The inbox's API channel sits outside the brand's paths: an API inbox's own token is the key,
# and it opens that inbox's conversations only (another inbox's token, even in the same brand,
# gets 404; a personal token is not an inbox token: 401).
INBOX_CHANNEL_ROUTES = [r for r in API_ROUTES if r.startswith("api/v1/inbox-api/")]


@pytest.mark.parametrize("route", INBOX_CHANNEL_ROUTES)
def test_inbox_channel_routes_open_only_the_tokens_own_inbox(client, brand, store, owner, route):
    from opencx.inbox import services as inbox_services
    from opencx.platform.actor import Actor

    actor = Actor(user=owner, brand=brand, membership=owner.memberships.get())
    ours = inbox_services.inbox_create_api(actor=actor, name="ours", location=store)
    theirs = inbox_services.inbox_create_api(actor=actor, name="theirs", location=store)
    received = inbox_services.message_receive(
        inbox=ours.inbox, provider_message_id="m", body="hi", email="c@example.test"
    )
    url = _fill(route, brand.slug, received.message.conversation)
    body = {"id": "x", "body": "hi"}
    for token, expected in (
        (theirs.token, 404),
        (api_token_create(user=owner, name="t").secret, 401),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        for method in ("get", "post"):
            response = getattr(client, method)(
                url, data=body, content_type="application/json", headers=headers
            )
            assert response.status_code in {expected, 405}, f"{method} {url} -> {response}"


# The web chat widget's public routes sit outside the brand: the key in the path names one chat
# (an unknown key is 404), and a visitor's token opens only its own session in that chat
# (another chat's token, or none, is 401). The demo page needs only the key.
WIDGET_ROUTES = _routes("widget/")
WIDGET_KEY_ONLY = {
    "widget/<str:key>/config/",
    "widget/<str:key>/session/",
    "widget/<str:key>/demo/",
}


@pytest.mark.parametrize("route", WIDGET_ROUTES)
def test_widget_routes_open_only_their_own_chat(client, brand, store, owner_actor, route):
    from opencx.inbox import widget

    ours = widget.inbox_create_web_chat(actor=owner_actor, name="ours", location=store).web_chat
    theirs = widget.inbox_create_web_chat(actor=owner_actor, name="theirs", location=store)
    their_token = widget.visitor_session_start(config=theirs.web_chat).token
    unknown = PARAM.sub("no-such-chat-key", route)
    assert client.get("/" + unknown).status_code == 404, unknown
    assert client.post("/" + unknown, {}).status_code in {404, 405}, unknown  # demo: GET only
    if route in WIDGET_KEY_ONLY:
        return
    url = "/" + PARAM.sub(ours.widget_key, route)
    for headers in ({}, {"Authorization": f"Bearer {their_token}"}):
        for method in ("get", "post"):
            response = getattr(client, method)(
                url, data={}, content_type="application/json", headers=headers
            )
            assert response.status_code in {401, 405}, f"{method} {url} -> {response}"


# Providers' webhooks into the inbox (`/hooks/inbox/<inbox id>/<kind>/...`) take no session:
# the provider's signature is the key. Each address opens only an inbox of its own kind, and
# an unsigned request (as anyone on the internet could send) is refused before it is read.
INBOX_HOOK_ROUTES = _routes("hooks/inbox/")


def test_inbox_hooks_refuse_other_kinds_and_unsigned_requests(client, owner_actor, store):
    from opencx.inbox import services as inbox_services

    assert INBOX_HOOK_ROUTES, "the inbox hooks are mounted"
    inboxes = {
        "sms": inbox_services.inbox_create_sms(
            actor=owner_actor, name="t", phone_number="+442920000000", account_sid="AC1",
            auth_token="x", location=store,
        ),
        "facebook": inbox_services.inbox_create_meta(
            actor=owner_actor, name="f", platform="facebook", page_id="1", app_secret="s",
            page_access_token="t", location=store,
        ),
        "google-reviews": inbox_services.inbox_create_google_reviews(
            actor=owner_actor, name="g", account_id="1", listing_id="2", location=store
        ),
    }  # fmt: skip
    api_inbox = inbox_services.inbox_create_api(actor=owner_actor, name="api").inbox
    for route in INBOX_HOOK_ROUTES:
        kind = next((k for k in inboxes if f"/{k}/" in route or f"(?P<kind>{k}" in route), None)
        kind = kind or "facebook"  # the Meta route names its kinds in a pattern
        for inbox, expected in ((api_inbox, 404), (inboxes[kind], 403)):
            url = f"/hooks/inbox/{inbox.pk}/" + (
                "facebook/" if "(?P<kind>" in route else route.split(">/", 1)[1]
            )
            response = client.post(url, data=b"{}", content_type="application/json")
            assert response.status_code == expected, f"{url} -> {response.status_code}"
