"""Daily and weekly digests: one e-mail per member and brand, about what that member may see.

A member's digest frequency is their notification preference (`integrations`: off, daily or
weekly; weekly by default). The digest reads what an `Actor` of the member's membership reads,
so a location manager hears about their locations and a CX manager about the whole brand.

Periods are whole days in the brand's time zone: daily is the previous day, weekly the
previous Monday to Sunday. A period's digest is due from 07:00 (brand time) on the day after it
(the Monday, for weekly) until the next period's is; `opencx send_digests` can run as often as
you like (the worker runs it hourly). Each digest is claimed by a `DigestSent` row before it is
sent, so it goes out once; a failed send withdraws the claim and the next run retries. A
period with no activity in the member's reach sends nothing.

Scores come from the rollups through the same selectors and facade as the Overview, each with
its n and 95% interval; the change against the period before says "not significant" when the
test says so.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from opencx.analytics.result import Score
from opencx.cases.models import Case, CaseEvent
from opencx.cases.selectors import cases_visible_to
from opencx.integrations.selectors import digest_recipients
from opencx.offers import selectors as offer_selectors
from opencx.offers.models import Segment
from opencx.platform.actor import Actor
from opencx.platform.models import Brand, Location, Membership, User
from opencx.platform.roles import Capability
from opencx.surveys.flows import public_url
from opencx.surveys.selectors import responses_visible_to

from . import facade, selectors
from .models import DigestSent

logger = logging.getLogger(__name__)

FREQUENCIES = (DigestSent.Frequency.DAILY, DigestSent.Frequency.WEEKLY)
SEND_FROM = time(7)  # local time of the brand on the day after the period
LISTED_CASES = 10  # new and overdue cases listed by name; the rest are counted
TOP_COMMENTS = 3
COMMENT_CHARS = 300
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)


# --- the period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days [start, end] in the brand's time zone, and when their digest is due."""

    frequency: str
    start: date
    end: date  # the last day, included
    tz: str

    @property
    def until(self) -> date:
        """The first day after the period (the selectors' exclusive bound)."""
        return self.end + timedelta(days=1)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.tz))

    @property
    def ends_at(self) -> datetime:
        """Midnight after the last day (exclusive)."""
        return datetime.combine(self.until, time.min, tzinfo=ZoneInfo(self.tz))

    @property
    def due_at(self) -> datetime:
        return datetime.combine(self.until, SEND_FROM, tzinfo=ZoneInfo(self.tz))

    @property
    def days(self) -> int:
        return (self.until - self.start).days

    def before(self) -> "Period":
        """The period of the same length just before this one."""
        length = timedelta(days=self.days)
        return Period(self.frequency, self.start - length, self.end - length, self.tz)

    @property
    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%a} {self.start.day} {self.start:%b %Y}"
        if self.start.year != self.end.year:
            return f"{self.start.day} {self.start:%b %Y} – {self.end.day} {self.end:%b %Y}"
        if self.start.month != self.end.month:
            return f"{self.start.day} {self.start:%b} – {self.end.day} {self.end:%b %Y}"
        return f"{self.start.day}–{self.end.day} {self.end:%b %Y}"


def digest_period(*, brand: Brand, frequency: str, now: datetime) -> Period:
    """The latest finished period of `frequency` at `now` in the brand's time zone (yesterday,
    or last Monday to Sunday). Its digest is due when `now >= period.due_at`."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"Unknown digest frequency {frequency!r}.")
    today = now.astimezone(ZoneInfo(brand.timezone)).date()
    if frequency == DigestSent.Frequency.DAILY:
        start = end = today - timedelta(days=1)
    else:
        start = selectors.week_of(today) - timedelta(days=7)
        end = start + timedelta(days=6)
    return Period(frequency, start, end, brand.timezone)


# --- what a digest says -----------------------------------------------------------------------


def score_text(score: Score | None, *, unit: str = "") -> str:
    """ "40 (n=52, 95% interval 18 to 59)", or "no answers"."""
    if score is None or score.value is None:
        return "no answers"
    text = f"{score.value:.0f}{unit} (n={score.n}"
    if score.ci_low is not None and score.ci_high is not None:
        text += f", 95% interval {score.ci_low:.0f}{unit} to {score.ci_high:.0f}{unit}"
    return text + (", thin sample)" if score.is_thin else ")")


@dataclass(frozen=True)
class LocationLine:
    name: str
    nps: Score
    csat: Score | None  # None: the brand has no CSAT survey

    @property
    def is_thin(self) -> bool:
        """Fewer than 30 answers behind its scores (the numbers say little)."""
        return self.nps.is_thin and (self.csat is None or self.csat.is_thin)

    @property
    def nps_text(self) -> str:
        return score_text(self.nps)

    @property
    def csat_text(self) -> str:
        return score_text(self.csat, unit="%")


@dataclass(frozen=True)
class CaseLine:
    pk: int
    title: str
    location: str
    priority: str
    opened_at: datetime
    due_at: datetime | None
    url: str


@dataclass(frozen=True)
class CommentLine:
    score: int
    comment: str
    location: str
    created_at: datetime


@dataclass(frozen=True)
class PlaybookLine:
    """The playbooks of one NPS segment that ran on the period's responses."""

    segment: str
    runs: int
    sent: int
    handed: int
    skipped: int
    failed: int
    clicked: int
    completed: int
    coupons_redeemed: int


@dataclass(frozen=True)
class Digest:
    brand: Brand
    user: User
    scope: str  # "the whole brand" or the location the membership covers
    period: Period
    previous: Period
    nps: Score
    nps_previous: Score
    nps_change: facade.Change | None  # None: a period without NPS answers
    csat: Score | None  # None: the brand has no CSAT survey
    csat_previous: Score | None
    locations: list[LocationLine]
    quiet_locations: int  # stores in reach without a scored answer in the period
    responses: int
    new_case_count: int
    new_cases: list[CaseLine]
    open_count: int
    overdue_count: int
    overdue_cases: list[CaseLine]
    resolved: int
    resurveys_answered: int
    won_back: int
    comments: list[CommentLine]
    playbooks: list[PlaybookLine] = field(default_factory=list)
    overview_url: str = ""
    cases_url: str = ""
    overdue_url: str = ""
    settings_url: str = ""

    @property
    def has_activity(self) -> bool:
        """Anything happened in the period (open cases from before do not count)."""
        return bool(
            self.responses
            or self.nps.n
            or (self.csat is not None and self.csat.n)
            or self.new_case_count
            or self.resolved
            or self.resurveys_answered
            or self.playbooks
        )

    @property
    def frequency_label(self) -> str:
        return "daily" if self.period.frequency == DigestSent.Frequency.DAILY else "weekly"

    @property
    def previous_label(self) -> str:
        return "the day before" if self.period.days == 1 else "the week before"

    @property
    def nps_text(self) -> str:
        return score_text(self.nps)

    @property
    def nps_previous_text(self) -> str:
        return score_text(self.nps_previous)

    @property
    def csat_text(self) -> str:
        return score_text(self.csat, unit="%")

    @property
    def csat_previous_text(self) -> str:
        return score_text(self.csat_previous, unit="%")

    @property
    def change_text(self) -> str:
        """The NPS change against the period before, with its interval and the verdict."""
        change = self.nps_change
        if change is None:
            return f"No change to report: {self.previous_label} or this period has no answers."
        return (
            f"{change.difference:+.1f} points vs {self.previous_label} "
            f"(95% interval {change.ci_low:+.1f} to {change.ci_high:+.1f}, "
            f"p = {change.p_value:.3f}): {change.verdict}"
        )

    @property
    def more_new_cases(self) -> int:
        return self.new_case_count - len(self.new_cases)

    @property
    def more_overdue_cases(self) -> int:
        return self.overdue_count - len(self.overdue_cases)

    @property
    def subject(self) -> str:
        kind = "Daily" if self.period.frequency == DigestSent.Frequency.DAILY else "Weekly"
        score = (
            f"NPS {self.nps.value:.0f} (n={self.nps.n})"
            if self.nps.value is not None
            else _count(self.responses, "response")
        )
        return f"[{self.brand.name}] {kind} digest, {self.period.label}: {score}"

    @property
    def summary(self) -> str:
        """One line for the command's output."""
        parts = [
            f"NPS {self.nps.value:.0f} (n={self.nps.n})"
            if self.nps.value is not None
            else "no NPS answers",
            _count(self.responses, "response"),
            _count(self.new_case_count, "new case"),
            f"{self.open_count} open ({self.overdue_count} overdue)",
        ]
        return ", ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _brand_url(name: str, brand: Brand, *args, query: str = "") -> str:
    return public_url(reverse(name, args=[brand.slug, *args])) + (f"?{query}" if query else "")


def _case_line(case: Case) -> CaseLine:
    return CaseLine(
        pk=case.pk,
        title=case.title,
        location=case.location.name,
        priority=case.get_priority_display(),
        opened_at=case.opened_at,
        due_at=case.due_at,
        url=_brand_url("cases:detail", case.brand, case.pk),
    )


def _score_or_none(kind: str, tally: selectors.HeadlineTally | None, wanted: bool):
    if not wanted:
        return None
    return facade.headline_score(kind, tally or selectors.HeadlineTally())


def digest_build(actor: Actor, *, period: Period, now: datetime | None = None) -> Digest:
    """What `actor` may see of `period`: scores from the rollups (NPS, and CSAT if the brand
    has CSAT surveys) overall and per location in reach, responses, cases, the three harshest
    detractor comments and playbook outcomes. Open and overdue cases are as of `now`."""
    now = now or timezone.now()
    brand = actor.brand
    previous = period.before()
    since, until = period.starts_at, period.ends_at

    # Scores: the Overview's selectors and facade, over whole local days.
    counts = selectors.nps_counts(actor, location=None, since=period.start, until=period.until)
    counts_before = selectors.nps_counts(
        actor, location=None, since=previous.start, until=previous.until
    )
    has_csat = bool(selectors.headline_question_ids(actor, kind="csat"))
    tallies = selectors.headline_tallies(
        actor, location=None, since=period.start, until=period.until, by="location"
    )
    csat_total = sum(tallies["csat"].values(), selectors.HeadlineTally())
    csat_before = None
    if has_csat:
        before = selectors.headline_tallies(
            actor, location=None, since=previous.start, until=previous.until, by="location"
        )
        csat_before = sum(before["csat"].values(), selectors.HeadlineTally())
    reach = selectors.report_locations(actor, location=None)
    answered = set(tallies["nps"]) | (set(tallies["csat"]) if has_csat else set())
    lines = [
        LocationLine(
            name=location.name,
            nps=facade.nps_score(tallies["nps"].get(location.pk, selectors.HeadlineTally()).nps),
            csat=_score_or_none("csat", tallies["csat"].get(location.pk), has_csat),
        )
        for location in reach
        if location.pk in answered
    ]
    quiet = sum(
        1
        for location in reach
        if location.pk not in answered
        and location.is_active
        and location.kind != Location.Kind.REGION
    )

    responses = (
        responses_visible_to(actor)
        .filter(is_partial=False, created_at__gte=since, created_at__lt=until)
        .count()
    )

    cases = cases_visible_to(actor).select_related("location", "brand")
    opened = cases.filter(opened_at__gte=since, opened_at__lt=until).order_by("-opened_at", "-pk")
    open_cases = cases.filter(status__in=Case.OPEN_STATUSES)
    overdue = open_cases.filter(due_at__lt=now).order_by("due_at", "pk")
    resolved = cases.filter(resolved_at__gte=since, resolved_at__lt=until).count()
    answered_in_period = CaseEvent.objects.filter(
        kind=CaseEvent.Kind.OUTCOME, at__gte=since, at__lt=until
    ).values("case_id")
    resurveys = cases.filter(pk__in=answered_in_period).aggregate(
        answered=Count("pk"), won=Count("pk", filter=Q(recovered=True))
    )

    comments = [
        CommentLine(
            score=response.score,
            comment=" ".join(response.comment.split())[:COMMENT_CHARS],
            location=response.location.name,
            created_at=response.created_at,
        )
        for response in selectors.report_responses(
            actor, location=None, kind="nps", band="detractor", since=since, until=until
        )
        .exclude(comment="")
        .order_by("score", "-created_at", "-pk")[:TOP_COMMENTS]
    ]
    segments = dict(Segment.choices)
    playbooks = [
        PlaybookLine(
            segment=segments.get(outcome.segment, outcome.segment),
            runs=outcome.runs,
            sent=outcome.sent,
            handed=outcome.handed,
            skipped=outcome.skipped,
            failed=outcome.failed,
            clicked=outcome.clicked,
            completed=outcome.completed,
            coupons_redeemed=outcome.coupons_redeemed,
        )
        for outcome in offer_selectors.outcome_totals(
            offer_selectors.playbook_outcomes(actor, since=since, until=until)
        )
        if outcome.runs
    ]
    return Digest(
        brand=brand,
        user=actor.user,
        scope=actor.scope.name if actor.scope is not None else "the whole brand",
        period=period,
        previous=previous,
        nps=facade.nps_score(counts),
        nps_previous=facade.nps_score(counts_before),
        nps_change=facade.nps_change(counts, counts_before),
        csat=_score_or_none("csat", csat_total, has_csat),
        csat_previous=_score_or_none("csat", csat_before, has_csat),
        locations=lines,
        quiet_locations=quiet,
        responses=responses,
        new_case_count=opened.count(),
        new_cases=[_case_line(case) for case in opened[:LISTED_CASES]],
        open_count=open_cases.count(),
        overdue_count=overdue.count(),
        overdue_cases=[_case_line(case) for case in overdue[:LISTED_CASES]],
        resolved=resolved,
        resurveys_answered=resurveys["answered"],
        won_back=resurveys["won"],
        comments=comments,
        playbooks=playbooks,
        overview_url=_brand_url("insights:overview", brand),
        cases_url=_brand_url("cases:list", brand, query="status=open"),
        overdue_url=_brand_url("cases:list", brand, query="status=open&overdue=1"),
        settings_url=_brand_url("integrations:notifications", brand),
    )


def digest_email(digest: Digest) -> EmailMultiAlternatives:
    """The digest as a multipart text + HTML message to its member."""
    context = {"digest": digest, "brand": digest.brand, "person": digest.user}
    with timezone.override(ZoneInfo(digest.period.tz)):  # times as the brand reads them
        text = render_to_string("insights/email/digest.txt", context)
        html = render_to_string("insights/email/digest.html", context)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    message = EmailMultiAlternatives(
        subject=" ".join(digest.subject.split())[:250],
        body=text,
        from_email=formataddr((digest.brand.name, sender)),
        to=[digest.user.email],
        headers={"Auto-Submitted": "auto-generated", "X-OpenCX-Digest": digest.period.frequency},
    )
    message.attach_alternative(html, "text/html")
    return message


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestOutcome:
    """What happened (or, in a dry run, would happen) to one member's digest."""

    brand: str
    frequency: str
    email: str
    period: Period
    status: str  # sent, would_send, empty, already_sent, not_due, failed
    detail: str = ""

    def describe(self) -> str:
        what = {
            "sent": "sent",
            "would_send": "would send",
            "empty": "no activity, not sent",
            "already_sent": "already sent",
            "not_due": f"not due before {self.period.due_at:%Y-%m-%d %H:%M %Z}",
            "failed": "sending failed, will retry",
        }[self.status]
        line = (
            f"{self.brand} {self.frequency} {self.period.start}..{self.period.end} "
            f"{self.email}: {what}"
        )
        return f"{line} — {self.detail}" if self.detail else line


def _deliver(*, user: User, brand: Brand, period: Period, digest: Digest) -> str:
    """Claim the digest, then send it: "sent", "already_sent" (someone else claimed it) or
    "failed" (the claim is withdrawn, so the next run retries).

    The claim commits before the mail server is contacted: a slow server must not hold a write
    transaction open (on SQLite that would stall every other write, survey answers included)."""
    try:
        with transaction.atomic():
            claim = DigestSent.objects.create(
                user=user, brand=brand, frequency=period.frequency, period_start=period.start
            )
    except IntegrityError:
        return "already_sent"
    try:
        digest_email(digest).send(fail_silently=False)
    except DELIVERY_ERRORS as error:
        DigestSent.objects.filter(pk=claim.pk).delete()
        logger.warning(
            "%s digest of %s to %s failed: %s", period.frequency, brand.slug, user.email, error
        )
        return "failed"
    except Exception:
        DigestSent.objects.filter(pk=claim.pk).delete()
        raise
    return "sent"


def _record_empty(*, user: User, brand: Brand, period: Period) -> None:
    try:
        with transaction.atomic():
            DigestSent.objects.create(
                user=user,
                brand=brand,
                frequency=period.frequency,
                period_start=period.start,
                empty=True,
            )
    except IntegrityError:
        pass


def _member_digest(
    *, membership: Membership, period: Period, now: datetime, claimed: bool, dry_run: bool
) -> DigestOutcome | None:
    user, brand = membership.user, membership.brand

    def outcome(status: str, detail: str = "") -> DigestOutcome:
        return DigestOutcome(brand.slug, period.frequency, user.email, period, status, detail)

    if now < period.due_at:
        return outcome("not_due")
    if claimed:
        return outcome("already_sent")
    actor = Actor(user=user, brand=brand, membership=membership)
    if not actor.can(Capability.VIEW):
        return None
    digest = digest_build(actor, period=period, now=now)
    if not digest.has_activity:
        if not dry_run:
            _record_empty(user=user, brand=brand, period=period)
        return outcome("empty")
    if dry_run:
        return outcome("would_send", digest.summary)
    status = _deliver(user=user, brand=brand, period=period, digest=digest)
    return outcome(status, digest.summary if status == "sent" else "")


def digests_send(
    *,
    now: datetime | None = None,
    brands: list[Brand] | None = None,
    frequencies: tuple[str, ...] = FREQUENCIES,
    dry_run: bool = False,
) -> list[DigestOutcome]:
    """Send every digest that is due at `now` and not yet sent (a dry run builds them and
    writes nothing). Safe to run at any time and from several workers at once."""
    now = now or timezone.now()
    brands = list(Brand.objects.order_by("slug")) if brands is None else brands
    outcomes: list[DigestOutcome] = []
    for brand in brands:
        for frequency in frequencies:
            period = digest_period(brand=brand, frequency=frequency, now=now)
            recipients = digest_recipients(brand=brand, frequency=frequency)
            claimed = set(
                DigestSent.objects.filter(
                    brand=brand, frequency=frequency, period_start=period.start
                ).values_list("user_id", flat=True)
            )
            memberships = {
                membership.user_id: membership
                for membership in Membership.objects.filter(
                    brand=brand, user__in=recipients
                ).select_related("location", "user", "brand")
            }
            for user in recipients:
                membership = memberships.get(user.pk)
                if membership is None:
                    continue
                result = _member_digest(
                    membership=membership,
                    period=period,
                    now=now,
                    claimed=user.pk in claimed,
                    dry_run=dry_run,
                )
                if result is not None:
                    outcomes.append(result)
    return outcomes
