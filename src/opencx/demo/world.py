"""What the generator steps share: sizes, the calendar, and the brand's places and people."""

import random
from dataclasses import dataclass, field
from datetime import date

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Channel, Location, Touchpoint, User
from opencx.surveys.models import Question, Survey

from .clock import Calendar, Hours

BATCH = 5000  # rows per bulk_create


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 7
    end: date | None = None  # the data ends the day before; None: today
    contacts: int = 3000
    responses: int = 40000
    sessions: int = 8000
    reviews: int = 1500
    mentions: int = 600
    conversations: int = 1500

    def rng(self, step: str) -> random.Random:
        """One random stream per step: changing one step's draws leaves the others alone."""
        return random.Random(f"opencx-demo:{self.seed}:{step}")


@dataclass
class Place:
    """A store or the online shop, with what the generators need to know about it."""

    location: Location
    hours: Hours
    weight: float
    quality: float
    currency: str
    online: bool
    languages: list[str]
    channels: dict[str, Channel] = field(default_factory=dict)
    contact_ids: list[int] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.location.code


@dataclass
class Person:
    """A contact as the generators see it (no queries needed to pick one)."""

    contact: Contact
    place: Place
    language: str
    first_name: str
    trait: float  # temper: positive is happier
    start: int  # first active day index (0 if a customer from before the window)
    churn: int | None  # day index after which the customer stops buying


@dataclass
class World:
    config: DemoConfig
    calendar: Calendar
    brand: Brand | None = None
    owner: User | None = None
    password_hash: str = ""
    users: dict[str, User] = field(default_factory=dict)  # by role
    places: list[Place] = field(default_factory=list)
    touchpoints: dict[str, Touchpoint] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)  # brand-wide, by kind
    surveys: dict[str, Survey] = field(default_factory=dict)  # by kind
    questions: dict[str, tuple[Question, Question]] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)

    @property
    def stores(self) -> list[Place]:
        return [p for p in self.places if not p.online]

    @property
    def online(self) -> Place:
        return next(p for p in self.places if p.online)


def weighted(rng: random.Random, items: list, weights: list[float]):
    return rng.choices(items, weights=weights)[0]


def cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out
