# ruff: noqa: E501 -- data: one sentence per line reads better than split strings
"""The closed loop of the demo brand: case rules, routing, SLAs, and ~90 days of cases.

The rules are set up through the cases services, as a CX manager would; the cases are what those
rules would have opened from the demo's responses and reviews since each rule went live, with the
services' semantics: the first matching rule (by position) opens a case, owned by the routing
rule's owner or the location manager (`default_owner`), due after the SLA's business hours
(`sla_hours` + `business_deadline`); a customer's repeat complaint joins their open case; every
item joins at most one case. Each case then lives a planned life (acknowledged, worked, replied to,
root cause, resolved, re-surveyed, closed) cut at the demo's "now" (`calendar.end_utc`): what
lies after it has not happened yet, so young cases are still new and stuck ones are overdue and
escalated (the escalation job runs every five minutes).
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opencx.cases import services as cases
from opencx.cases.models import Case, CaseEvent, CaseRule, CaseSource, Priority
from opencx.contacts.models import Identity
from opencx.feedback.models import FeedbackItem
from opencx.insights.facade import BusinessCalendar, business_calendar
from opencx.platform.selectors import actor_for
from opencx.surveys.models import Invitation, Response

from . import catalogue, effects
from .world import BATCH, World

S = Case.Status
T = CaseRule.Trigger
E = CaseEvent.Kind
RC = Case.RootCause

KEYWORDS = [
    "refund",
    "rimborso",
    "reembolso",
    "remboursement",
    "Rückerstattung",
    "Erstattung",
    "ad-daliad",
    "возврат",
    "complaint",
    "reclamo",
]
# name, trigger, threshold, keywords, priority, days live before "now" (position = list order)
RULES = [
    ("Detractor (NPS 0–6)", T.NPS_AT_MOST, 6, [], Priority.HIGH, 90),
    ("Unhappy CSAT/CES", T.BAD_SIDE, None, [], Priority.NORMAL, 90),
    ("One- or two-star review", T.LOW_RATING, 2, [], Priority.HIGH, 90),
    ("Refund or complaint words", T.KEYWORD, None, KEYWORDS, Priority.NORMAL, 45),
    ("Score dropped", T.RATING_DROP, 3, [], Priority.NORMAL, 30),
]
# Business hours to acknowledge and to resolve.
SLA = {
    Priority.URGENT: (1, 8),
    Priority.HIGH: (4, 16),
    Priority.NORMAL: (8, 40),
    Priority.LOW: (24, 80),
}
ESCALATION_TICK = 300  # seconds: `opencx work` runs escalate_cases every five minutes

# How cases go (shares): acknowledged late, resolved late, stuck (far past due: open overdue).
LATE_ACK = 0.12
LATE_RESOLVE = 0.17
STUCK = 0.06
ACK_THEN_WORK = 0.5  # acknowledged first, worked later; the rest are answered straight away
NOTE_SHARE = 0.45
ANSWERED_RESURVEY = 0.55
RECOVERED = 0.6
OTHER_CAUSE = 0.1  # the investigation finds another cause than the one the customer named

HAPPY_TOPICS = {"staff", "quality", "fast", "support_good", "returns_easy"}
TOPIC_OF = {
    text: topic
    for topic, by_language in catalogue.COMMENTS.items()
    for texts in by_language.values()
    for text in texts
}

# Topic the customer named -> root-cause category and the owner's write-up of it.
CAUSES = {
    "returns": (
        RC.DELIVERY,
        {
            "what_happened": "Refund for a returned item not received; the customer chased it twice.",
            "duration": "About three weeks",
            "noticed_by": "Finance; the store team",
            "why": "Returns are refunded in a weekly batch and this one missed the cut-off.",
            "customer_reaction": "Angry: asked for the money back and gave a low score.",
            "change_after": "Refunds for returns are now issued daily.",
            "resolution": "Refund issued the same day, with a 10% voucher for the trouble.",
        },
    ),
    "delivery": (
        RC.DELIVERY,
        {
            "what_happened": "Parcel arrived late and the tracking page showed no updates.",
            "duration": "Six days late",
            "noticed_by": "Customer care; the courier's hub",
            "why": "The courier's regional hub was overloaded and parcels sat unscanned.",
            "customer_reaction": "Frustrated that nobody told them where the parcel was.",
            "change_after": "A second courier for the region; tracking e-mails switched on.",
            "resolution": "Apologised and refunded the shipping cost.",
        },
    ),
    "waiting": (
        RC.WAITING,
        {
            "what_happened": "Long queue at the till with one person serving.",
            "duration": "Over half an hour",
            "noticed_by": "Other customers in the queue; the store manager",
            "why": "Two colleagues on leave and no cover on the rota.",
            "customer_reaction": "Left without buying the second item.",
            "change_after": "The rota keeps two people on the till on busy days.",
            "resolution": "Apologised by phone and offered a booked appointment next visit.",
        },
    ),
    "support_slow": (
        RC.WAITING,
        {
            "what_happened": "An e-mail to customer care waited days for an answer.",
            "duration": "Three days",
            "noticed_by": "Customer care",
            "why": "The shared mailbox had nobody on it over the weekend.",
            "customer_reaction": "Wrote three times before anyone answered.",
            "change_after": "A weekend rota for the shared mailbox.",
            "resolution": "Answered the question and apologised for the wait.",
        },
    ),
    "price": (
        RC.PRICE,
        {
            "what_happened": "The customer found the price higher than elsewhere.",
            "duration": "At the purchase",
            "noticed_by": "",
            "why": "Prices were not reviewed after the supplier's increase.",
            "customer_reaction": "Disappointed; said they would compare before buying again.",
            "change_after": "Prices checked against competitors every quarter.",
            "resolution": "Explained the price and added loyalty points.",
        },
    ),
    "selection": (
        RC.AVAILABILITY,
        {
            "what_happened": "The customer's size and colour were out of stock.",
            "duration": "Two weeks",
            "noticed_by": "Store staff",
            "why": "Reorder thresholds too low for the best-selling sizes.",
            "customer_reaction": "Asked to be told when it is back.",
            "change_after": "Reorder thresholds raised for the best-selling sizes.",
            "resolution": "Reserved the item at another store and shipped it free.",
        },
    ),
    "website": (
        RC.DIGITAL,
        {
            "what_happened": "Checkout stalled at the payment step; shipping costs appeared only there.",
            "duration": "One visit",
            "noticed_by": "Web team",
            "why": "Shipping costs are shown only at payment and the page times out on slow connections.",
            "customer_reaction": "Gave up on the order.",
            "change_after": "Shipping costs shown on the product page.",
            "resolution": "Helped the customer finish the order by phone.",
        },
    ),
    "staff": (
        RC.STAFF,
        {
            "what_happened": "A colleague was curt with the customer at the counter.",
            "duration": "A few minutes",
            "noticed_by": "Another colleague",
            "why": "New colleague, not yet trained on exchanges, under pressure.",
            "customer_reaction": "Felt unwelcome.",
            "change_after": "Exchange training for every new starter in the first week.",
            "resolution": "The store manager called to apologise.",
        },
    ),
    "product": (
        RC.PRODUCT,
        {
            "what_happened": "The stitching on a bag came loose after a month.",
            "duration": "One month of use",
            "noticed_by": "Quality team (three similar returns)",
            "why": "A batch from one workshop used the wrong thread.",
            "customer_reaction": "Disappointed in the quality for the price.",
            "change_after": "Batch recalled; thread checked at goods-in.",
            "resolution": "Replaced the bag.",
        },
    ),
    "premises": (
        RC.PREMISES,
        {
            "what_happened": "Fitting rooms untidy and one light broken.",
            "duration": "An afternoon",
            "noticed_by": "Store staff",
            "why": "No check of the fitting rooms on the afternoon shift.",
            "customer_reaction": "Did not try anything on.",
            "change_after": "Fitting rooms checked every hour.",
            "resolution": "Apologised; invited the customer back for a private fitting.",
        },
    ),
    "process": (
        RC.PROCESS,
        {
            "what_happened": "An exchange with a gift receipt was refused.",
            "duration": "At the counter",
            "noticed_by": "Store manager",
            "why": "The policy on gift receipts was unclear to the team.",
            "customer_reaction": "Upset: the gift was for a birthday.",
            "change_after": "Gift-receipt policy written down and shared with every store.",
            "resolution": "Exchange made and the customer told the policy.",
        },
    ),
}
OTHER_CAUSES = ["staff", "product", "premises", "process"]
NOTES = [
    "Called the customer, left a voicemail.",
    "Spoke to the store team about it this morning.",
    "Checked the order history: a regular customer.",
    "Asked finance to confirm the refund date.",
    "Waiting for the courier's answer.",
    "Customer called back; agreed on the fix.",
]
FALSE_POSITIVE = "Not a complaint: the customer praises the service; nothing to do."
NO_CONTACT_WORK = "Anonymous feedback: shared with the store team at the morning briefing."
NO_CONTACT_CLOSE = "Anonymous feedback and nothing more to learn: closed after the briefing."
NO_EMAIL_WORK = "No e-mail address: called the customer instead."
FIRST_REPLY = {
    "it": "Gentile {name}, grazie per averci scritto e ci scusiamo. Me ne occupo personalmente e la ricontatto entro domani.",
    "cy": "Annwyl {name}, diolch am eich adborth ac mae'n ddrwg gennym. Rwy'n edrych ar hyn fy hun a byddaf yn cysylltu erbyn yfory.",
    "ru": "Здравствуйте, {name}! Спасибо за отзыв, нам очень жаль. Я лично займусь этим и свяжусь с вами завтра.",
    "en": "Dear {name}, thank you for telling us, and we are sorry. I am looking into it myself and will be back to you by tomorrow.",
    "es": "Hola {name}, gracias por contárnoslo y lo sentimos. Me encargo personalmente y te escribo mañana como muy tarde.",
    "de": "Hallo {name}, danke für Ihre Rückmeldung, das tut uns leid. Ich kümmere mich persönlich darum und melde mich bis morgen.",
    "fr": "Bonjour {name}, merci de nous l'avoir signalé, nous en sommes désolés. Je m'en occupe personnellement et reviens vers vous demain.",
}
DONE_REPLY = {
    "it": "Gentile {name}, abbiamo risolto e cambiato il necessario perché non succeda più. Grazie per la pazienza.",
    "cy": "Annwyl {name}, rydym wedi datrys hyn ac wedi newid pethau fel na fydd yn digwydd eto. Diolch am eich amynedd.",
    "ru": "Здравствуйте, {name}! Мы всё исправили и изменили порядок работы, чтобы это не повторилось. Спасибо за терпение.",
    "en": "Dear {name}, we have sorted this out and changed how we work so it does not happen again. Thank you for your patience.",
    "es": "Hola {name}, lo hemos resuelto y hemos cambiado lo necesario para que no vuelva a pasar. Gracias por tu paciencia.",
    "de": "Hallo {name}, wir haben das gelöst und unsere Abläufe geändert, damit es nicht wieder vorkommt. Danke für Ihre Geduld.",
    "fr": "Bonjour {name}, c'est réglé et nous avons changé nos façons de faire pour que cela ne se reproduise pas. Merci de votre patience.",
}


@dataclass
class Item:
    """A response or feedback item that a rule matched, as the cases step sees it."""

    response_id: int | None
    feedback_id: int | None
    location_id: int
    touchpoint_id: int | None
    contact_id: int | None
    seen_at: datetime  # when the rule ran on it (completed or imported)
    happened_at: datetime
    text: str
    title: str
    score: int | None
    survey_kind: str | None  # nps, csat, ces; None for feedback
    topic: str | None  # from the comment, when there is one


@dataclass
class Step:
    """One moment of a case's planned life; `status` for a status change."""

    at: datetime
    kind: str
    actor: object = None
    body: str = ""
    data: dict = field(default_factory=dict)
    status: str | None = None
    message_id: str = ""
    outcome: tuple[int, bool] | None = None  # the re-survey's (score, recovered)


@dataclass
class Plan:
    case: Case
    sources: list[tuple[Item, CaseRule, datetime]]
    steps: list[Step]
    open_until: datetime | None = None  # when it left the open statuses (None: still open)
    invitation: Invitation | None = None


def closed_loop(world: World) -> int:
    """Rules, routing and SLA policies through the services; then the cases they opened."""
    rules = _configure(world)
    return CaseMaker(world, rules).run()


def _configure(world: World) -> list[CaseRule]:
    actor = actor_for(user=world.owner, brand_slug=world.brand.slug)
    now = world.calendar.end_utc
    rules = []
    for position, (name, trigger, threshold, keywords, priority, days) in enumerate(RULES):
        fields = {"keywords": keywords} if keywords else {}
        rule = cases.case_rule_create(
            actor=actor,
            name=name,
            trigger=trigger,
            threshold=threshold,
            priority=priority,
            position=position,
            **fields,
        )
        rule.created_at = now - timedelta(days=days)
        rule.save(update_fields=["created_at"])
        rules.append(rule)
    cx = world.users["cx_manager"]
    cardiff = next(p.location for p in world.places if p.code == effects.SLOW_STORE)
    # Refunds at Cardiff go to the CX manager (the store manager cannot authorise them);
    # anything about delivery anywhere goes to her too.
    for position, (location, topic) in enumerate([(cardiff, "refund"), (None, "delivery")]):
        route = cases.routing_rule_create(
            actor=actor, owner=cx, location=location, topic=topic, position=position
        )
        route.created_at = now - timedelta(days=90)
        route.save(update_fields=["created_at"])
    for priority, (acknowledge, resolve) in SLA.items():
        cases.sla_policy_set(
            actor=actor, priority=priority, acknowledge_hours=acknowledge, resolve_hours=resolve
        )
    return rules


class CaseMaker:
    def __init__(self, world: World, rules: list[CaseRule]):
        self.world = world
        self.rules = rules
        self.rng = world.config.rng("cases")
        self.now = world.calendar.end_utc
        self.since = min(rule.created_at for rule in rules)
        self.places = {p.location.pk: p for p in world.places}
        self.people = {p.contact.pk: p for p in world.people}
        self.kind_of_survey = {s.pk: kind for kind, s in world.surveys.items()}
        self.sla = {p: cases.sla_hours(world.brand.pk, p) for p in Priority.values}
        self.escalate_to = cases.brand_cx_manager(world.brand.pk)
        self.calendars: dict[int, BusinessCalendar | None] = {}
        self.owners: dict[tuple, object] = {}
        self.routes = list(world.brand.routing_rules.all())
        self.routes_by_touchpoint = any(route.touchpoint_id for route in self.routes)
        self.bad_side: dict[tuple[str, int], bool] = {}
        self.emails = self._emails()

    # --- what the rules saw -------------------------------------------------------------

    def _emails(self) -> dict[int, str]:
        """Each contact's primary e-mail address (as `contact_address` picks it)."""
        emails: dict[int, str] = {}
        rows = (
            Identity.objects.filter(brand=self.world.brand, kind=Identity.Kind.EMAIL)
            .order_by("contact_id", "-is_primary", "pk")
            .values_list("contact_id", "value")
        )
        for contact_id, value in rows:
            emails.setdefault(contact_id, value)
        return emails

    def _response_items(self) -> list[tuple[Item, CaseRule]]:
        brand = self.world.brand
        surveys = {s.pk: s for s in self.world.surveys.values()}
        rows = list(
            Response.objects.filter(brand=brand, is_partial=False, completed_at__gte=self.since)
            .order_by("completed_at", "pk")
            .values_list(
                "pk",
                "survey_id",
                "location_id",
                "touchpoint_id",
                "contact_id",
                "score",
                "comment",
                "created_at",
                "completed_at",
            )
        )
        # The score each known customer gave last time, per survey (for "score dropped").
        recent = {row[0] for row in rows}
        previous: dict[int, int] = {}
        last: dict[tuple[int, int], int] = {}
        history = (
            Response.objects.filter(
                brand=brand, is_partial=False, contact__isnull=False, score__isnull=False
            )
            .order_by("created_at", "pk")
            .values_list("pk", "survey_id", "contact_id", "score")
        )
        for pk, survey_id, contact_id, score in history:
            key = (survey_id, contact_id)
            if pk in recent and key in last:
                previous[pk] = last[key]
            last[key] = score
        matched = []
        for pk, survey_id, location_id, touchpoint_id, contact_id, score, comment, at, done in rows:
            kind = self.kind_of_survey[survey_id]
            if kind != "nps" and score is not None and (kind, score) not in self.bad_side:
                headline = self.world.questions[kind][0]
                self.bad_side[kind, score] = cases._bad_side(headline, score)
            bad = self.bad_side.get((kind, score), False)
            rule = None
            for candidate in self.rules:
                if candidate.created_at > done:
                    continue
                if _response_matches(candidate, kind, bad, score, comment, previous.get(pk)):
                    rule = candidate
                    break
            if rule is None:
                continue
            location = self.places[location_id].location
            item = Item(
                response_id=pk,
                feedback_id=None,
                location_id=location_id,
                touchpoint_id=touchpoint_id,
                contact_id=contact_id,
                seen_at=done,
                happened_at=at,
                text=comment,
                title=f"{surveys[survey_id].name}: {score} at {location.name}"[:200],
                score=score,
                survey_kind=kind,
                topic=TOPIC_OF.get(comment),
            )
            matched.append((item, rule))
        return matched

    def _feedback_items(self) -> list[tuple[Item, CaseRule]]:
        rows = (
            FeedbackItem.objects.filter(
                brand=self.world.brand, location__isnull=False, received_at__gte=self.since
            )
            .order_by("received_at", "pk")
            .values_list(
                "pk",
                "kind",
                "location_id",
                "touchpoint_id",
                "contact_id",
                "rating",
                "rating_scale",
                "title",
                "text",
                "author",
                "occurred_at",
                "received_at",
            )
        )
        labels = dict(FeedbackItem.Kind.choices)
        matched = []
        for (
            pk,
            kind,
            location_id,
            touchpoint_id,
            contact_id,
            rating,
            scale,
            title,
            text,
            *rest,
        ) in rows:
            author, occurred_at, received_at = rest
            rule = None
            for candidate in self.rules:
                if candidate.created_at > received_at:
                    continue
                if _feedback_matches(candidate, kind, rating, scale, f"{title}\n{text}"):
                    rule = candidate
                    break
            if rule is None:
                continue
            location = self.places[location_id].location
            stars = f" {float(rating):g}/{scale or 5}" if rating is not None else ""
            # A mention is a comment and a hashtag.
            comment = text.rsplit(" ", 1)[0] if kind == FeedbackItem.Kind.MENTION else text
            item = Item(
                response_id=None,
                feedback_id=pk,
                location_id=location_id,
                touchpoint_id=touchpoint_id,
                contact_id=contact_id,
                seen_at=received_at,
                happened_at=occurred_at,
                text=f"{title}\n{text}",
                title=f"{labels[kind]}{stars} from {author or 'a customer'} at {location.name}"[
                    :200
                ],
                score=None,
                survey_kind=None,
                topic=TOPIC_OF.get(comment),
            )
            matched.append((item, rule))
        return matched

    # --- opening and joining ------------------------------------------------------------

    def run(self) -> int:
        matched = self._response_items() + self._feedback_items()
        matched.sort(key=lambda pair: (pair[0].seen_at, pair[0].feedback_id is not None))
        plans: list[Plan] = []
        latest: dict[int, Plan] = {}  # contact id -> their latest case
        rng = self.rng
        for item, rule in matched:
            lag = timedelta(seconds=rng.uniform(5, 180 if item.response_id else 900))
            at = item.seen_at + lag
            if at >= self.now:
                continue  # the job had not run yet
            plan = latest.get(item.contact_id) if item.contact_id else None
            if plan is not None and (plan.open_until is None or at < plan.open_until):
                self._join(plan, item, rule, at)
                continue
            plan = self._open(item, rule, at)
            plans.append(plan)
            if item.contact_id:
                latest[item.contact_id] = plan
        return self._save(plans)

    def _join(self, plan: Plan, item: Item, rule: CaseRule, at: datetime) -> None:
        plan.sources.append((item, rule, at))
        what = (
            f"response #{item.response_id}" if item.response_id else f"feedback #{item.feedback_id}"
        )
        plan.steps.append(
            Step(at, E.JOINED, body=f"Repeat complaint joined: {what}", data={"rule": rule.name})
        )
        case = plan.case
        if cases.PRIORITY_RANK[rule.priority] > cases.PRIORITY_RANK[case.priority]:
            case.priority = rule.priority
        case.updated_at = max(case.updated_at, at)

    def _owner(self, item: Item):
        """`default_owner`, asked once per location, touchpoint and matching routing topics."""
        topics = tuple(
            bool(route.topic and cases.keyword_found(item.text, [route.topic]))
            for route in self.routes
        )
        touchpoint = item.touchpoint_id if self.routes_by_touchpoint else None
        key = (item.location_id, touchpoint, topics)
        if key not in self.owners:
            self.owners[key] = cases.default_owner(
                location=self.places[item.location_id].location,
                touchpoint_id=item.touchpoint_id,
                text=item.text,
            )
        return self.owners[key]

    def _deadline(self, location_id: int, start: datetime, hours: float) -> datetime:
        """`business_deadline` for the location, with its calendar built once."""
        location = self.places[location_id].location
        if location_id not in self.calendars:
            try:
                calendar = business_calendar(location.timezone, location.opening_hours)
            except ValueError:
                calendar = None
            self.calendars[location_id] = calendar
        calendar = self.calendars[location_id]
        try:
            if calendar is not None:
                return calendar.deadline(start, hours * 3600)
        except ValueError:
            pass
        return BusinessCalendar.always(location.timezone or "UTC").deadline(start, hours * 3600)

    def _open(self, item: Item, rule: CaseRule, at: datetime) -> Plan:
        acknowledge, resolve = self.sla[rule.priority]
        owner = self._owner(item)
        case = Case(
            brand=self.world.brand,
            location_id=item.location_id,
            touchpoint_id=item.touchpoint_id,
            contact_id=item.contact_id,
            rule=rule,
            title=item.title,
            priority=rule.priority,
            owner=owner,
            trigger_score=item.score,
            survey=self.world.surveys[item.survey_kind] if item.survey_kind else None,
            opened_at=at,
            acknowledge_due_at=self._deadline(item.location_id, at, acknowledge),
            due_at=self._deadline(item.location_id, at, resolve),
            updated_at=at,
        )
        opened = Step(
            at,
            E.OPENED,
            body=f"Opened by the rule “{rule.name}”",
            data={"rule": rule.name, "owner": owner.email if owner else None},
        )
        plan = Plan(case=case, sources=[(item, rule, at)], steps=[opened])
        self._live(plan, item)
        self._cut(plan)
        return plan

    # --- a case's life ------------------------------------------------------------------

    def _live(self, plan: Plan, item: Item) -> None:
        """Plan the case's whole life from its opening, as if no "now" stopped it."""
        rng, case, steps = self.rng, plan.case, plan.steps
        owner, loc = case.owner, item.location_id
        acknowledge, resolve = self.sla[case.priority]
        person = self.people.get(item.contact_id) if item.contact_id else None
        email = self.emails.get(item.contact_id, "") if person else ""

        def status(at, before, after, body=""):
            steps.append(
                Step(at, E.STATUS, owner, body, {"before": before, "after": after}, status=after)
            )

        def reply(at, template):
            language = person.language if person.language in template else "en"
            steps.append(
                Step(
                    at,
                    E.REPLY,
                    owner,
                    template[language].format(name=person.first_name),
                    {"to": email, "subject": f"About your feedback: {case.title}"},
                    message_id=f"<{rng.getrandbits(64):016x}.demo@opencx.local>",
                )
            )

        late_ack = rng.random() < LATE_ACK
        acked = self._deadline(
            loc,
            case.opened_at,
            acknowledge * (rng.uniform(1.1, 3) if late_ack else rng.uniform(0.05, 0.9)),
        )
        if item.topic in HAPPY_TOPICS:  # a keyword in praise: the owner closes it unread
            status(acked, S.NEW, S.CLOSED, FALSE_POSITIVE)
            return

        stuck = rng.random() < STUCK
        late = not stuck and rng.random() < LATE_RESOLVE
        if person is not None and email and rng.random() >= ACK_THEN_WORK:
            working = acked
            reply(working, FIRST_REPLY)
            status(working, S.NEW, S.IN_PROGRESS)
        else:
            status(acked, S.NEW, S.ACKNOWLEDGED)
            wait = rng.uniform(8, 60) if stuck else rng.uniform(0.3, 12)
            working = self._deadline(loc, acked, wait)
            if person is None and rng.random() < 0.35:
                self._root_cause(plan, item, working, owner)
                status(working + timedelta(minutes=2), S.ACKNOWLEDGED, S.CLOSED, NO_CONTACT_CLOSE)
                return
            if email:
                reply(working, FIRST_REPLY)
                status(working, S.ACKNOWLEDGED, S.IN_PROGRESS)
            else:
                note = NO_EMAIL_WORK if person is not None else NO_CONTACT_WORK
                status(working, S.ACKNOWLEDGED, S.IN_PROGRESS, note)

        share = (
            rng.uniform(3, 12)
            if stuck
            else rng.uniform(1.05, 2.5)
            if late
            else rng.uniform(0.3, 0.95)
        )
        resolved = max(
            self._deadline(loc, case.opened_at, resolve * share),
            self._deadline(loc, working, rng.uniform(0.5, 3)),
        )
        if rng.random() < NOTE_SHARE:
            noted = working + (resolved - working) * rng.uniform(0.2, 0.8)
            steps.append(Step(noted, E.NOTE, owner, rng.choice(NOTES)))
        resolution = self._root_cause(plan, item, resolved, owner)
        if email:
            reply(resolved + timedelta(minutes=1), DONE_REPLY)
        resolved += timedelta(minutes=2)
        status(resolved, S.IN_PROGRESS, S.RESOLVED, resolution)
        case_closed = resolved
        if person is not None:
            answered = self._resurvey(plan, person, email, resolved)
            if answered is not None:
                case_closed = answered
        closed = case_closed + timedelta(days=rng.uniform(1, 8))
        status(closed, S.RESOLVED, S.CLOSED)

    def _root_cause(self, plan: Plan, item: Item, at: datetime, owner) -> str:
        rng = self.rng
        topic = item.topic
        if topic is None:  # no comment: what the owner found out when calling
            place = self.places[item.location_id]
            days = (self.now.date() - item.happened_at.date()).days
            topic = effects.draw_topic(
                rng,
                kind=item.survey_kind or "nps",
                mood="neutral" if (item.score or 0) >= 7 and item.survey_kind == "nps" else "bad",
                online=place.online,
                penalty=effects.slow_penalty(place.code, days),
            )
        if topic not in CAUSES or rng.random() < OTHER_CAUSE:
            topic = rng.choice(OTHER_CAUSES)
        category, texts = CAUSES[topic]
        case = plan.case
        fields = {name: value for name, value in texts.items() if name != "resolution"}
        for name, value in fields.items():
            setattr(case, name, value)
        case.happened_at = item.happened_at
        case.root_cause = category
        plan.steps.append(
            Step(
                at,
                E.ROOT_CAUSE,
                owner,
                data={"fields": sorted([*fields, "happened_at", "root_cause"])},
            )
        )
        case.resolution = texts["resolution"]
        return texts["resolution"]

    def _resurvey(self, plan: Plan, person, email: str, resolved: datetime) -> datetime | None:
        """The re-survey after resolution (`case_resurvey_send`) and, for some, the answer."""
        rng, case = self.rng, plan.case
        survey = case.survey or self.world.surveys["nps"]
        sent = resolved + timedelta(minutes=rng.uniform(1, 10))
        reason = ""
        if not email:
            reason = "no address for this channel"
        elif not person.contact.consent_email:
            reason = "no consent for this channel"
        invitation = Invitation(
            brand=self.world.brand,
            survey=survey,
            contact_id=person.contact.pk,
            location_id=case.location_id,
            via=Invitation.Via.EMAIL,
            address=email,
            language=person.language
            if person.language in survey.all_languages
            else survey.default_language,
            nonce=f"{rng.getrandbits(128):032x}",
            status=Invitation.Status.SKIPPED if reason else Invitation.Status.SENT,
            skip_reason=reason,
            created_at=sent,
            sent_at=None if reason else sent,
        )
        plan.invitation = invitation
        body = (
            f"No re-survey sent: {reason}"
            if reason
            else f"Re-survey “{survey.name}” sent to {email}"
        )
        plan.steps.append(Step(sent, E.RESURVEY, body=body))
        if reason or rng.random() >= ANSWERED_RESURVEY:
            return None
        answered = sent + timedelta(hours=rng.uniform(2, 120))
        headline = self.world.questions[survey.kind][0]
        won = rng.random() < RECOVERED
        if survey.kind == "nps":
            score = rng.randint(7, 10) if won else rng.randint(0, 6)
            recovered = score >= cases.NPS_RECOVERED_MIN
        else:
            low, high = headline.scale_min, headline.scale_max
            bad = [s for s in range(low, high + 1) if cases._bad_side(headline, s)]
            fine = [s for s in range(low, high + 1) if s not in bad]
            score = rng.choice(fine if won else bad)
            recovered = not cases._bad_side(headline, score)
        plan.steps.append(
            Step(
                answered,
                E.OUTCOME,
                body=f"Re-survey answered: {score}"
                + (" — customer won back" if recovered else " — not won back"),
                data={"score": score, "recovered": recovered},
                outcome=(score, recovered),
            )
        )
        return answered

    # --- cut at "now" ---------------------------------------------------------------------

    def _cut(self, plan: Plan) -> None:
        """Keep what happened before now; stamp the case from it; escalate if overdue."""
        now, case = self.now, plan.case
        kept = sorted((s for s in plan.steps if s.at < now), key=lambda s: s.at)
        root_cause_kept = any(s.kind == E.ROOT_CAUSE for s in kept)
        if not root_cause_kept:
            for name in cases.ROOT_CAUSE_FIELDS:
                setattr(case, name, None if name == "happened_at" else "")
        resolution_kept = any(s.status == S.RESOLVED for s in kept)
        if not resolution_kept:
            case.resolution = ""
        for step in kept:
            if step.status is None:
                continue
            case.status = step.status  # as `case_transition` stamps it
            setattr(case, cases.STAMPS[step.status], step.at)
            if case.acknowledged_at is None:
                case.acknowledged_at = step.at
            if plan.open_until is None and step.status in (S.RESOLVED, S.CLOSED):
                plan.open_until = step.at
        invitation = plan.invitation
        if invitation is not None and not any(s.kind == E.RESURVEY for s in kept):
            plan.invitation = invitation = None
        for step in kept:
            if step.outcome is not None:
                case.resurvey_score, case.recovered = step.outcome
                invitation.status = Invitation.Status.RESPONDED
                invitation.responded_at = step.at
        # The escalation job ran every five minutes while the case was open past its due date.
        left = plan.open_until or now
        if case.due_at < left:
            tick = math.ceil(case.due_at.timestamp() / ESCALATION_TICK) * ESCALATION_TICK
            escalated = datetime.fromtimestamp(tick, tz=UTC)
            if escalated < left:
                manager = self.escalate_to
                late = (escalated - case.due_at).total_seconds() / 3600
                span = f"{late:.0f} h" if late < 48 else f"{late / 24:.0f} days"
                case.escalated_at, case.escalated_to = escalated, manager
                kept.append(
                    Step(
                        escalated,
                        E.ESCALATED,
                        body=f"Overdue by {span}; escalated to "
                        + (manager.email if manager else "nobody (the brand has no CX manager)"),
                        data={"to": manager.email if manager else None},
                    )
                )
                kept.sort(key=lambda s: s.at)
        plan.steps = kept
        case.updated_at = max(case.updated_at, kept[-1].at)

    # --- writing ----------------------------------------------------------------------------

    def _save(self, plans: list[Plan]) -> int:
        invitations = [p.invitation for p in plans if p.invitation is not None]
        Invitation.objects.bulk_create(invitations, batch_size=BATCH)
        for plan in plans:
            if plan.invitation is not None:
                plan.case.resurvey_invitation_id = plan.invitation.pk
                for step in plan.steps:
                    if step.kind == E.RESURVEY:
                        step.data = {"invitation": plan.invitation.pk}
        Case.objects.bulk_create([p.case for p in plans], batch_size=BATCH)
        CaseSource.objects.bulk_create(
            [
                CaseSource(
                    case_id=plan.case.pk,
                    response_id=item.response_id,
                    feedback_id=item.feedback_id,
                    rule=rule,
                    added_at=at,
                )
                for plan in plans
                for item, rule, at in plan.sources
            ],
            batch_size=BATCH,
        )
        events = []
        for plan in plans:
            for step in plan.steps:
                events.append(
                    CaseEvent(
                        case_id=plan.case.pk,
                        kind=step.kind,
                        actor=step.actor,
                        body=step.body,
                        data=step.data,
                        message_id=step.message_id,
                        delivery="sent" if step.kind == E.REPLY else "",
                        at=step.at,
                    )
                )
        CaseEvent.objects.bulk_create(events, batch_size=BATCH)
        return len(plans)


def _response_matches(rule, kind, bad_side, score, comment, previous) -> bool:
    """`rule_matches_response` for a demo response (its only answers: the headline and the
    comment), without a query per response."""
    threshold = rule.threshold
    if threshold is None:
        threshold = cases.DEFAULT_THRESHOLDS.get(rule.trigger)
    if rule.trigger == T.NPS_AT_MOST:
        return kind == "nps" and score is not None and score <= threshold
    if rule.trigger == T.BAD_SIDE:
        return kind in ("csat", "ces") and bad_side
    if rule.trigger == T.KEYWORD:
        return bool(comment) and bool(cases.keyword_found(comment, rule.keywords))
    if rule.trigger == T.RATING_DROP:
        return previous is not None and score is not None and previous - score >= threshold
    return False


def _feedback_matches(rule, kind, rating, scale, text) -> bool:
    """`rule_matches_feedback` for a demo review or mention."""
    threshold = rule.threshold
    if threshold is None:
        threshold = cases.DEFAULT_THRESHOLDS.get(rule.trigger)
    if rule.trigger == T.KEYWORD:
        return bool(cases.keyword_found(text, rule.keywords))
    if rule.trigger == T.LOW_RATING:
        return rating is not None and float(rating) / (scale or 5) * 5 <= threshold
    return False
