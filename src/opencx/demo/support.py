"""Support conversations in the inbox: customer messages, agent replies, open and resolved."""

import secrets
from datetime import timedelta

from opencx.contacts.models import Identity
from opencx.inbox import events, sla
from opencx.inbox.canned import check_placeholders
from opencx.inbox.models import (
    AgentStatus,
    CannedReply,
    Conversation,
    ConversationEvent,
    EmailChannel,
    GoogleReviewsChannel,
    Inbox,
    Label,
    Message,
    MetaChannel,
    SavedView,
    SlaPolicy,
    SmsChannel,
    Team,
    WebChatChannel,
)
from opencx.insights.services import rollups_add
from opencx.platform.models import Brand, Channel
from opencx.surveys.models import Answer, Invitation, Response

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


def web_chat_inbox(world: World) -> int:
    """The online shop's web chat: an inbox with its widget, to try at /widget/<key>/demo/."""
    place = world.online
    channel = place.channels.get(K.WEB_CHAT) or world.channels.get(K.WEB_CHAT)
    if channel is None:
        return 0
    inbox = Inbox.objects.create(
        brand=world.brand, location=place.location, channel=channel, name="Website chat",
        kind=Inbox.Kind.WEB_CHAT,
    )  # fmt: skip
    WebChatChannel.objects.create(
        inbox=inbox,
        widget_key=secrets.token_urlsafe(18),
        greeting="Hello! Ask us about orders, returns or products.",
    )
    return 1


# --- The inbox around the conversations: channels, teams, service levels, facts, CSAT ---------
#
# Every demo conversation gets the inbox of its channel; the service levels, the reporting
# facts (`ConversationEvent`) and the CSAT answers are derived from the timestamps the
# `conversations` step drew, through the same functions the live services use, so the report
# at /b/<slug>/insights/inbox/ reads the demo as it would read a real inbox.

FAKE = "demo-not-a-real-secret"  # every credential below: nothing is ever sent to a provider
LOCAL = "http://127.0.0.1:9"  # the discard port: a reply "sent" from the demo fails at once
# inbox kind: (first response, next response, resolution) in business minutes, normal priority
SLA_MINUTES = {
    "email": (480, 480, 1440),
    "web_chat": (15, 15, 540),
    "sms": (240, 240, 960),
    "facebook": (300, 300, 960),
    "instagram": (300, 300, 960),
    "google_reviews": (1440, 1440, 4320),
}
PRIORITY_FACTOR = {"low": 2.0, "normal": 1.0, "high": 0.75, "urgent": 0.5}
LABELS = {  # name: colour
    "delivery": "#0284c7",
    "refund": "#d97706",
    "product": "#16a34a",
    "complaint": "#dc2626",
    "vip": "#7c3aed",
}
CANNED = [  # shortcut, title, body (placeholders as `inbox.canned` knows them)
    (
        "hello",
        "Greeting",
        "Hello {{ contact.first_name }}, thank you for writing to {{ brand.name }}. "
        "I'm {{ agent.name }} and I'll look after this for you.",
    ),
    (
        "tracking",
        "Where is my order",
        "Hi {{ contact.first_name }}, your parcel is on its way: the tracking link is in the "
        "dispatch e-mail. If it hasn't moved in two days, reply here and we'll chase the courier.",
    ),
    (
        "return",
        "How to return",
        "Hi {{ contact.first_name }}, you can return anything within 30 days: bring it to any "
        "{{ brand.name }} store or use the prepaid label in your order e-mail.",
    ),
    (
        "refund",
        "Refund on its way",
        "Hi {{ contact.first_name }}, your refund has been issued today; banks take 3–5 working "
        "days to show it. Your reference is #{{ conversation.id }}.",
    ),
    (
        "store",
        "Visit the store",
        "You're welcome to drop by {{ location.name }}: the team there can help in person.",
    ),
    (
        "bye",
        "Closing",
        "Glad we could help, {{ contact.first_name }}. Have a lovely day! — {{ agent.name }}",
    ),
]


def _conversation_inboxes(world: World) -> dict:
    """The demo's inboxes by the conversation channel they serve (web chat: the existing one)."""
    brand = world.brand
    if not Inbox.objects.filter(brand=brand, kind=Inbox.Kind.WEB_CHAT).exists():
        web_chat_inbox(world)
    inboxes = {K.WEB_CHAT: Inbox.objects.get(brand=brand, kind=Inbox.Kind.WEB_CHAT)}
    domain = "bottega-aurora.example"

    def make(kind: str, channel: Channel, name: str, **more) -> Inbox:
        return Inbox.objects.create(brand=brand, channel=channel, name=name, kind=kind, **more)

    # Placeholder mailbox on this machine, switched off so the worker never tries to read it.
    email = make(Inbox.Kind.EMAIL, world.channels[K.EMAIL], f"support@{domain}", is_active=False)
    EmailChannel.objects.create(
        inbox=email,
        address=f"support@{domain}",
        imap_host="127.0.0.1",
        imap_user=f"support@{domain}",
        imap_password=FAKE,
        smtp_host="127.0.0.1",
        smtp_user=f"support@{domain}",
        smtp_password=FAKE,
    )
    sms = make(Inbox.Kind.SMS, world.channels[K.SMS], "SMS +44 29 2018 0123")
    SmsChannel.objects.create(
        inbox=sms,
        phone_number="+442920180123",  # an Ofcom drama number: never a real line
        account_sid="AC" + "0" * 32,
        auth_token=FAKE,
        api_base_url=LOCAL,
    )
    inboxes.update({K.EMAIL: email, K.SMS: sms})
    for kind, name in ((K.FACEBOOK, "Facebook page"), (K.INSTAGRAM, "Instagram @bottegaaurora")):
        inbox = make(kind, world.channels[kind], name)
        MetaChannel.objects.create(
            inbox=inbox,
            platform=kind,
            page_id=f"demo-{brand.slug}-{kind}",
            app_secret=FAKE,
            page_access_token=FAKE,
            verify_token=FAKE,
            graph_base_url=LOCAL,
        )
        inboxes[kind] = inbox
    for place in world.stores[:2]:
        inbox = make(
            Inbox.Kind.GOOGLE_REVIEWS,
            place.channels[K.GOOGLE],
            f"Google reviews · {place.location.city}",
            location=place.location,
        )
        GoogleReviewsChannel.objects.create(
            inbox=inbox,
            account_id="demo-account",
            listing_id=f"demo-listing-{place.code}",
            push_secret=FAKE,
            api_base_url=LOCAL,
        )
        inboxes[f"google:{place.code}"] = inbox
    return inboxes


def inboxes(world: World) -> int:
    """Inboxes per channel (with placeholder settings), each demo conversation and its messages
    in the inbox of its channel; teams, labels, canned replies, saved views, agent statuses
    and a service-level policy per inbox and priority."""
    brand = world.brand
    by_channel = _conversation_inboxes(world)
    for key, inbox in by_channel.items():
        if key in CHANNELS:
            channel = inbox.channel
            Conversation.objects.filter(brand=brand, channel=channel).update(inbox=inbox)
            Message.objects.filter(conversation__brand=brand, conversation__channel=channel).update(
                inbox=inbox
            )
    all_inboxes = list(Inbox.objects.filter(brand=brand))
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(
                inbox=inbox,
                priority=priority,
                first_response_minutes=round(SLA_MINUTES[inbox.kind][0] * factor),
                next_response_minutes=round(SLA_MINUTES[inbox.kind][1] * factor),
                resolution_minutes=round(SLA_MINUTES[inbox.kind][2] * factor),
                business_hours=True,
            )
            for inbox in all_inboxes
            for priority, factor in PRIORITY_FACTOR.items()
        ]
    )
    users = world.users
    online = Team.objects.create(brand=brand, name="Online support")
    online.members.set([users["agent"], users["cx_manager"]])
    online.inboxes.set([i for i in all_inboxes if i.kind != Inbox.Kind.GOOGLE_REVIEWS])
    stores = Team.objects.create(brand=brand, name="Stores")
    stores.members.set([users["location_manager"], users["cx_manager"]])
    stores.inboxes.set([i for i in all_inboxes if i.kind == Inbox.Kind.GOOGLE_REVIEWS])
    Label.objects.bulk_create(
        [Label(brand=brand, name=name, colour=colour) for name, colour in LABELS.items()]
    )
    for _, _, body in CANNED:
        check_placeholders(body)
    CannedReply.objects.bulk_create(
        [
            CannedReply(
                brand=brand, shortcut=shortcut, title=title, body=body,
                created_by=users["cx_manager"],
            )
            for shortcut, title, body in CANNED
        ]
    )  # fmt: skip
    refund = Label.objects.get(brand=brand, name="refund")
    SavedView.objects.bulk_create(
        [
            SavedView(
                brand=brand, name="Urgent and high, open", position=0,
                filters={"status": "open", "priority": "high"},
            ),
            SavedView(
                brand=brand, owner=users["agent"], name="My refunds",
                filters={"label": str(refund.pk), "assignee": str(users["agent"].pk)},
            ),
        ]
    )  # fmt: skip
    AgentStatus.objects.bulk_create(
        [
            AgentStatus(user=users["agent"], brand=brand, available=True, capacity=12),
            AgentStatus(user=users["cx_manager"], brand=brand, available=True, capacity=6),
            AgentStatus(user=users["location_manager"], brand=brand, available=False, capacity=4),
        ]
    )
    return len(all_inboxes)


def _intents_by_subject() -> dict[str, str]:
    return {
        subject: intent
        for intent, by_language in catalogue.SUPPORT_OPENERS.items()
        for subject, _ in by_language.values()
    }


def _breach(conversation: Conversation, target: str, done, now) -> bool:
    """Missed when its due moment passed before it was done (or before now, still undone); the
    minutely check (`inbox.sla.conversations_check_sla`) marks it at the due moment."""
    due = getattr(conversation, f"{target}_due_at")
    if due is None or due >= (done or now):
        return False
    setattr(conversation, f"{target}_breached_at", due)
    return True


def inbox_facts(world: World) -> int:
    """Teams, labels and service levels of the demo conversations, and their reporting facts
    (`ConversationEvent`): started, assigned, first response, resolved, service levels missed —
    timed as the live services time them (`inbox.sla.apply_policy`, `inbox.events.durations`)."""
    E = ConversationEvent.Kind
    brand, now = world.brand, world.calendar.end_utc
    rng = world.config.rng("inbox_facts")
    online_team = Team.objects.get(brand=brand, name="Online support")
    stores_team = Team.objects.get(brand=brand, name="Stores")
    manager = world.users["location_manager"]
    labels = {label.name: label for label in Label.objects.filter(brand=brand)}
    intents = _intents_by_subject()
    contact_ids = sorted({p.contact.pk for p in world.people})
    vips = set(rng.sample(contact_ids, k=max(1, len(contact_ids) // 20)))
    conversations = list(
        Conversation.objects.filter(brand=brand).select_related("location").order_by("pk")
    )
    facts, tags = [], []
    for conversation in conversations:
        conversation.team = stores_team if conversation.assignee_id == manager.pk else online_team
        if rng.random() < 0.08:
            conversation.team = None  # not triaged yet
        sla.apply_policy(conversation)
        first, resolved = conversation.first_reply_at, conversation.resolved_at
        missed = []
        if _breach(conversation, "first_response", first, now):
            missed.append("first_response")
        waiting = conversation.status == Conversation.Status.OPEN and first is not None
        if waiting and _breach(conversation, "next_response", None, now):
            missed.append("next_response")
        if _breach(conversation, "resolution", resolved, now):
            missed.append("resolution")

        def fact(kind, at, c=conversation, **more):
            facts.append(events.fact(c, kind, at=at, **more))

        created = conversation.created_at
        fact(E.CREATED, created)
        if conversation.assignee_id:
            soon = created + timedelta(minutes=rng.uniform(0, 3))
            fact(E.ASSIGNED, min(soon, first or soon), agent_id=conversation.assignee_id)
        if first is not None:
            due = conversation.first_response_due_at
            calendar, business = events.durations(conversation, created, first)
            outcome = events.outcome(first, due)
            fact(
                E.FIRST_RESPONSE, first, agent_id=conversation.assignee_id,
                seconds=calendar, business=business, detail=outcome,
            )  # fmt: skip
        if resolved is not None:
            due = conversation.resolution_due_at
            calendar, business = events.durations(conversation, created, resolved)
            outcome = events.outcome(resolved, due)
            fact(
                E.RESOLVED, resolved, agent_id=conversation.assignee_id,
                seconds=calendar, business=business, detail=outcome,
            )  # fmt: skip
        for target in missed:
            fact(E.SLA_BREACH, getattr(conversation, f"{target}_due_at"), detail=target)

        intent = intents.get(conversation.subject)
        chosen = set()
        if intent == "order_status" and rng.random() < 0.8:
            chosen.add("delivery")
        if intent == "refund_missing" or (intent == "return_request" and rng.random() < 0.4):
            chosen.add("refund")
        if intent == "product_question" and rng.random() < 0.6:
            chosen.add("product")
        if missed and rng.random() < 0.3:
            chosen.add("complaint")
        if conversation.contact_id in vips:
            chosen.add("vip")
        tags += [
            Conversation.labels.through(conversation_id=conversation.pk, label_id=labels[n].pk)
            for n in sorted(chosen)
        ]
    Conversation.objects.bulk_update(
        conversations,
        ["team", *(f"{target}_breached_at" for target in sla.TARGETS)],
        batch_size=BATCH,
    )
    Conversation.labels.through.objects.bulk_create(tags, batch_size=BATCH)
    ConversationEvent.objects.bulk_create(facts, batch_size=BATCH)
    return len(facts)


CSAT_INVITED = 0.6  # of resolved conversations with a known customer
CSAT_ANSWERED = 0.45  # of invitations


def support_csat(world: World) -> int:
    """The "Support CSAT" survey after resolution, as `inbox.csat` sends it: an invitation per
    resolved conversation (a share of them), linked from the conversation, and some answers —
    happier when the first response came in time."""
    brand, now = world.brand, world.calendar.end_utc
    rng = world.config.rng("support_csat")
    survey = world.surveys["csat"]
    headline, _ = world.questions["csat"]
    languages = {p.contact.pk: p.language for p in world.people}
    addresses = dict(
        Identity.objects.filter(brand=brand, kind=Identity.Kind.EMAIL)
        .order_by("contact_id", "is_primary", "-pk")  # the primary address last: it wins
        .values_list("contact_id", "value")
    )
    late = set(
        ConversationEvent.objects.filter(
            brand=brand, kind=ConversationEvent.Kind.FIRST_RESPONSE, detail="missed"
        ).values_list("conversation_id", flat=True)
    )
    resolved = (
        Conversation.objects.filter(
            brand=brand, status=Conversation.Status.RESOLVED, contact__isnull=False
        )
        .select_related("location")
        .order_by("pk")
    )
    sent: list[tuple[Conversation, Invitation, bool]] = []
    for conversation in resolved:
        address = addresses.get(conversation.contact_id)
        if address is None or rng.random() >= CSAT_INVITED:
            continue
        at = conversation.resolved_at + timedelta(minutes=rng.uniform(1, 5))
        answered_at = at + timedelta(minutes=rng.lognormvariate(5, 1.2))
        answered = rng.random() < CSAT_ANSWERED and answered_at < now
        invitation = Invitation(
            brand=brand,
            survey=survey,
            contact_id=conversation.contact_id,
            location_id=conversation.location_id,
            touchpoint=survey.touchpoint,
            channel_id=conversation.channel_id,
            via=Invitation.Via.EMAIL,
            address=address,
            language=languages.get(conversation.contact_id, survey.default_language),
            nonce=secrets.token_hex(16),
            status=Invitation.Status.RESPONDED if answered else Invitation.Status.SENT,
            created_at=at,
            sent_at=at,
            responded_at=answered_at if answered else None,
        )
        sent.append((conversation, invitation, answered))
    Invitation.objects.bulk_create([i for _, i, _ in sent], batch_size=BATCH)
    for conversation, invitation, _ in sent:
        conversation.csat_invitation = invitation
    Conversation.objects.bulk_update([c for c, _, _ in sent], ["csat_invitation"], batch_size=BATCH)
    responses = []
    for conversation, invitation, answered in sent:
        if not answered:
            continue
        happy = 0.55 if conversation.pk in late else 0.85
        if conversation.location.code == effects.SLOW_STORE:
            happy -= 0.15
        score = rng.choice([4, 5, 5]) if rng.random() < happy else rng.choice([1, 2, 2, 3])
        responses.append(
            Response(
                brand=brand,
                survey=survey,
                location=conversation.location,
                touchpoint=survey.touchpoint,
                channel_id=conversation.channel_id,
                contact_id=conversation.contact_id,
                language=invitation.language,
                created_at=invitation.responded_at - timedelta(seconds=rng.randint(20, 300)),
                completed_at=invitation.responded_at,
                invitation=invitation,
                score=score,
            )
        )
    Response.objects.bulk_create(responses, batch_size=BATCH)
    Answer.objects.bulk_create(
        [Answer(response_id=r.pk, question_id=headline.pk, score=r.score) for r in responses],
        batch_size=BATCH,
    )
    for response in responses:  # the rollups were built before these answers came
        rollups_add(response=response, scored=[(headline, response.score)])
    return len(sent)


def delete(brand: Brand) -> None:
    """The inbox rows that hold on to locations and channels (`Inbox.location` and
    `Inbox.channel` are protected): before the locations go. Conversations are gone already."""
    Inbox.objects.filter(brand=brand).delete()  # with their settings, policies and sessions
    for model in (Team, Label, CannedReply, SavedView, AgentStatus):
        model.objects.filter(brand=brand).delete()
