"""Brand monitoring: alert rules over a brand's feedback, the alerts they raise, and who hears.

Rules (`AlertRule`) are evaluated by `opencx evaluate_alerts` (the worker runs it every 15
minutes). Windows are measured back from the moment of evaluation: the recent window is the
last `window_days` days, the baseline the `baseline_days` before it.

- negative_share: per location (or channel) in scope, negative items / items whose sentiment is
  known, recent against the group's own baseline. Groups with fewer than `min_n` items in
  either window are not tested. The pooled two-proportion z test (one-sided: a rise) gives each
  tested group a p-value; Holm adjusts them over the groups of the run, and a group fires when
  its adjusted p is below the rule's alpha and the rise is at least `threshold` points.
- rating_drop: the mean rating out of five (any scale, normalised), recent against baseline;
  Welch's t test (one-sided: a drop), Holm over the groups; fires when the adjusted p is below
  alpha and the drop is at least `threshold` stars.
- keyword: a watched word or phrase starts a word of an item's title or text (any case, any
  script: `cases.services.keyword_found`). Each item alerts a rule once (`AlertedItem`); with
  `min_count` > 1 an alert waits until that many new matches fall in the window.

An alert is stored once (`Alert.key`: rule, location, channel and the day the window ended for
the statistical rules; the first item for keyword alerts), so evaluating again adds nothing.
After the commit `alert.raised` is emitted: the integrations app delivers it to webhooks and
Slack-compatible endpoints (`alert_payload`), and a task e-mails the members who want alerts
and whose reach covers the alert's location.
"""

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from opencx.cases.services import keyword_found
from opencx.feedback.models import FeedbackItem
from opencx.feedback.selectors import STARS, feedback_visible_to
from opencx.integrations.selectors import notification_wanted
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.events import emit, subscribe
from opencx.platform.models import PATH_STEP, Brand, Channel, Location, Membership, User
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get, scope_filter
from opencx.platform.services import audit_record
from opencx.surveys.flows import public_url

from . import facade
from .models import Alert, AlertedItem, AlertRule

logger = logging.getLogger(__name__)

ALERT_RAISED = "alert.raised"
SENTIMENTS = ("negative", "neutral", "positive")
NEGATIVE = "negative"
ITEM_CAP = 100  # feedback ids kept on one alert (its figures count them all)
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)

# Bounds of a rule's settings (hostile input: a clear error naming the field).
MAX_NAME = 120
MAX_KEYWORDS = 50
MAX_KEYWORD = 100
WINDOW_DAYS = (1, 90)
BASELINE_DAYS = (7, 365)
MIN_N = (1, 100_000)
MIN_COUNT = (1, 10_000)
ALPHA = (0.0001, 0.2)
THRESHOLD = {
    AlertRule.Kind.NEGATIVE_SHARE: (0.0, 100.0),
    AlertRule.Kind.RATING_DROP: (0.0, 4.0),
    AlertRule.Kind.KEYWORD: (0.0, 0.0),
}
DEFAULTS = {
    AlertRule.Kind.NEGATIVE_SHARE: {"min_n": 30, "threshold": 0.0},
    AlertRule.Kind.RATING_DROP: {"min_n": 20, "threshold": 0.3},
    AlertRule.Kind.KEYWORD: {"min_n": 1, "threshold": 0.0},
}
RULE_FIELDS = (
    "name",
    "kind",
    "location",
    "channel",
    "group_by",
    "keywords",
    "window_days",
    "baseline_days",
    "min_n",
    "min_count",
    "alpha",
    "threshold",
    "is_active",
)


# --- reads (actor-scoped) ---------------------------------------------------------------------


def alert_rules_of(actor: Actor) -> QuerySet[AlertRule]:
    """The brand's alert rules: every member may read them (brand-level settings)."""
    return AlertRule.objects.filter(brand=actor.brand).select_related("location", "channel")


def alert_rule_get(actor: Actor, *, pk: int) -> AlertRule:
    rule = alert_rules_of(actor).filter(pk=pk).first()
    if rule is None:
        raise NotFound("No such alert rule.", field="rule")
    return rule


def alerts_visible_to(
    actor: Actor,
    *,
    state: str = "",
    kind: str = "",
    location: Location | None = None,
) -> QuerySet[Alert]:
    """Alerts in the actor's reach: a location's alerts to whoever covers it, brand-level ones
    (no location) to brand-wide members. `state`: "open" or "acknowledged"; `location`: its
    subtree."""
    qs = Alert.objects.filter(scope_filter(actor)).select_related(
        "rule", "location", "channel", "acknowledged_by"
    )
    if state == "open":
        qs = qs.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        qs = qs.filter(acknowledged_at__isnull=False)
    if kind:
        qs = qs.filter(kind=kind)
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def alert_get(actor: Actor, *, pk: int) -> Alert:
    alert = alerts_visible_to(actor).filter(pk=pk).first()
    if alert is None:
        raise NotFound("No such alert.", field="alert")
    return alert


def alert_items(actor: Actor, alert: Alert) -> QuerySet[FeedbackItem]:
    """The feedback behind an alert that the actor may see, newest first."""
    ids = [pk for pk in alert.items if isinstance(pk, int)]
    return (
        feedback_visible_to(actor)
        .filter(pk__in=ids)
        .select_related("location", "channel")
        .order_by("-occurred_at", "-pk")
    )


# --- writes: rules and acknowledgement ---------------------------------------------------------


def _bounded_int(value, field: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise AppError(f"{field} must be a whole number.", field=field)
    if not low <= value <= high:
        raise AppError(f"{field} must be between {low} and {high}.", field=field)
    return value


def _bounded_float(value, field: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AppError(f"{field} must be a number.", field=field)
    number = float(value)
    if number != number or not low <= number <= high:
        raise AppError(f"{field} must be between {low:g} and {high:g}.", field=field)
    return number


def _keywords(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    if not isinstance(value, list | tuple):
        raise AppError("keywords must be a list of words or phrases.", field="keywords")
    words: list[str] = []
    for word in value:
        if not isinstance(word, str):
            raise AppError("Each keyword must be text.", field="keywords")
        word = " ".join(word.split())
        if len(word) > MAX_KEYWORD:
            raise AppError(
                f"A keyword may have at most {MAX_KEYWORD} characters.", field="keywords"
            )
        if word and word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise AppError(f"At most {MAX_KEYWORDS} keywords per rule.", field="keywords")
    return words


def _clean_rule(actor: Actor, fields: dict) -> dict:
    """Validate every field of a rule (all of them: a rule is always whole)."""
    clean: dict = {}
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AppError("Give the rule a name.", field="name")
    if len(name.strip()) > MAX_NAME:
        raise AppError(f"The name may have at most {MAX_NAME} characters.", field="name")
    clean["name"] = name.strip()
    kind = fields.get("kind")
    if kind not in AlertRule.Kind.values:
        choices = ", ".join(AlertRule.Kind.values)
        raise AppError(f"kind must be one of {choices}.", field="kind")
    clean["kind"] = kind
    location = fields.get("location")
    if location is not None:
        if not isinstance(location, Location) or location.brand_id != actor.brand.pk:
            raise NotFound("No such location.", field="location")
        location = location_get(actor, pk=location.pk)
    elif not actor.is_brand_wide:
        raise AppError("Choose a location within your reach.", field="location")
    clean["location"] = location
    channel = fields.get("channel")
    if channel is not None and (
        not isinstance(channel, Channel) or channel.brand_id != actor.brand.pk
    ):
        raise NotFound("No such channel.", field="channel")
    clean["channel"] = channel
    group_by = fields.get("group_by") or AlertRule.GroupBy.LOCATION
    if group_by not in AlertRule.GroupBy.values:
        raise AppError("group_by must be location or channel.", field="group_by")
    clean["group_by"] = group_by
    clean["keywords"] = _keywords(fields.get("keywords") or [])
    if kind == AlertRule.Kind.KEYWORD and not clean["keywords"]:
        raise AppError("List at least one word or phrase to watch.", field="keywords")
    defaults = DEFAULTS[kind]
    clean["window_days"] = _bounded_int(fields.get("window_days", 7), "window_days", WINDOW_DAYS)
    clean["baseline_days"] = _bounded_int(
        fields.get("baseline_days", 56), "baseline_days", BASELINE_DAYS
    )
    clean["min_n"] = _bounded_int(fields.get("min_n", defaults["min_n"]), "min_n", MIN_N)
    clean["min_count"] = _bounded_int(fields.get("min_count", 1), "min_count", MIN_COUNT)
    clean["alpha"] = _bounded_float(fields.get("alpha", 0.05), "alpha", ALPHA)
    threshold = fields.get("threshold")
    clean["threshold"] = _bounded_float(
        defaults["threshold"] if threshold is None else threshold, "threshold", THRESHOLD[kind]
    )
    is_active = fields.get("is_active", True)
    if not isinstance(is_active, bool):
        raise AppError("is_active must be true or false.", field="is_active")
    clean["is_active"] = is_active
    return clean


@transaction.atomic
def alert_rule_create(*, actor: Actor, **fields) -> AlertRule:
    actor.require(Capability.MANAGE_FEEDBACK)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise AppError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    clean = _clean_rule(actor, fields)
    rule = AlertRule.objects.create(brand=actor.brand, created_by=actor.user, **clean)
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="alert_rule.create",
        obj=rule,
        summary=f"Alert rule “{rule.name}” ({rule.get_kind_display()})",
    )
    return rule


def rule_fields(rule: AlertRule) -> dict:
    """A rule's settings as `alert_rule_create` takes them."""
    return {name: getattr(rule, name) for name in RULE_FIELDS}


@transaction.atomic
def alert_rule_update(*, actor: Actor, rule: AlertRule, **changes) -> AlertRule:
    """Change some of a rule's settings; the whole rule is validated again."""
    actor.require(Capability.MANAGE_FEEDBACK)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise AppError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    if rule.brand_id != actor.brand.pk:
        raise NotFound("No such alert rule.", field="rule")
    before = rule_fields(rule)
    clean = _clean_rule(actor, {**before, **changes})
    changed = {
        name: [str(before[name]), str(value)]
        for name, value in clean.items()
        if before[name] != value
    }
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.save()
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="alert_rule.update",
        obj=rule,
        summary=f"Alert rule “{rule.name}” changed",
        changes=changed,
    )
    return rule


@transaction.atomic
def alert_rule_delete(*, actor: Actor, rule: AlertRule) -> None:
    """Delete a rule; the alerts it raised stay (without their rule)."""
    actor.require(Capability.MANAGE_FEEDBACK)
    if rule.brand_id != actor.brand.pk:
        raise NotFound("No such alert rule.", field="rule")
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="alert_rule.delete",
        obj=rule,
        summary=f"Alert rule “{rule.name}” deleted",
    )
    rule.delete()


@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert: Alert) -> Alert:
    """Mark an alert seen and handled (idempotent: the first acknowledgement stays)."""
    alert = alert_get(actor, pk=alert.pk)
    actor.require(Capability.REPLY)
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor.user
    )
    alert.refresh_from_db()
    if updated:
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="alert.acknowledge",
            obj=alert,
            summary=f"Alert acknowledged: {alert.title}",
        )
    return alert


# --- evaluation -------------------------------------------------------------------------------


def _windows(rule: AlertRule, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(baseline start, recent window start, now)."""
    recent = now - timedelta(days=rule.window_days)
    return recent - timedelta(days=rule.baseline_days), recent, now


def _window_end(brand: Brand, now: datetime):
    try:
        zone = ZoneInfo(brand.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def _in_scope(rule: AlertRule, qs: QuerySet[FeedbackItem]) -> QuerySet[FeedbackItem]:
    qs = qs.filter(brand_id=rule.brand_id)
    if rule.location_id is not None:
        qs = qs.filter(location__path__startswith=rule.location.path)
    if rule.channel_id is not None:
        qs = qs.filter(channel_id=rule.channel_id)
    return qs


def _group_field(rule: AlertRule) -> str:
    return "channel_id" if rule.group_by == AlertRule.GroupBy.CHANNEL else "location_id"


def _group_names(rule: AlertRule, keys: Iterable[int]) -> dict[int, str]:
    model = Channel if rule.group_by == AlertRule.GroupBy.CHANNEL else Location
    return dict(
        model.objects.filter(brand_id=rule.brand_id, pk__in=list(keys)).values_list("pk", "name")
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _figures_common(rule, test, p_adjusted, tested, baseline_start, recent_start, now) -> dict:
    return {
        "rule": {"id": rule.pk, "name": rule.name},
        "group_by": rule.group_by,
        "window": {"start": _iso(recent_start), "end": _iso(now), "days": rule.window_days},
        "baseline": {
            "start": _iso(baseline_start),
            "end": _iso(recent_start),
            "days": rule.baseline_days,
        },
        "difference": round(test.difference, 4),
        "ci_low": round(test.ci_low, 4),
        "ci_high": round(test.ci_high, 4),
        "confidence": facade.CONFIDENCE,
        "p_value": test.p_value,
        "p_adjusted": p_adjusted,
        "alpha": rule.alpha,
        "threshold": rule.threshold,
        "tested_groups": tested,
        "correction": "Holm",
        "test": test.test,
        "min_n": rule.min_n,
    }


def _negative_share(rule: AlertRule, now: datetime) -> list[dict]:
    baseline_start, recent_start, _ = _windows(rule, now)
    group = _group_field(rule)
    recent = Q(occurred_at__gt=recent_start)
    earlier = Q(occurred_at__lte=recent_start)
    negative = Q(sentiment=NEGATIVE)
    rows = (
        _in_scope(rule, FeedbackItem.objects.all())
        .filter(
            occurred_at__gt=baseline_start,
            occurred_at__lte=now,
            sentiment__in=SENTIMENTS,
            **{f"{group}__isnull": False},
        )
        .values(group)
        .annotate(
            n_now=Count("pk", filter=recent),
            k_now=Count("pk", filter=recent & negative),
            n_before=Count("pk", filter=earlier),
            k_before=Count("pk", filter=earlier & negative),
        )
        .order_by(group)
    )
    tested = [row for row in rows if row["n_now"] >= rule.min_n and row["n_before"] >= rule.min_n]
    tests = [
        facade.share_rise(
            k_now=row["k_now"],
            n_now=row["n_now"],
            k_before=row["k_before"],
            n_before=row["n_before"],
        )
        for row in tested
    ]
    adjusted = facade.holm_adjusted([test.p_value for test in tests])
    names = _group_names(rule, (row[group] for row in tested))
    found = []
    for row, test, p_adjusted in zip(tested, tests, adjusted, strict=True):
        if not (p_adjusted < rule.alpha and test.difference > 0):
            continue
        if test.difference < rule.threshold:
            continue
        where = names.get(row[group], "?")
        figures = _figures_common(
            rule, test, p_adjusted, len(tested), baseline_start, recent_start, now
        )
        figures.update(
            {
                "now": {"n": row["n_now"], "negative": row["k_now"], "share": test.now},
                "before": {"n": row["n_before"], "negative": row["k_before"], "share": test.before},
                "unit": "percentage points",
            }
        )
        items = _in_scope(rule, FeedbackItem.objects.all()).filter(
            occurred_at__gt=recent_start,
            occurred_at__lte=now,
            sentiment=NEGATIVE,
            **{group: row[group]},
        )
        found.append(
            {
                group: row[group],
                "title": (
                    f"Negative share up at {where}: {test.before:.0f}% → {test.now:.0f}% "
                    f"(n={row['n_before']} → {row['n_now']}, p={p_adjusted:.3g})"
                ),
                "details": figures,
                "items": list(
                    items.order_by("-occurred_at", "-pk").values_list("pk", flat=True)[:ITEM_CAP]
                ),
            }
        )
    return found


def _rating_drop(rule: AlertRule, now: datetime) -> list[dict]:
    baseline_start, recent_start, _ = _windows(rule, now)
    group = _group_field(rule)
    recent = Q(occurred_at__gt=recent_start)
    earlier = Q(occurred_at__lte=recent_start)
    rows = (
        _in_scope(rule, FeedbackItem.objects.all())
        .filter(
            occurred_at__gt=baseline_start,
            occurred_at__lte=now,
            rating__isnull=False,
            **{f"{group}__isnull": False},
        )
        .values(group)
        .annotate(
            n_now=Count("pk", filter=recent),
            s_now=Sum(STARS, filter=recent),
            q_now=Sum(STARS * STARS, filter=recent),
            n_before=Count("pk", filter=earlier),
            s_before=Sum(STARS, filter=earlier),
            q_before=Sum(STARS * STARS, filter=earlier),
        )
        .order_by(group)
    )
    candidates = []
    for row in rows:
        if row["n_now"] < max(2, rule.min_n) or row["n_before"] < max(2, rule.min_n):
            continue
        test = facade.mean_drop(
            now=(row["n_now"], float(row["s_now"]), float(row["q_now"])),
            before=(row["n_before"], float(row["s_before"]), float(row["q_before"])),
        )
        if test is not None:
            candidates.append((row, test))
    adjusted = facade.holm_adjusted([test.p_value for _, test in candidates])
    names = _group_names(rule, (row[group] for row, _ in candidates))
    found = []
    for (row, test), p_adjusted in zip(candidates, adjusted, strict=True):
        if not (p_adjusted < rule.alpha and test.difference < 0):
            continue
        if -test.difference < rule.threshold:
            continue
        where = names.get(row[group], "?")
        figures = _figures_common(
            rule, test, p_adjusted, len(candidates), baseline_start, recent_start, now
        )
        figures.update(
            {
                "now": {"n": row["n_now"], "mean": round(test.now, 4)},
                "before": {"n": row["n_before"], "mean": round(test.before, 4)},
                "unit": "stars out of 5",
            }
        )
        items = _in_scope(rule, FeedbackItem.objects.all()).filter(
            occurred_at__gt=recent_start,
            occurred_at__lte=now,
            rating__isnull=False,
            **{group: row[group]},
        )
        found.append(
            {
                group: row[group],
                "title": (
                    f"Rating down at {where}: {test.before:.2f} → {test.now:.2f} stars "
                    f"(n={row['n_before']} → {row['n_now']}, p={p_adjusted:.3g})"
                ),
                "details": figures,
                "items": list(
                    items.annotate(stars=STARS)
                    .order_by("stars", "-occurred_at", "-pk")
                    .values_list("pk", flat=True)[:ITEM_CAP]
                ),
            }
        )
    return found


def _common_location(location_ids: Sequence[int | None]) -> int | None:
    """The deepest location above (or at) all of them; None if any item has none."""
    if not location_ids or any(pk is None for pk in location_ids):
        return None
    paths = dict(Location.objects.filter(pk__in=set(location_ids)).values_list("pk", "path"))
    if len(paths) != len(set(location_ids)):
        return None
    prefix = ""
    for characters in zip(*paths.values(), strict=False):
        if len(set(characters)) != 1:
            break
        prefix += characters[0]
    prefix = prefix[: len(prefix) - len(prefix) % PATH_STEP]
    if not prefix:
        return None
    brand_ids = Location.objects.filter(pk__in=paths).values_list("brand_id", flat=True)
    return (
        Location.objects.filter(brand_id__in=brand_ids, path=prefix)
        .values_list("pk", flat=True)
        .first()
    )


def _keyword(rule: AlertRule, now: datetime) -> list[dict]:
    _, recent_start, _ = _windows(rule, now)
    if not rule.keywords:
        return []
    candidates = (
        _in_scope(rule, FeedbackItem.objects.all())
        .filter(occurred_at__gt=recent_start, occurred_at__lte=now)
        .exclude(pk__in=AlertedItem.objects.filter(rule=rule).values("item_id"))
        .order_by("occurred_at", "pk")
        .values_list("pk", "title", "text", "location_id", "channel_id")
    )
    matches = []
    for pk, title, text, location_id, channel_id in candidates.iterator(chunk_size=2000):
        word = keyword_found(f"{title}\n{text}", rule.keywords)
        if word:
            matches.append((pk, word, location_id, channel_id))
    base = {"rule": {"id": rule.pk, "name": rule.name}, "keywords": list(rule.keywords)}
    window = {"start": _iso(recent_start), "end": _iso(now), "days": rule.window_days}
    if rule.min_count <= 1:
        return [
            {
                "location_id": location_id,
                "channel_id": channel_id,
                "key": f"keyword:{rule.pk}:{pk}",
                "title": f"“{word}” mentioned ({rule.name})",
                "details": {**base, "matched": {str(pk): word}, "count": 1, "window": window},
                "items": [pk],
                "alerted": [pk],
            }
            for pk, word, location_id, channel_id in matches
        ]
    if len(matches) < rule.min_count:
        return []
    words = sorted({word for _, word, _, _ in matches}, key=str.casefold)
    channels = {channel_id for _, _, _, channel_id in matches}
    ids = [pk for pk, _, _, _ in matches]
    return [
        {
            "location_id": _common_location([location_id for _, _, location_id, _ in matches]),
            "channel_id": channels.pop() if len(channels) == 1 else None,
            "key": f"keyword:{rule.pk}:{ids[0]}",
            "title": f"{len(matches)} mentions of {', '.join(words)} ({rule.name})",
            "details": {
                **base,
                "matched": {str(pk): word for pk, word, _, _ in matches[:ITEM_CAP]},
                "count": len(matches),
                "min_count": rule.min_count,
                "window": window,
            },
            "items": list(reversed(ids))[:ITEM_CAP],
            "alerted": ids,
        }
    ]


EVALUATORS = {
    AlertRule.Kind.NEGATIVE_SHARE: _negative_share,
    AlertRule.Kind.RATING_DROP: _rating_drop,
    AlertRule.Kind.KEYWORD: _keyword,
}


def _raise(rule: AlertRule, found: dict, *, window_end) -> Alert | None:
    """Store one alert (and, for keyword rules, claim its items), then emit after commit.
    None when it exists already (this run or a concurrent one stored it)."""
    location_id = found.get("location_id")
    channel_id = found.get("channel_id")
    key = found.get("key") or (
        f"{rule.kind}:{rule.pk}:{location_id or 0}:{channel_id or 0}:{window_end.isoformat()}"
    )
    if Alert.objects.filter(brand_id=rule.brand_id, key=key).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                brand_id=rule.brand_id,
                rule=rule,
                location_id=location_id,
                channel_id=channel_id,
                kind=rule.kind,
                title=found["title"][:300],
                details=found["details"],
                items=found["items"],
                window_end=window_end,
                key=key,
            )
            AlertedItem.objects.bulk_create(
                [AlertedItem(rule=rule, item_id=pk, alert=alert) for pk in found.get("alerted", ())]
            )
            audit_record(
                actor_user=None,
                brand=rule.brand,
                action="alert.raise",
                obj=alert,
                summary=alert.title,
            )
            emit(ALERT_RAISED, alert_id=alert.pk, brand_id=alert.brand_id)
    except IntegrityError:
        return None  # stored meanwhile by a concurrent run, or an item was claimed
    return alert


def alert_rule_evaluate(*, rule: AlertRule, now: datetime | None = None) -> list[Alert]:
    """Evaluate one rule at `now` (default: now); the alerts it newly raised."""
    now = now or timezone.now()
    window_end = _window_end(rule.brand, now)
    raised = []
    for found in EVALUATORS[rule.kind](rule, now):
        alert = _raise(rule, found, window_end=window_end)
        if alert is not None:
            raised.append(alert)
    return raised


def alerts_evaluate(
    *, now: datetime | None = None, brands: Sequence[Brand] | None = None
) -> list[Alert]:
    """Evaluate every active rule (of `brands`, or of all brands); the alerts raised. A rule
    that fails is logged and skipped, so one bad rule does not silence the others."""
    now = now or timezone.now()
    rules = AlertRule.objects.filter(is_active=True).select_related("brand", "location")
    if brands is not None:
        rules = rules.filter(brand__in=list(brands))
    raised: list[Alert] = []
    for rule in rules.order_by("brand_id", "pk"):
        try:
            raised.extend(alert_rule_evaluate(rule=rule, now=now))
        except Exception:
            logger.exception("Alert rule %s of %s failed", rule.pk, rule.brand.slug)
    return raised


# --- what goes out: webhook payload, e-mail ----------------------------------------------------


def alert_url(alert: Alert) -> str:
    return public_url(reverse("alerts:detail", args=[alert.brand.slug, alert.pk]))


def alert_payload(*, alert_id: int) -> dict | None:
    """An alert as webhooks send it; None if there is no such alert."""
    alert = (
        Alert.objects.select_related("brand", "rule", "location", "channel")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        return None
    location, channel = alert.location, alert.channel
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "title": alert.title,
        "rule": {"id": alert.rule.pk, "name": alert.rule.name} if alert.rule else None,
        "location": (
            {"id": location.pk, "code": location.code, "name": location.name} if location else None
        ),
        "channel": {"id": channel.pk, "name": channel.name} if channel else None,
        "details": alert.details,
        "items": alert.items,
        "window_end": alert.window_end.isoformat(),
        "created_at": alert.created_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "url": alert_url(alert),
    }


def alert_recipients(alert: Alert) -> list[User]:
    """Active members who want alert e-mails and whose reach covers the alert's location
    (a brand-level alert: brand-wide members only)."""
    brand = alert.brand
    recipients = []
    memberships = (
        Membership.objects.filter(brand=brand, user__is_active=True)
        .select_related("user", "location")
        .order_by("user__email")
    )
    for membership in memberships:
        actor = Actor(user=membership.user, brand=brand, membership=membership)
        if not actor.can(Capability.VIEW) or not actor.covers(alert.location):
            continue
        if notification_wanted(user=membership.user, brand=brand, kind="alerts"):
            recipients.append(membership.user)
    return recipients


def _message(alert: Alert, user: User, connection) -> EmailMessage:
    context = {"alert": alert, "user": user, "url": alert_url(alert), "brand": alert.brand}
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    return EmailMessage(
        subject=f"[{alert.brand.name}] Alert: {alert.title}"[:250],
        body=render_to_string("insights/alerts/email.txt", context),
        from_email=formataddr((alert.brand.name, sender)),
        to=[user.email],
        connection=connection,
    )


def alert_email_send(*, alert_id: int) -> str:
    """E-mail the alert to its recipients, once: "sent", "nobody", "already_sent", "gone" or
    "failed". The claim (`emailed_at`) commits before the mail server is contacted; a send
    that fails before anyone got it withdraws the claim, so the task can be run again."""
    alert = Alert.objects.select_related("brand", "location", "rule").filter(pk=alert_id).first()
    if alert is None:
        return "gone"
    now = timezone.now()
    if not Alert.objects.filter(pk=alert.pk, emailed_at__isnull=True).update(emailed_at=now):
        return "already_sent"
    recipients = alert_recipients(alert)
    if not recipients:
        return "nobody"
    sent = 0
    try:
        with get_connection(fail_silently=False) as connection:
            for user in recipients:
                _message(alert, user, connection).send(fail_silently=False)
                sent += 1
    except DELIVERY_ERRORS as error:
        logger.warning(
            "Alert %s e-mail failed after %s of %s: %s", alert.pk, sent, len(recipients), error
        )
        if not sent:
            Alert.objects.filter(pk=alert.pk, emailed_at=now).update(emailed_at=None)
        return "failed"
    return "sent"


@subscribe(ALERT_RAISED)
def _email_when_raised(*, alert_id: int, brand_id: int, **_) -> None:
    from .alert_tasks import email_alert  # the task module imports this one

    email_alert.enqueue(alert_id)
