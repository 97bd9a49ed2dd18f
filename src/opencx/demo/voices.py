"""What customers say: survey responses (with answers and comments), reviews, social mentions."""

import random
from datetime import timedelta
from decimal import Decimal

from opencx.feedback.models import FeedbackItem
from opencx.platform.models import Channel
from opencx.surveys.models import Answer, Response

from . import catalogue, effects
from .clock import open_moment
from .world import BATCH, Person, Place, World, cumulative

K = Channel.Kind
SURVEY_MIX = {"nps": 0.70, "csat": 0.18, "ces": 0.12}
ONLINE_SHARE = {"nps": 0.15, "csat": 0.5, "ces": 0.6}  # of each survey's responses
CONTACT_SHARE = 0.45  # responses from an invitation (known contact); the rest are anonymous QR/web


class Speaker:
    """Picks where, when, who and in which language one piece of feedback happens."""

    def __init__(self, world: World, rng: random.Random):
        self.world, self.rng = world, rng
        self.calendar = world.calendar
        self.people_by_place: dict[int, list[Person]] = {}
        for person in world.people:
            self.people_by_place.setdefault(person.place.location.pk, []).append(person)
        stores = world.stores
        self.stores = stores
        self.store_cum = cumulative([p.weight for p in stores])
        self.mix = list(catalogue.ONLINE_LANGUAGE_MIX)
        self.mix_cum = cumulative(list(catalogue.ONLINE_LANGUAGE_MIX.values()))

    def place(self, online_share: float) -> Place:
        if self.rng.random() < online_share:
            return self.world.online
        return self.rng.choices(self.stores, cum_weights=self.store_cum)[0]

    def person(self, place: Place, share: float) -> Person | None:
        people = self.people_by_place.get(place.location.pk)
        if not people or self.rng.random() >= share:
            return None
        return self.rng.choice(people)

    def language(self, place: Place, person: Person | None) -> str:
        if person is not None:
            return person.language
        if place.online:
            return self.rng.choices(self.mix, cum_weights=self.mix_cum)[0]
        if len(place.languages) > 1:
            return "cy" if self.rng.random() < 0.4 else "en"
        return place.languages[0]

    def comment(self, topic: str, language: str) -> str:
        return self.rng.choice(catalogue.COMMENTS[topic][language])


def _mood_and_topic(speaker, kind, place, day_index, moment, person, topic_kind=None):
    """The planted effects decide the mood: slow store, delay month, the customer's temper."""
    rng, calendar = speaker.rng, speaker.calendar
    penalty = effects.slow_penalty(place.code, calendar.days_before_end(day_index))
    shift = place.quality + (person.trait if person else 0.0)
    delay_hit = effects.DELAY_HIT_ONLINE if place.online else effects.DELAY_HIT_STORE
    if (
        kind in ("nps", "review")
        and effects.is_delay_month(calendar.months_before(moment.date()))
        and rng.random() < delay_hit
    ):
        return "bad", "delivery"
    mood = effects.draw_mood(rng, kind, shift=shift, penalty=penalty)
    topic = effects.draw_topic(
        rng, kind=topic_kind or kind, mood=mood, online=place.online, penalty=penalty
    )
    return mood, topic


def _response_channel(rng, world, kind, place) -> Channel:
    if kind == "nps" and not place.online:
        r = rng.random()
        if r < 0.4:
            return place.channels[K.IN_STORE]
        return world.channels[K.EMAIL] if r < 0.85 else world.channels[K.SMS]
    if kind == "nps":
        return world.channels[K.EMAIL] if rng.random() < 0.7 else world.online.channels[K.WEB]
    if kind == "csat":
        return world.channels[K.EMAIL] if rng.random() < 0.8 else world.online.channels[K.WEB_CHAT]
    return world.channels[K.EMAIL] if rng.random() < 0.7 else world.channels[K.SMS]


def responses(world: World, progress=None) -> int:
    """Stream `config.responses` responses in batches; memory stays flat at any size."""
    rng = world.config.rng("responses")
    speaker = Speaker(world, rng)
    kinds = list(SURVEY_MIX)
    kind_cum = cumulative(list(SURVEY_MIX.values()))
    touch = world.touchpoints
    brand_id = world.brand.pk
    survey_ids = {kind: survey.pk for kind, survey in world.surveys.items()}
    question_ids = {kind: (q.pk, f.pk) for kind, (q, f) in world.questions.items()}
    bar = progress(world.config.responses) if progress else None
    total = world.config.responses
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        rows: list[Response] = []
        texts: list[tuple[str, str]] = []  # (survey kind, comment) per row
        for _ in range(size):
            kind = rng.choices(kinds, cum_weights=kind_cum)[0]
            place = speaker.place(ONLINE_SHARE[kind])
            day, moment = open_moment(rng, world.calendar, place.hours)
            person = speaker.person(place, CONTACT_SHARE)
            language = speaker.language(place, person)
            mood, topic = _mood_and_topic(speaker, kind, place, day, moment, person)
            partial = rng.random() < 0.03
            has_comment = not partial and rng.random() < effects.COMMENT_SHARE[mood]
            text = speaker.comment(topic, language) if has_comment else ""
            if kind == "nps":
                touchpoint = touch["website" if place.online else "store"]
            else:
                touchpoint = touch["support" if kind == "csat" else "delivery"]
            rows.append(
                Response(
                    brand_id=brand_id,
                    survey_id=survey_ids[kind],
                    location_id=place.location.pk,
                    touchpoint_id=touchpoint.pk,
                    channel_id=_response_channel(rng, world, kind, place).pk,
                    contact_id=person.contact.pk if person else None,
                    language=language,
                    created_at=moment,
                    completed_at=None
                    if partial
                    else moment + timedelta(seconds=rng.randint(20, 400)),
                    is_partial=partial,
                    score=effects.score_for(rng, kind, mood),
                    comment=text,
                )
            )
            texts.append((kind, text))
        Response.objects.bulk_create(rows, batch_size=BATCH)
        answers = []
        for response, (kind, text) in zip(rows, texts, strict=True):
            headline, follow_up = question_ids[kind]
            answers.append(
                Answer(response_id=response.pk, question_id=headline, score=response.score)
            )
            if text:
                answers.append(Answer(response_id=response.pk, question_id=follow_up, text=text))
        Answer.objects.bulk_create(answers, batch_size=BATCH)
        done += size
        if bar is not None:
            bar.update(size)
    if bar is not None:
        bar.close()
    return total


def reviews(world: World) -> int:
    """Google reviews of each store and Trustpilot reviews of the online shop, 1-5 stars.

    The delay month adds a burst of one- and two-star delivery reviews on Trustpilot.
    """
    rng = world.config.rng("reviews")
    speaker = Speaker(world, rng)
    calendar = world.calendar
    delay_lo = (calendar.month_start(effects.DELAY_MONTHS_BEFORE) - calendar.start).days
    delay_hi = (calendar.month_start(effects.DELAY_MONTHS_BEFORE - 1) - calendar.start).days
    burst = world.config.reviews // 25
    rows = []
    for i in range(world.config.reviews + burst):
        in_burst = i >= world.config.reviews
        place = world.online if in_burst else speaker.place(0.35)
        if in_burst:
            day, moment = open_moment(rng, calendar, place.hours, delay_lo, delay_hi)
        else:
            day, moment = open_moment(rng, calendar, place.hours)
        person = speaker.person(place, 0.6)
        language = speaker.language(place, person)
        if in_burst:
            mood, topic = "bad", "delivery"
        else:
            mood, topic = _mood_and_topic(speaker, "review", place, day, moment, person, "nps")
        stars = effects.score_for(rng, "review", mood)
        source = "trustpilot" if place.online else "google"
        channel = place.channels[K.TRUSTPILOT if place.online else K.GOOGLE]
        author = person.contact.name if person else _anonymous(language)
        rows.append(
            FeedbackItem(
                brand=world.brand,
                location=place.location,
                touchpoint=world.touchpoints["reviews"],
                channel=channel,
                contact=person.contact if person and rng.random() < 0.3 else None,
                kind=FeedbackItem.Kind.REVIEW,
                source=source,
                external_id=f"{source}-{i:07d}",
                author=author,
                rating=Decimal(stars),
                rating_scale=5,
                title=rng.choice(catalogue.REVIEW_TITLES[mood][language]),
                text=speaker.comment(topic, language),
                language=language,
                url=f"{place.location.review_url}/{i}",
                occurred_at=moment,
                received_at=moment + timedelta(hours=rng.uniform(0.5, 12)),
            )
        )
    FeedbackItem.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


ANONYMOUS = {
    "it": "Anonimo",
    "cy": "Dienw",
    "ru": "Аноним",
    "en": "Anonymous",
    "es": "Anónimo",
    "de": "Anonym",
    "fr": "Anonyme",
}


def _anonymous(language: str) -> str:
    return ANONYMOUS[language]


def mentions(world: World) -> int:
    """Posts on Facebook, Instagram and X that name the brand (or a store)."""
    rng = world.config.rng("mentions")
    speaker = Speaker(world, rng)
    sources = [("facebook", K.FACEBOOK), ("instagram", K.INSTAGRAM), ("x", K.X)]
    rows = []
    for i in range(world.config.mentions):
        source, kind = rng.choices(sources, weights=(4, 4, 2))[0]
        place = speaker.place(0.3)
        day, moment = open_moment(rng, world.calendar, place.hours)
        person = speaker.person(place, 0.5)
        language = speaker.language(place, person)
        mood, topic = _mood_and_topic(speaker, "review", place, day, moment, person, "nps")
        handle = person.contact.name if person else f"user{rng.randint(1000, 99999)}"
        rows.append(
            FeedbackItem(
                brand=world.brand,
                location=place.location if rng.random() < 0.7 else None,
                touchpoint=world.touchpoints["social"],
                channel=world.channels[kind],
                contact=person.contact if person else None,
                kind=FeedbackItem.Kind.MENTION,
                source=source,
                external_id=f"{source}-post-{i:07d}",
                author=handle,
                text=f"{speaker.comment(topic, language)} {rng.choice(catalogue.HASHTAGS)}",
                language=language,
                occurred_at=moment,
                received_at=moment + timedelta(minutes=rng.uniform(1, 90)),
            )
        )
    FeedbackItem.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)
