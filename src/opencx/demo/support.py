"""Support conversations in the inbox: customer messages, agent replies, open and resolved."""

from datetime import timedelta

from opencx.inbox.models import Conversation, Message
from opencx.platform.models import Channel

from . import catalogue, effects
from .clock import open_moment
from .world import BATCH, World

K = Channel.Kind
# channel kind: (share, median minutes to a first reply)
CHANNELS = {
    K.EMAIL: (0.40, 300),
    K.WEB_CHAT: (0.25, 4),
    K.SMS: (0.10, 90),
    K.FACEBOOK: (0.10, 120),
    K.INSTAGRAM: (0.15, 120),
}
INTENTS = {
    "order_status": 0.30,
    "return_request": 0.25,
    "refund_missing": 0.15,
    "product_question": 0.30,
}
DELAY_INTENTS = {
    "order_status": 0.70,
    "return_request": 0.12,
    "refund_missing": 0.08,
    "product_question": 0.10,
}
BACKLOG_DAYS = 30
CURRENT_DAYS = 14
CURRENT_SHARE = 0.06  # of all conversations, opened in the last CURRENT_DAYS
RECENT_DAYS = 3  # conversations this young are often still open


def conversations(world: World) -> int:
    config, calendar = world.config, world.calendar
    rng = config.rng("conversations")
    now = calendar.end_utc
    kinds = list(CHANNELS)
    kind_weights = [share for share, _ in CHANNELS.values()]
    agents = [world.users["agent"], world.users["cx_manager"]]
    manager = world.users["location_manager"]
    specs = []  # (conversation, [(direction, sender kind, sender, body, at, private)])
    created = 0
    for _ in range(config.conversations):
        kind = rng.choices(kinds, weights=kind_weights)[0]
        person = rng.choice(world.people)
        place = world.online if kind == K.WEB_CHAT else person.place
        if rng.random() < CURRENT_SHARE:  # today's queue: threads from the last fortnight
            lo = len(calendar.days) - CURRENT_DAYS
            _, opened = open_moment(rng, calendar, place.hours, lo=lo)
        else:
            _, opened = open_moment(rng, calendar, place.hours)
        language = person.language
        delay = effects.is_delay_month(calendar.months_before(opened.date()))
        mix = DELAY_INTENTS if delay else INTENTS
        intent = rng.choices(list(mix), weights=list(mix.values()))[0]
        subject, body = catalogue.SUPPORT_OPENERS[intent][language]

        median = CHANNELS[kind][1] * (2.0 if delay else 1.0)
        if place.code == effects.SLOW_STORE:
            median *= effects.SLOW_REPLY_FACTOR
        first_reply = opened + timedelta(minutes=median * rng.lognormvariate(0, 0.8))
        age_days = (now - opened).total_seconds() / 86400
        r = rng.random()
        if age_days < RECENT_DAYS:
            status = "open_unanswered" if r < 0.45 else "open_answered" if r < 0.75 else "resolved"
        elif age_days > BACKLOG_DAYS:  # a living inbox has closed its old threads
            status = "resolved"
        else:
            status = (
                "open_unanswered"
                if r < 0.04
                else "pending"
                if r < 0.08
                else "snoozed"
                if r < 0.10
                else "resolved"
            )
        if first_reply >= now:
            status = "open_unanswered"

        if place.code == effects.SLOW_STORE and rng.random() < 0.5:
            assignee = manager
        else:
            assignee = rng.choice(agents)
        messages = [("in", "contact", None, body, opened, False)]
        conversation = Conversation(
            brand=world.brand,
            location=place.location,
            channel=world.channels[kind] if kind in world.channels else world.online.channels[kind],
            contact=person.contact,
            subject=subject,
            priority="high" if intent == "refund_missing" else "normal",
            created_at=opened,
        )
        if status == "open_unanswered":
            conversation.status = Conversation.Status.OPEN
            conversation.waiting_since = opened
            conversation.assignee = assignee if rng.random() < 0.3 else None
            if age_days > 2 and rng.random() < 0.5:
                nudge = opened + timedelta(hours=rng.uniform(20, 40))
                messages.append(
                    ("in", "contact", None, catalogue.SUPPORT_NUDGE[language], nudge, False)
                )
        else:
            conversation.assignee = assignee
            conversation.first_reply_at = first_reply
            reply = catalogue.SUPPORT_REPLIES[intent][language].format(name=person.first_name)
            if rng.random() < 0.1:
                note_at = first_reply - timedelta(minutes=1)
                messages.append(
                    ("out", "agent", assignee, rng.choice(catalogue.INTERNAL_NOTES), note_at, True)
                )
            messages.append(("out", "agent", assignee, reply, first_reply, False))
            if status == "open_answered":
                conversation.status = Conversation.Status.OPEN
                again_at = first_reply + timedelta(minutes=rng.uniform(5, 240))
                if again_at < now:  # the customer wrote back and waits for us
                    nudge = catalogue.SUPPORT_NUDGE[language]
                    messages.append(("in", "contact", None, nudge, again_at, False))
                    conversation.waiting_since = again_at
            elif status in ("pending", "snoozed"):
                conversation.status = status
            else:
                conversation.status = Conversation.Status.RESOLVED
                thanks_at = first_reply + timedelta(minutes=rng.uniform(5, 600))
                if rng.random() < 0.6:
                    messages.append(
                        (
                            "in",
                            "contact",
                            None,
                            catalogue.SUPPORT_THANKS[language],
                            thanks_at,
                            False,
                        )
                    )
                conversation.resolved_at = min(
                    thanks_at + timedelta(minutes=rng.uniform(1, 60)), now
                )
        conversation.last_activity_at = max(
            [at for *_, at, _private in messages]
            + ([conversation.resolved_at] if conversation.resolved_at else [])
        )
        specs.append((conversation, messages))
        if len(specs) >= BATCH:
            created += _save(specs)
            specs = []
    return created + _save(specs)


def _save(specs) -> int:
    Conversation.objects.bulk_create([c for c, _ in specs], batch_size=BATCH)
    Message.objects.bulk_create(
        [
            Message(
                conversation_id=conversation.pk,
                direction=direction,
                sender_kind=sender_kind,
                sender_id=sender.pk if sender else None,
                is_private=private,
                body=body,
                created_at=at,
            )
            for conversation, messages in specs
            for direction, sender_kind, sender, body, at, private in messages
        ],
        batch_size=BATCH,
    )
    return len(specs)
