"""The planted effects: the knobs that shape the demo's moods, in one place.

docs/demo.md describes each effect and how to see it; tests/demo checks each one is there.
"""

import random

# (1) A store whose service slows down: NPS falls over the last six months, comments about waiting.
SLOW_STORE = "cardiff"
SLOW_RAMP_DAYS = 180  # the penalty grows linearly from 0 (180 days ago) to SLOW_MAX (today)
SLOW_MAX_PENALTY = 0.9
SLOW_REPLY_FACTOR = 3.0  # its support conversations wait three times longer for a first reply

# (2) The checkout pain point: the share of sessions that go on from one step to the next.
# Shipping costs appear only on the shipping step, and most visitors leave there.
CHECKOUT_CONTINUE = {
    "cart": 0.78,  # from add_to_cart to the cart page
    "shipping": 0.86,
    "payment": 0.36,  # <- the drop-off: shipping -> payment
    "review": 0.90,
    "purchase": 0.92,
}

# (3) The delivery-delay month: the calendar month DELAY_MONTHS_BEFORE months before the
# current one. Late parcels, delivery complaints, slower support, lower NPS.
DELAY_MONTHS_BEFORE = 4
LATE_SHARE_NORMAL = 0.06
LATE_SHARE_DELAY = 0.60
DELAY_HIT_ONLINE = (
    0.40  # share of that month's online feedback that turns into a delivery complaint
)
DELAY_HIT_STORE = 0.12  # stores ship too (home delivery), less so

# (4) What drives detractors: returns and refunds. Promoters praise friendly staff.
GOOD_TOPICS = {"staff": 0.5, "quality": 0.3, "fast": 0.2}
NEUTRAL_TOPICS = {"selection": 0.5, "price": 0.5}
BAD_TOPICS_STORE = {
    "returns": 0.40,
    "waiting": 0.16,
    "price": 0.16,
    "selection": 0.14,
    "delivery": 0.14,
}
BAD_TOPICS_ONLINE = {
    "returns": 0.40,
    "delivery": 0.22,
    "website": 0.18,
    "price": 0.12,
    "selection": 0.08,
}

# Base shares of (good, bad) moods per survey kind before penalties; the rest is neutral.
BASE_MOOD = {"nps": (0.56, 0.16), "csat": (0.78, 0.10), "ces": (0.66, 0.15), "review": (0.62, 0.18)}
COMMENT_SHARE = {"good": 0.45, "neutral": 0.30, "bad": 0.65}


def slow_penalty(location_code: str, days_before_end: int) -> float:
    if location_code != SLOW_STORE or days_before_end >= SLOW_RAMP_DAYS:
        return 0.0
    return SLOW_MAX_PENALTY * (1 - days_before_end / SLOW_RAMP_DAYS)


def is_delay_month(months_before_end: int) -> bool:
    return months_before_end == DELAY_MONTHS_BEFORE


def draw_mood(rng: random.Random, kind: str, *, shift: float = 0.0, penalty: float = 0.0) -> str:
    """'good', 'neutral' or 'bad'. `shift` is the customer's temper, `penalty` a bad period."""
    good, bad = BASE_MOOD[kind]
    good = min(max(good + shift - 0.45 * penalty, 0.02), 0.95)
    bad = min(max(bad - shift + 0.55 * penalty, 0.02), 0.95)
    r = rng.random()
    if r < bad:
        return "bad"
    return "good" if r < bad + good else "neutral"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    point = rng.random() * sum(weights.values())
    for key, weight in weights.items():
        point -= weight
        if point < 0:
            return key
    return key


def draw_topic(
    rng: random.Random, *, kind: str, mood: str, online: bool, penalty: float = 0.0
) -> str:
    """What a comment is about, given the survey kind, the mood and where it happened."""
    if kind == "csat":
        if mood == "good":
            return "support_good"
        if mood == "neutral":
            return _pick(rng, {"support_good": 0.5, "support_slow": 0.5})
        return _pick(rng, {"support_slow": 0.7, "returns": 0.3})
    if kind == "ces":
        if mood == "good":
            return "returns_easy"
        return "returns" if mood == "bad" or rng.random() < 0.5 else "returns_easy"
    # NPS, reviews and social mentions
    if penalty > 0 and mood != "good" and rng.random() < 0.4 + 0.5 * penalty:
        return "waiting"
    if mood == "good":
        return _pick(rng, GOOD_TOPICS)
    if mood == "neutral":
        return _pick(rng, NEUTRAL_TOPICS)
    return _pick(rng, BAD_TOPICS_ONLINE if online else BAD_TOPICS_STORE)


def score_for(rng: random.Random, kind: str, mood: str) -> int:
    """The headline answer on the survey's own scale for a mood."""
    if kind == "nps":
        if mood == "good":
            return 10 if rng.random() < 0.55 else 9
        if mood == "neutral":
            return 8 if rng.random() < 0.55 else 7
        return rng.choices(range(7), weights=(1, 1, 2, 3, 4, 6, 8))[0]
    if kind in ("csat", "review"):
        if mood == "good":
            return 5 if rng.random() < 0.55 else 4
        if mood == "neutral":
            return 3
        return 1 if rng.random() < 0.45 else 2
    # CES: 1-7 agreement with "it was easy", higher is better
    if mood == "good":
        return rng.choices((5, 6, 7), weights=(3, 4, 3))[0]
    if mood == "neutral":
        return 4
    return rng.choices((1, 2, 3), weights=(3, 4, 4))[0]
