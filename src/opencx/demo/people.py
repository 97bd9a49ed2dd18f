"""Customers (with names in their own language, identities and consent) and their orders."""

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from faker import Faker
from faker.decode import unidecode

from opencx.contacts.models import Contact, Identity, Order

from . import catalogue, effects
from .clock import WINDOW_DAYS, open_moment
from .world import BATCH, Person, Place, World, cumulative

ONLINE_SHARE = 0.25  # of contacts whose home is the online shop


class Names:
    """Seeded Faker per locale; Welsh names from catalogue's hand-written lists."""

    def __init__(self, seed: int, rng: random.Random):
        self.rng = rng
        self.fakers = {}
        for language, locale in catalogue.FAKER_LOCALE.items():
            fake = Faker(locale)
            fake.seed_instance(seed)
            self.fakers[language] = fake

    def full(self, language: str, female: bool) -> tuple[str, str]:
        if language == "cy":
            pool = catalogue.WELSH_FIRST_FEMALE if female else catalogue.WELSH_FIRST_MALE
            return self.rng.choice(pool), self.rng.choice(catalogue.WELSH_SURNAMES)
        fake = self.fakers[language]
        first = fake.first_name_female() if female else fake.first_name_male()
        if hasattr(fake, "last_name_female"):  # Russian surnames agree with gender
            last = fake.last_name_female() if female else fake.last_name_male()
        else:
            last = fake.last_name()
        return first, last


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", unidecode(text).lower()) or "x"


def _language_of(rng: random.Random, place: Place) -> str:
    if place.online:
        mix = catalogue.ONLINE_LANGUAGE_MIX
        return rng.choices(list(mix), weights=list(mix.values()))[0]
    if len(place.languages) > 1:  # Wales: Welsh and English
        return "cy" if rng.random() < 0.35 else "en"
    return place.languages[0]


def contacts(world: World) -> int:
    config, calendar = world.config, world.calendar
    rng = config.rng("contacts")
    names = Names(config.seed, rng)
    stores = world.stores
    homes = [*stores, world.online]
    store_total = sum(p.weight for p in stores)
    weights = [p.weight / store_total * (1 - ONLINE_SHARE) for p in stores] + [ONLINE_SHARE]
    home_cum = cumulative(weights)
    window_start = datetime.combine(calendar.start, datetime.min.time(), tzinfo=UTC)
    genders = ["female", "male", "other", ""]

    created = 0
    for first_index in range(0, config.contacts, BATCH):
        batch: list[Person] = []
        rows: list[Contact] = []
        identities: list[tuple[int, str, str, bool]] = []  # (row, kind, value, primary)
        for i in range(first_index, min(first_index + BATCH, config.contacts)):
            place = rng.choices(homes, cum_weights=home_cum)[0]
            language = _language_of(rng, place)
            country = (
                catalogue.COUNTRY_OF_LANGUAGE[language] if place.online else place.location.country
            )
            if not place.online and rng.random() < 0.7:
                city = place.location.city
            else:
                city = rng.choice(catalogue.CITIES_OF_COUNTRY[country])
            gender = rng.choices(genders, weights=(52, 44, 1, 3))[0]
            female = gender == "female" or (gender in ("other", "") and rng.random() < 0.5)
            first, last = names.full(language, female)
            birth_year = int(rng.triangular(1948, 2007, 1986)) if rng.random() < 0.92 else None
            trait = rng.gauss(0, 0.08)
            if rng.random() < 0.4:  # a customer from before the window
                start = 0
                since = window_start - timedelta(days=rng.randint(1, 900), hours=rng.randint(9, 19))
            else:
                start, since = open_moment(rng, calendar, place.hours)
            churn = None
            if rng.random() < min(max(0.28 - 2.0 * trait, 0.05), 0.7) and start < WINDOW_DAYS - 45:
                churn = rng.randint(start + 30, WINDOW_DAYS - 1)
            row_index = len(rows)
            rows.append(
                Contact(
                    brand=world.brand,
                    home_location=place.location,
                    name=f"{first} {last}",
                    language=language,
                    country=country,
                    city=city,
                    birth_year=birth_year,
                    gender=gender,
                    consent_email=rng.random() < 0.7,
                    consent_sms=rng.random() < 0.4,
                    consent_marketing=rng.random() < 0.35,
                    consent_updated_at=since,
                    created_at=since,
                )
            )
            batch.append(Person(rows[-1], place, language, first, trait, start, churn))
            identities += _identities(rng, row_index, i, first, last, country, since, place)
        Contact.objects.bulk_create(rows, batch_size=BATCH)
        Identity.objects.bulk_create(
            [
                Identity(
                    brand_id=world.brand.pk,
                    contact_id=rows[row].pk,
                    kind=kind,
                    value=value,
                    is_primary=primary,
                    created_at=rows[row].created_at,
                )
                for row, kind, value, primary in identities
            ],
            batch_size=BATCH,
        )
        for person in batch:
            person.place.contact_ids.append(person.contact.pk)
        world.people += batch
        created += len(rows)
    return created


def _identities(rng, row, i, first, last, country, since, place):
    """Most people have an e-mail address, many a phone, some two addresses or a handle."""
    out = []
    local = f"{_slug(first)}.{_slug(last)}.{i}"
    has_email = rng.random() < 0.92
    has_phone = rng.random() < 0.6 or not has_email
    if has_email:
        out.append(
            (row, Identity.Kind.EMAIL, f"{local}@{rng.choice(catalogue.MAIL_DOMAINS)}", True)
        )
        if rng.random() < 0.15:  # one person, many identities
            out.append((row, Identity.Kind.EMAIL, f"{_slug(first)}{i}@work.example", False))
    if has_phone:
        number = f"{catalogue.PHONE_PREFIX[country]}{rng.randint(300, 399)}{i:07d}"
        out.append((row, Identity.Kind.PHONE, number, not has_email))
    if place.online and rng.random() < 0.12:
        out.append((row, Identity.Kind.INSTAGRAM, f"@{_slug(first)}_{_slug(last)}{i}", False))
    if rng.random() < 0.05:
        out.append((row, Identity.Kind.FACEBOOK, f"fb-{i:07d}", False))
    return out


def orders(world: World) -> int:
    """Repeat purchases as a Poisson process per customer, until they churn (some do)."""
    config, calendar = world.config, world.calendar
    rng = config.rng("orders")
    now = calendar.end_utc
    online = world.online
    rows: list[Order] = []
    created = 0
    sequence = 0
    for person in world.people:
        per_day = rng.gammavariate(2.0, 3.7) / 365  # mean 7.4 orders a year
        last_day = person.churn if person.churn is not None else WINDOW_DAYS - 1
        t = person.start + rng.expovariate(per_day)
        while t <= last_day:
            day = int(t)
            t += rng.expovariate(per_day)
            place = person.place if person.place.online or rng.random() < 0.78 else online
            _, placed = open_moment(rng, calendar, place.hours, day, min(day + 7, WINDOW_DAYS))
            sequence += 1
            rows.append(_order(world, rng, person, place, placed, sequence, now))
            if len(rows) >= BATCH:
                Order.objects.bulk_create(rows, batch_size=BATCH)
                created += len(rows)
                rows = []
    Order.objects.bulk_create(rows, batch_size=BATCH)
    return created + len(rows)


def _order(world, rng, person, place, placed, sequence, now) -> Order:
    items = rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]
    amount = items * rng.lognormvariate(4.0, 0.45) * catalogue.CURRENCY_RATE[place.currency]
    shipped = place.online or rng.random() < 0.08  # stores ship some orders home
    promised = delivered = None
    if shipped:
        promised = placed + timedelta(days=3 if place.online else 5)
        months_before = world.calendar.months_before(placed.date())
        late_share = (
            effects.LATE_SHARE_DELAY
            if effects.is_delay_month(months_before)
            else effects.LATE_SHARE_NORMAL
        )
        if rng.random() < late_share:
            delivered = promised + timedelta(hours=rng.uniform(8, 8 * 24))
        else:
            delivered = placed + timedelta(hours=rng.uniform(20, 70))
        if delivered > now:
            delivered = None  # still on its way
    else:
        delivered = placed  # handed over at the counter
    return Order(
        brand_id=world.brand.pk,
        location_id=place.location.pk,
        contact_id=person.contact.pk,
        external_id=f"BA-{sequence:07d}",
        placed_at=placed,
        total=Decimal(f"{amount:.2f}"),
        currency=place.currency,
        items=items,
        delivered_at=delivered,
        promised_at=promised,
    )
