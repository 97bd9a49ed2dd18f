"""Web sessions on the online shop: page views, searches, cart, checkout steps, purchases."""

from datetime import timedelta
from urllib.parse import quote

from opencx.contacts.models import WebEvent

from . import catalogue, effects
from .clock import open_moment
from .world import BATCH, World, cumulative

E = WebEvent.Kind
BOUNCE = 0.35  # sessions that see one page and leave
SEARCH = 0.45
ADD_TO_CART = 0.32
ADD_TO_CART_AFTER_SEARCH = 0.42
LOGGED_IN = 0.35


def sessions(world: World) -> int:
    """`config.sessions` sessions; returns the number of sessions (events are many more)."""
    rng = world.config.rng("web")
    shop = world.online
    languages = list(catalogue.ONLINE_LANGUAGE_MIX)
    language_cum = cumulative(list(catalogue.ONLINE_LANGUAGE_MIX.values()))
    shoppers = [p for p in world.people if p.place.online] or world.people
    rows: list[WebEvent] = []
    for i in range(world.config.sessions):
        session_id = f"s{world.config.seed}-{i:07d}"
        person = rng.choice(shoppers) if shoppers and rng.random() < LOGGED_IN else None
        language = (
            person.language if person else rng.choices(languages, cum_weights=language_cum)[0]
        )
        _, at = open_moment(rng, world.calendar, shop.hours)
        events: list[tuple[str, str, str]] = []  # (kind, path, query)

        landing = rng.choice(
            ["/", f"/c/{rng.choice(catalogue.CATEGORIES)}", f"/p/{rng.choice(catalogue.PRODUCTS)}"]
        )
        events.append((E.PAGE_VIEW, f"/{language}{landing}".rstrip("/"), ""))
        if rng.random() >= BOUNCE:
            searched = rng.random() < SEARCH
            if searched:
                query = rng.choice(catalogue.SEARCH_QUERIES[language])
                events.append((E.SEARCH, f"/{language}/search?q={quote(query)}", query))
            for _ in range(rng.randint(1, 4)):
                events.append((E.PAGE_VIEW, f"/{language}/p/{rng.choice(catalogue.PRODUCTS)}", ""))
            if rng.random() < (ADD_TO_CART_AFTER_SEARCH if searched else ADD_TO_CART):
                events.append((E.ADD_TO_CART, f"/{language}/cart/add", ""))
                events += _checkout(rng, language)

        for kind, path, query in events:
            rows.append(
                WebEvent(
                    brand_id=world.brand.pk,
                    location_id=shop.location.pk,
                    contact_id=person.contact.pk if person else None,
                    session_id=session_id,
                    kind=kind,
                    path=path,
                    query=query,
                    occurred_at=at,
                )
            )
            at += timedelta(seconds=rng.randint(6, 120))
        if len(rows) >= BATCH:
            WebEvent.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    WebEvent.objects.bulk_create(rows, batch_size=BATCH)
    return world.config.sessions


def _checkout(rng, language: str) -> list[tuple[str, str, str]]:
    """The funnel after add_to_cart; most visitors leave at the shipping step (see effects)."""
    out = []
    for step in catalogue.CHECKOUT_STEPS:
        if rng.random() >= effects.CHECKOUT_CONTINUE[step]:
            return out
        out.append((E.CHECKOUT, f"/{language}/checkout/{step}", ""))
    if rng.random() < effects.CHECKOUT_CONTINUE["purchase"]:
        out.append((E.PURCHASE, f"/{language}/checkout/complete", ""))
    return out
