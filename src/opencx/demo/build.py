"""Build (and remove) the demo brand, step by step.

The brand, its locations and memberships go through the platform services, as a person would
create them; the facts (contacts, orders, responses, reviews, conversations, web events) are
bulk-inserted in batches, which is what an import does.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from opencx.cases.models import Case
from opencx.contacts.models import Contact, Identity, Order, WebEvent
from opencx.feedback.models import FeedbackItem
from opencx.feedback.services import survey_comments_backfill
from opencx.inbox.models import Conversation, Message
from opencx.insights.services import rollups_rebuild
from opencx.insights.text_analysis import analyse_pending
from opencx.platform import services as platform
from opencx.platform.models import Brand, Channel, Location, Touchpoint, User
from opencx.platform.selectors import actor_for
from opencx.surveys.models import Answer, Question, Response, Survey, SurveyLink

from . import catalogue, closed_loop, people, playbooks, support, voices, web
from .clock import Calendar, Hours
from .world import DemoConfig, Place, World

Progress = Callable[[str, int, float], None]  # (step, rows, seconds)


@dataclass
class DemoResult:
    brand: Brand
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_brand() -> Brand | None:
    return Brand.objects.filter(slug=catalogue.BRAND["slug"]).first()


def build_demo(
    config: DemoConfig,
    *,
    on_step: Progress | None = None,
    response_bar: Callable[[int], object] | None = None,
) -> DemoResult:
    """Create the demo brand and 18 months of its life, in one transaction."""
    started = time.perf_counter()
    world = World(config=config, calendar=Calendar(config.end or timezone.localdate()))
    world.password_hash = _password_hash(
        settings.OPENCX_DEMO_PASSWORD, tuple(settings.PASSWORD_HASHERS)
    )
    counts: dict[str, int] = {}

    def step(name: str, function, *args) -> None:
        t0 = time.perf_counter()
        rows = function(world, *args)
        counts[name] = rows
        if on_step:
            on_step(name, rows, time.perf_counter() - t0)

    with transaction.atomic():
        step("brand", _brand)
        step("locations", _locations)
        step("users", _users)
        step("channels", _channels)
        step("surveys", _surveys)
        step("contacts", people.contacts)
        step("orders", people.orders)
        step("responses", voices.responses, response_bar)
        step("rollups", _rollups)
        step("survey_links", _survey_links)
        step("reviews", voices.reviews)
        step("mentions", voices.mentions)
        step("conversations", support.conversations)
        step("web_chat", support.web_chat_inbox)
        step("inboxes", support.inboxes)
        step("inbox_facts", support.inbox_facts)
        step("cases", closed_loop.closed_loop)
        step("playbooks", playbooks.playbooks)
        step("support_csat", support.support_csat)  # after the cases: they read responses
        step("web_sessions", web.sessions)
        step("text_analysis", _text_analysis)
    return DemoResult(brand=world.brand, counts=counts, seconds=time.perf_counter() - started)


@transaction.atomic
def delete_demo(brand: Brand) -> None:
    """Remove a brand and everything under it (facts first: locations are protected)."""
    Case.objects.filter(brand=brand).delete()
    playbooks.delete(brand)
    Answer.objects.filter(response__brand=brand).delete()
    Response.objects.filter(brand=brand).delete()
    Message.objects.filter(conversation__brand=brand).delete()
    Conversation.objects.filter(brand=brand).delete()
    for model in (FeedbackItem, WebEvent, Order, Identity):
        model.objects.filter(brand=brand).delete()
    Contact.objects.filter(brand=brand).delete()
    support.delete(brand)  # inboxes protect their locations and channels
    # Deepest locations first: a parent is protected while it has children.
    locations = list(Location.objects.filter(brand=brand).only("pk", "path"))
    for location in sorted(locations, key=lambda loc: -len(loc.path)):
        location.delete()
    brand.delete()


# --- setup steps ----------------------------------------------------------------------------


def _user(email: str, first: str, last: str, language: str, password_hash: str) -> User:
    user = User.objects.filter(email=email).first() or User(email=email)
    user.first_name, user.last_name, user.language = first, last, language
    user.is_active = True
    user.password = password_hash
    user.save()
    return user


@lru_cache(maxsize=4)
def _password_hash(password: str, hashers: tuple[str, ...]) -> str:
    """Hashed once (a strong hash takes about a second), shared by the demo's logins."""
    return make_password(password)


def _brand(world: World) -> int:
    email, first, last, language, _, _ = catalogue.USERS[0]
    world.owner = _user(email, first, last, language, world.password_hash)
    world.brand = platform.brand_create(
        owner=world.owner,
        name=catalogue.BRAND["name"],
        slug=catalogue.BRAND["slug"],
        default_language=catalogue.BRAND["default_language"],
        languages=list(catalogue.LANGUAGES),
        timezone_name=catalogue.BRAND["timezone"],
    )
    world.touchpoints = {t.key: t for t in Touchpoint.objects.filter(brand=world.brand)}
    return 1


def _review_url(code: str) -> str:
    return f"https://reviews.example/bottega-aurora/{code}"


def _locations(world: World) -> int:
    actor = actor_for(user=world.owner, brand_slug=world.brand.slug)
    created = 0
    for region in catalogue.REGIONS:
        common = {
            "country": region["country"],
            "timezone": region["timezone"],
            "languages": region["languages"],
        }
        parent = platform.location_create(
            actor=actor, name=region["name"], code=region["code"], kind="region", **common
        )
        created += 1
        for name, code, city, address, weight, quality in region["stores"]:
            store = platform.location_create(
                actor=actor,
                name=name,
                code=code,
                parent=parent,
                kind="store",
                city=city,
                address=address,
                opening_hours=region["hours"],
                review_url=_review_url(code),
                **common,
            )
            created += 1
            world.places.append(
                Place(
                    location=store,
                    hours=Hours(region["hours"], region["timezone"]),
                    weight=weight,
                    quality=quality,
                    currency=region["currency"],
                    online=False,
                    languages=region["languages"],
                )
            )
    shop = catalogue.ONLINE_SHOP
    online = platform.location_create(
        actor=actor,
        name=shop["name"],
        code=shop["code"],
        kind="online",
        country=shop["country"],
        city=shop["city"],
        timezone=shop["timezone"],
        languages=shop["languages"],
        opening_hours=shop["hours"],
        review_url=_review_url(shop["code"]),
    )
    world.places.append(
        Place(
            location=online,
            hours=Hours(shop["hours"], shop["timezone"]),
            weight=shop["weight"],
            quality=shop["quality"],
            currency=shop["currency"],
            online=True,
            languages=shop["languages"],
        )
    )
    return created + 1


def _users(world: World) -> int:
    actor = actor_for(user=world.owner, brand_slug=world.brand.slug)
    by_code = {p.code: p.location for p in world.places}
    world.users["owner"] = world.owner
    for email, first, last, language, role, code in catalogue.USERS[1:]:
        user = _user(email, first, last, language, world.password_hash)
        platform.membership_invite(
            actor=actor, email=email, role=role, location=by_code[code] if code else None
        )
        world.users[role] = user
    return len(catalogue.USERS)


def _channels(world: World) -> int:
    brand = world.brand
    K = Channel.Kind
    brand_wide = [
        (K.EMAIL, "Customer care e-mail"),
        (K.SMS, "SMS"),
        (K.PHONE, "Customer care phone"),
        (K.FACEBOOK, "Facebook page"),
        (K.INSTAGRAM, "Instagram @bottegaaurora"),
        (K.X, "X @bottegaaurora"),
    ]
    rows = [Channel(brand=brand, kind=kind, name=name) for kind, name in brand_wide]
    for place in world.places:
        loc = place.location
        if place.online:
            kinds = [(K.WEB, "Web shop"), (K.WEB_CHAT, "Web chat"), (K.TRUSTPILOT, "Trustpilot")]
        else:
            kinds = [
                (K.GOOGLE, f"Google reviews · {loc.city}"),
                (K.IN_STORE, f"QR code · {loc.city}"),
            ]
        rows += [Channel(brand=brand, location=loc, kind=kind, name=name) for kind, name in kinds]
    Channel.objects.bulk_create(rows)
    for channel in Channel.objects.filter(brand=brand).select_related("location"):
        if channel.location_id is None:
            world.channels[channel.kind] = channel
        else:
            place = next(p for p in world.places if p.location.pk == channel.location_id)
            place.channels[channel.kind] = channel
    return len(rows)


def _surveys(world: World) -> int:
    scales = {
        # kind: (question kind, min, max, satisfied values)
        "nps": (Question.Kind.NPS, 0, 10, [9, 10]),
        "csat": (Question.Kind.CSAT, 1, 5, [4, 5]),
        "ces": (Question.Kind.CES, 1, 7, [5, 6, 7]),
    }
    created_at = datetime.combine(world.calendar.start, datetime.min.time(), tzinfo=UTC)
    for kind, spec in catalogue.SURVEYS.items():
        question_kind, low, high, satisfied = scales[kind]
        survey = Survey.objects.create(
            brand=world.brand,
            name=spec["name"],
            slug=f"{kind}-{spec['touchpoint']}",
            kind=kind,
            touchpoint=world.touchpoints[spec["touchpoint"]],
            default_language=catalogue.BRAND["default_language"],
            languages=sorted(spec["question"]),
            review_invite_min=9 if kind == "nps" else None,
            created_at=created_at,
        )
        headline = Question.objects.create(
            survey=survey,
            key=kind,
            position=0,
            kind=question_kind,
            text=spec["question"],
            scale_min=low,
            scale_max=high,
            polarity=Question.Polarity.HIGHER_IS_BETTER,
            satisfied_values=satisfied,
            required=True,
        )
        follow_up = Question.objects.create(
            survey=survey,
            key="comment",
            position=1,
            kind=Question.Kind.TEXT,
            text=spec["follow_up"],
        )
        world.surveys[kind] = survey
        world.questions[kind] = (headline, follow_up)
    return len(world.surveys)


def _survey_links(world: World) -> int:
    """A QR-code link per store for the store-visit NPS, as a shop would print for its counter."""
    survey = world.surveys["nps"]
    links = [
        SurveyLink(
            brand=world.brand,
            survey=survey,
            location=place.location,
            touchpoint=survey.touchpoint,
            channel=place.channels.get(Channel.Kind.IN_STORE),
            token=secrets.token_urlsafe(16),
        )
        for place in world.stores
    ]
    SurveyLink.objects.bulk_create(links)
    return len(links)


def _rollups(world: World) -> int:
    """The responses were bulk-inserted around the write path: recompute their rollups."""
    return rollups_rebuild(brand=world.brand)


def _text_analysis(world: World) -> int:
    """Survey comments into the feedback store, then everything analysed: the demo opens with
    languages, sentiment and topics in place (the worker would get there too, more slowly)."""
    survey_comments_backfill(brand_id=world.brand.pk)
    return analyse_pending(brand_id=world.brand.pk, seconds=float("inf"))


def logins() -> list[tuple[str, str, str]]:
    """(email, role, reach) for the closing message."""
    labels = {
        "owner": "Owner",
        "cx_manager": "CX manager",
        "location_manager": "Location manager",
        "agent": "Agent",
        "viewer": "Viewer",
    }
    stores = {code: name for r in catalogue.REGIONS for name, code, *_ in r["stores"]}
    return [
        (email, labels[role], stores[code] if code else "whole brand")
        for email, _, _, _, role, code in catalogue.USERS
    ]


def parse_date(text: str) -> date:
    return date.fromisoformat(text)
