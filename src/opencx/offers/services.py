"""Writes of playbooks, coupon pools and coupons, and of what customers do with a playbook's
e-mail (clicks, referrals, reviews, redemptions). Keyword-only, atomic, audited.

Sending is in `flows.py`; this module holds the claims it relies on: one run per response
(`run_claim`, a unique row) and one coupon per response (`coupon_issue`, a conditional UPDATE of
a free code), both exact on SQLite and PostgreSQL however many workers try at once.
"""

import csv
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext

from opencx.contacts.models import Contact, Identity
from opencx.contacts.services import contact_find_or_create_in_brand, normalise_email
from opencx.feedback.models import FeedbackItem
from opencx.platform.actor import Actor
from opencx.platform.db import write_turn
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.events import emit
from opencx.platform.models import Location
from opencx.platform.numbers import whole_number
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to
from opencx.platform.services import audit_record
from opencx.surveys.models import Response

from .models import (
    SEGMENT_ACTIONS,
    Action,
    Coupon,
    CouponPool,
    Playbook,
    PlaybookRun,
    Segment,
)
from .selectors import coupon_get, coupons_visible_to

REFERRAL_COMPLETED = "playbook.referral_completed"

# Readable codes: no look-alikes (0/O, 1/I/L), 31 symbols: 8 characters give 8.5e11 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{2,63}")
MAX_GENERATE = 10_000
MAX_UPLOAD_LINES = 50_000
MAX_LISTED_ERRORS = 20
LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
SUBJECT_MAX, BODY_MAX = 200, 5000


def _require_manage(actor: Actor) -> None:
    actor.require(Capability.MANAGE_FEEDBACK)


# --- Playbooks --------------------------------------------------------------------------------


def _texts(value, *, field: str, limit: int) -> dict[str, str]:
    """A {language: text} mapping, checked; blank texts are dropped."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise AppError("Give the texts as language code → text.", field=field)
    texts = {}
    for language, text in value.items():
        code = str(language).strip().lower()
        if not LANGUAGE.fullmatch(code):
            raise AppError(f"{str(language)[:20]!r} is not a language code.", field=field)
        if not isinstance(text, str):
            raise AppError(f"The {code} text must be text.", field=field)
        text = strip_tags(text).replace("\r\n", "\n").strip()
        if len(text) > limit:
            raise AppError(f"The {code} text is longer than {limit} characters.", field=field)
        if text:
            texts[code] = text
    return texts


def _check_playbook(
    actor: Actor, *, segment: str, action: str, coupon_pool: CouponPool | None
) -> CouponPool | None:
    if segment not in Segment.values:
        raise AppError(f"segment is one of {', '.join(Segment.values)}.", field="segment")
    allowed = SEGMENT_ACTIONS[segment]
    if action not in allowed:
        raise AppError(f"For {segment}s the action is one of {', '.join(allowed)}.", field="action")
    if action != Action.COUPON:
        return None
    if coupon_pool is None:
        raise AppError("A coupon playbook needs a coupon pool.", field="coupon_pool")
    if coupon_pool.brand_id != actor.brand.pk:
        raise NotFound("No such coupon pool.", field="coupon_pool")
    return coupon_pool


def _check_place(actor: Actor, location: Location | None) -> None:
    if location is None:
        if not actor.is_brand_wide:
            raise Forbidden(
                "Only members over the whole brand set its default playbooks.", field="location"
            )
    elif not actor.covers(location):
        raise NotFound("No such location.", field="location")


def playbook_create(
    *,
    actor: Actor,
    segment: str,
    action: str,
    location: Location | None = None,
    is_active: bool = True,
    email_subject: dict | None = None,
    email_body: dict | None = None,
    coupon_pool: CouponPool | None = None,
) -> Playbook:
    """A playbook for a segment, brand-wide (`location` None) or for a location's subtree; one
    per place and segment (409 for a second)."""
    _require_manage(actor)
    _check_place(actor, location)
    pool = _check_playbook(actor, segment=segment, action=action, coupon_pool=coupon_pool)
    subject = _texts(email_subject, field="email_subject", limit=SUBJECT_MAX)
    body = _texts(email_body, field="email_body", limit=BODY_MAX)
    try:
        with transaction.atomic():
            playbook = Playbook.objects.create(
                brand=actor.brand,
                location=location,
                segment=segment,
                action=action,
                is_active=bool(is_active),
                email_subject=subject,
                email_body=body,
                coupon_pool=pool,
            )
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="playbook.create",
                obj=playbook,
                summary=str(playbook),
            )
    except IntegrityError as error:
        where = location.name if location else "the brand"
        raise Conflict(
            f"{where} already has a playbook for {segment}s: edit that one.", field="segment"
        ) from error
    return playbook


PLAYBOOK_FIELDS = ("action", "is_active", "email_subject", "email_body", "coupon_pool")


def playbook_update(*, actor: Actor, playbook: Playbook, **fields) -> Playbook:
    """Change a playbook's action, texts, pool or whether it is active (its segment and place
    stay: another place or segment is another playbook)."""
    _require_manage(actor)
    unknown = sorted(set(fields) - set(PLAYBOOK_FIELDS))
    if unknown:
        raise AppError(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    _check_place(actor, playbook.location)
    action = fields.get("action", playbook.action)
    pool = fields.get("coupon_pool", playbook.coupon_pool)
    values = {
        "action": action,
        "coupon_pool": _check_playbook(
            actor, segment=playbook.segment, action=action, coupon_pool=pool
        ),
    }
    if "is_active" in fields:
        values["is_active"] = bool(fields["is_active"])
    if "email_subject" in fields:
        values["email_subject"] = _texts(
            fields["email_subject"], field="email_subject", limit=SUBJECT_MAX
        )
    if "email_body" in fields:
        values["email_body"] = _texts(fields["email_body"], field="email_body", limit=BODY_MAX)
    with transaction.atomic():
        changes = {}
        for name, value in values.items():
            before = getattr(playbook, name)
            if before != value:
                changes[name] = (
                    [str(before), str(value)]
                    if name == "coupon_pool"
                    else [
                        before,
                        value,
                    ]
                )
            setattr(playbook, name, value)
        playbook.updated_at = timezone.now()
        playbook.save()
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="playbook.update",
            obj=playbook,
            summary=str(playbook),
            changes=changes,
        )
    return playbook


# --- Coupon pools and codes -------------------------------------------------------------------


def coupon_pool_create(
    *, actor: Actor, name: str, offer: str, valid_days: int | None = None
) -> CouponPool:
    """A pool of single-use codes; `valid_days` (1–3650, or None for no expiry) counts from
    the moment a code is sent."""
    _require_manage(actor)
    name, offer = strip_tags(name or "").strip(), strip_tags(offer or "").strip()
    if not name:
        raise AppError("Name the pool.", field="name")
    if len(name) > 120:
        raise AppError("The name is longer than 120 characters.", field="name")
    if not offer:
        raise AppError('Say what the code gives, e.g. "10% off your next visit".', field="offer")
    if len(offer) > 200:
        raise AppError("The offer is longer than 200 characters.", field="offer")
    if valid_days is not None and (
        isinstance(valid_days, bool)
        or not isinstance(valid_days, int)
        or not 1 <= valid_days <= 3650
    ):
        raise AppError("Valid days is a whole number from 1 to 3650.", field="valid_days")
    try:
        with transaction.atomic():
            pool = CouponPool.objects.create(
                brand=actor.brand, name=name, offer=offer, valid_days=valid_days
            )
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="coupon_pool.create",
                obj=pool,
                summary=name,
            )
    except IntegrityError as error:
        raise Conflict(f"There is already a pool named {name!r}.", field="name") from error
    return pool


def _new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def coupons_generate(
    *, actor: Actor, pool: CouponPool, count: int, prefix: str = "", length: int = 8
) -> int:
    """Add `count` (1–10,000) random codes to the pool, each `prefix` + `length` characters
    from an alphabet without look-alikes (0/O, 1/I/L); how many were added."""
    _require_manage(actor)
    if pool.brand_id != actor.brand.pk:
        raise NotFound("No such coupon pool.", field="coupon_pool")
    if isinstance(count, str):
        count = whole_number(count.strip())
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_GENERATE:
        raise AppError(f"Generate from 1 to {MAX_GENERATE:,} codes.", field="count")
    prefix = (prefix or "").strip().upper()
    if prefix and not re.fullmatch(r"[A-Z0-9]{1,12}-?", prefix):
        raise AppError("The prefix is up to 12 letters or digits.", field="prefix")
    if isinstance(length, bool) or not isinstance(length, int) or not 6 <= length <= 20:
        raise AppError("Codes are 6 to 20 characters long.", field="length")
    codes: set[str] = set()
    with write_turn(), transaction.atomic():
        while len(codes) < count:
            fresh = {prefix + _new_code(length) for _ in range(count - len(codes))} - codes
            taken = set(
                Coupon.objects.filter(brand_id=pool.brand_id, code__in=fresh).values_list(
                    "code", flat=True
                )
            )
            codes |= fresh - taken
        Coupon.objects.bulk_create(
            [Coupon(pool=pool, brand_id=pool.brand_id, code=code) for code in sorted(codes)],
            batch_size=1000,
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="coupon_pool.generate",
            obj=pool,
            summary=f"{count} codes",
        )
    return count


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their line numbers (a header row is the caller's to skip)."""
    if "\x00" in text:
        raise AppError("The file is not text.", field="file")
    lines = text.splitlines()
    if len(lines) > MAX_UPLOAD_LINES:
        raise AppError(f"The file has more than {MAX_UPLOAD_LINES:,} lines.", field="file")
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], skipinitialspace=True))
        except csv.Error as error:
            raise AppError(f"line {number}: {error}", field="file") from error
        out.append((number, [cell.strip() for cell in cells]))
    return out


def _raise_if_errors(errors: list[str], *, field: str = "file") -> None:
    if not errors:
        return
    shown = errors[:MAX_LISTED_ERRORS]
    more = len(errors) - len(shown)
    tail = f"; and {more} more" if more else ""
    raise AppError(
        f"Nothing was stored: {len(errors)} error{'s' if len(errors) > 1 else ''}: "
        + "; ".join(shown)
        + tail,
        field=field,
    )


def _brand_zone(actor: Actor) -> ZoneInfo:
    try:
        return ZoneInfo(actor.brand.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def coupons_upload(*, actor: Actor, pool: CouponPool, text: str) -> int:
    """Add the codes of a CSV or plain list (one per line: `code[,expires_on]`, a first row
    `code,...` is a header) to the pool; how many were added.

    Codes are stored upper-case. `expires_on` (YYYY-MM-DD, optional) is the last day the code
    works, in the brand's time zone. Any bad line (not a code, a bad date, a code repeated in
    the file or already the brand's) is reported with its line number and nothing is stored.
    """
    _require_manage(actor)
    if pool.brand_id != actor.brand.pk:
        raise NotFound("No such coupon pool.", field="coupon_pool")
    rows = _rows(text)
    if rows and rows[0][1] and rows[0][1][0].lower() == "code":
        rows = rows[1:]
    if not rows:
        raise AppError("The file has no codes.", field="file")
    zone = _brand_zone(actor)
    errors: list[str] = []
    seen: dict[str, int] = {}
    parsed: list[tuple[int, str, datetime | None]] = []
    for number, cells in rows:
        raw = cells[0] if cells else ""
        code = raw.upper()
        if not CODE.fullmatch(code):
            errors.append(
                f"line {number}: {raw[:40]!r} is not a code (3–64 letters, digits, '-', '_' or '.')"
            )
            continue
        if len(cells) > 2 and any(cells[2:]):
            errors.append(f"line {number}: expected code[,expires_on], got {len(cells)} columns")
            continue
        expires = None
        if len(cells) > 1 and cells[1]:
            try:
                last_day = date.fromisoformat(cells[1])
            except ValueError:
                errors.append(f"line {number}: {cells[1][:40]!r} is not a date (YYYY-MM-DD)")
                continue
            expires = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
        if code in seen:
            errors.append(f"line {number}: {code} repeats line {seen[code]}")
            continue
        seen[code] = number
        parsed.append((number, code, expires))
    existing = set(
        Coupon.objects.filter(brand_id=pool.brand_id, code__in=list(seen)).values_list(
            "code", flat=True
        )
    )
    errors += [
        f"line {number}: {code} is already a code of this brand"
        for number, code, _expires in parsed
        if code in existing
    ]
    errors.sort(key=lambda message: int(message.split(":")[0].removeprefix("line ")))
    _raise_if_errors(errors)
    try:
        with write_turn(), transaction.atomic():
            Coupon.objects.bulk_create(
                [
                    Coupon(pool=pool, brand_id=pool.brand_id, code=code, expires_at=expires)
                    for _number, code, expires in parsed
                ],
                batch_size=1000,
            )
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="coupon_pool.upload",
                obj=pool,
                summary=f"{len(parsed)} codes",
            )
    except IntegrityError as error:  # someone added one of these codes meanwhile
        raise Conflict(
            "Some of these codes were added meanwhile; nothing was stored. Try again.",
            field="file",
        ) from error
    return len(parsed)


def coupon_issue(*, pool: CouponPool, response: Response, now: datetime) -> Coupon | None:
    """Hand one free, unexpired code of the pool to the response's contact; None if the pool
    has none left.

    A code is taken by a conditional UPDATE (`issued_at IS NULL`): two workers that pick the
    same candidate cannot both get it, and the loser tries the next. The response's one-to-one
    on the coupon means a response never holds two. Expiry: the code's own, else `valid_days`
    from now.
    """
    existing = Coupon.objects.filter(response=response).first()
    if existing is not None:
        return existing
    expiry = now + timedelta(days=pool.valid_days) if pool.valid_days else None
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    while True:
        candidates = list(
            Coupon.objects.filter(live, pool=pool, issued_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "expires_at")[:20]
        )
        if not candidates:
            return None
        for pk, own_expiry in candidates:
            try:
                with transaction.atomic():
                    taken = Coupon.objects.filter(pk=pk, issued_at__isnull=True).update(
                        issued_at=now,
                        contact_id=response.contact_id,
                        response=response,
                        issued_location_id=response.location_id,
                        expires_at=own_expiry or expiry,
                    )
            except IntegrityError:
                # This response got a code from another worker meanwhile.
                return Coupon.objects.filter(response=response).first()
            if taken:
                return Coupon.objects.get(pk=pk)


def coupon_release(*, coupon: Coupon, expires_at: datetime | None) -> None:
    """Put back a code whose e-mail was never delivered (it reached nobody)."""
    Coupon.objects.filter(pk=coupon.pk, redeemed_at__isnull=True).update(
        issued_at=None,
        contact=None,
        response=None,
        issued_location=None,
        expires_at=expires_at,
    )


# --- Redemption -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redemption:
    coupon: Coupon
    newly: bool  # False: it had been redeemed before (the first redemption is kept)


def _check_redeemable(coupon: Coupon, moment: datetime) -> None:
    if coupon.issued_at is None:
        raise Conflict(
            f"{coupon.code} has not been sent to anyone, so it cannot be redeemed.",
            field="code",
            code="not_issued",
        )
    if coupon.redeemed_at is None and coupon.expires_at and coupon.expires_at <= moment:
        raise Conflict(
            f"{coupon.code} expired on {coupon.expires_at:%Y-%m-%d %H:%M} UTC.",
            field="code",
            code="expired",
        )


def _check_moment(moment: datetime | None, now: datetime, *, field: str) -> datetime:
    if moment is None:
        return now
    if timezone.is_naive(moment):
        raise AppError("Give the time with its offset.", field=field)
    if moment > now + timedelta(minutes=5):
        raise AppError("The redemption time is in the future.", field=field)
    return moment


def coupon_redeem(
    *,
    actor: Actor,
    code: str,
    redeemed_at: datetime | None = None,
    location: Location | None = None,
    reference: str = "",
) -> Redemption:
    """Record that a sent code was used (at `location`, with the shop's `reference`).

    Idempotent: a code redeemed before keeps its first redemption (`newly` False). A code never
    sent or past its expiry is a 409 (codes `not_issued`, `expired`).
    """
    _require_manage(actor)
    coupon = coupon_get(actor, code=code or "")
    now = timezone.now()
    moment = _check_moment(redeemed_at, now, field="redeemed_at")
    if location is not None and not actor.covers(location):
        raise NotFound("No such location.", field="location")
    reference = strip_tags(reference or "").strip()[:100]
    _check_redeemable(coupon, moment)
    with transaction.atomic():
        newly = Coupon.objects.filter(pk=coupon.pk, redeemed_at__isnull=True).update(
            redeemed_at=moment, redeemed_location=location, redemption_ref=reference
        )
        if newly:
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="coupon.redeem",
                obj=coupon,
                summary=coupon.code,
            )
    coupon.refresh_from_db()
    return Redemption(coupon=coupon, newly=bool(newly))


@dataclass(frozen=True)
class RedemptionImport:
    redeemed: int
    already: int


def _parse_moment(raw: str, zone: ZoneInfo) -> datetime | None:
    """An ISO date (its start) or date-time, in the brand's zone unless it has an offset."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    return moment


def redemptions_import(*, actor: Actor, text: str) -> RedemptionImport:
    """Record the redemptions in a CSV: `code[,redeemed_at][,location code]` per line (a first
    row starting `code` is a header). `redeemed_at` is an ISO date or date-time (the brand's
    time zone unless it has an offset; empty: now); the location is one of the brand's codes.

    Every line is checked first — unknown code, a code never sent or expired by then, a bad
    time or location — and any error (with its line number) stores nothing. A code redeemed
    before keeps its first redemption.
    """
    _require_manage(actor)
    rows = _rows(text)
    if rows and rows[0][1] and rows[0][1][0].lower() == "code":
        rows = rows[1:]
    if not rows:
        raise AppError("The file has no codes.", field="file")
    zone = _brand_zone(actor)
    now = timezone.now()
    places = {loc.code.lower(): loc for loc in locations_visible_to(actor)}
    wanted = {cells[0].upper() for _n, cells in rows if cells}
    coupons = {c.code: c for c in coupons_visible_to(actor).filter(code__in=wanted)}
    errors: list[str] = []
    plan: dict[str, tuple[Coupon, datetime, Location | None]] = {}
    for number, cells in rows:
        code = (cells[0] if cells else "").upper()
        if len(cells) > 3 and any(cells[3:]):
            errors.append(
                f"line {number}: expected code[,redeemed_at][,location], too many columns"
            )
            continue
        coupon = coupons.get(code)
        if coupon is None:
            errors.append(f"line {number}: {code[:40] or '(empty)'} is not a code of this brand")
            continue
        moment = now
        if len(cells) > 1 and cells[1]:
            parsed = _parse_moment(cells[1], zone)
            if parsed is None:
                errors.append(f"line {number}: {cells[1][:40]!r} is not a date or date-time")
                continue
            if parsed > now + timedelta(minutes=5):
                errors.append(f"line {number}: {cells[1][:40]} is in the future")
                continue
            moment = parsed
        place = None
        if len(cells) > 2 and cells[2]:
            place = places.get(cells[2].lower())
            if place is None:
                errors.append(f"line {number}: {cells[2][:40]!r} is not one of your locations")
                continue
        try:
            _check_redeemable(coupon, moment)
        except Conflict as error:
            errors.append(f"line {number}: {error.message}")
            continue
        plan.setdefault(code, (coupon, moment, place))
    _raise_if_errors(errors)
    redeemed = 0
    with write_turn(), transaction.atomic():
        for coupon, moment, place in plan.values():
            redeemed += Coupon.objects.filter(pk=coupon.pk, redeemed_at__isnull=True).update(
                redeemed_at=moment, redeemed_location=place, redemption_ref="import"
            )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="coupon.redemptions_import",
            obj=actor.brand,
            summary=f"{redeemed} redeemed, {len(plan) - redeemed} already",
        )
    return RedemptionImport(redeemed=redeemed, already=len(plan) - redeemed)


# --- Runs: claims and what the customer did ---------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def run_claim(*, playbook: Playbook, response: Response, segment: str) -> PlaybookRun | None:
    """The run of this response, created now; None if the response has one already (another
    delivery of the event, or another worker, got there first)."""
    try:
        with write_turn(), transaction.atomic():
            return PlaybookRun.objects.create(
                brand_id=response.brand_id,
                playbook=playbook,
                response=response,
                contact_id=response.contact_id,
                location_id=response.location_id,
                segment=segment,
                action=playbook.action,
                token=new_token(),
            )
    except IntegrityError:
        return None


def run_clicked(*, run: PlaybookRun) -> bool:
    """The customer followed the e-mail's link (the first time is kept); True the first time."""
    return bool(
        PlaybookRun.objects.filter(pk=run.pk, clicked_at__isnull=True).update(
            clicked_at=timezone.now()
        )
    )


def referral_complete(*, run: PlaybookRun, name: str, email: str, consent: bool = False) -> Contact:
    """A promoter's friend left their name and e-mail on the referral page: matched to the
    brand's contacts (or added, with e-mail consent only if they ticked it), and the run marked
    completed (the first friend is kept). Emits `playbook.referral_completed`."""
    if run.action != Action.REFERRAL or run.status != PlaybookRun.Status.SENT:
        raise NotFound(gettext("This link is not valid."), field="token")
    name = " ".join(strip_tags(name or "").split())
    if len(name) > 200:
        raise AppError(gettext("The name is longer than 200 characters."), field="name")
    if not name:
        raise AppError(gettext("Give your name."), field="name")
    address = normalise_email(email, field="email")
    own = Identity.objects.filter(
        contact_id=run.contact_id, kind=Identity.Kind.EMAIL, value=address
    ).exists()
    if own:
        raise AppError(gettext("That is your own address: give your friend's."), field="email")
    with write_turn(), transaction.atomic():
        friend, _created = contact_find_or_create_in_brand(
            brand=run.location.brand,
            actor_user=None,
            email=address,
            name=name,
            home_location=run.location,
            consent=bool(consent),
        )
        now = timezone.now()
        first = PlaybookRun.objects.filter(pk=run.pk, completed_at__isnull=True).update(
            completed_at=now,
            referred_contact=friend,
            clicked_at=run.clicked_at or now,
        )
        if first:
            audit_record(
                actor_user=None,
                brand=run.location.brand,
                action="playbook_run.referral",
                obj=run,
                summary=f"referred contact #{friend.pk}",
            )
            emit(REFERRAL_COMPLETED, run_id=run.pk, contact_id=friend.pk, brand_id=run.brand_id)
    return friend


def review_completions_match(*, brand_id: int | None = None) -> int:
    """Mark completed the review runs whose contact posted a review (a feedback item of kind
    review, from the same contact, at the run's location or with no location) after clicking;
    how many were marked. Safe to run any number of times (after every review import, or
    periodically). Review sites often give only the day of a review, so a review dated up to
    a day before the click counts; the completion time is never before the click."""
    runs = PlaybookRun.objects.filter(
        action=Action.REVIEW,
        status=PlaybookRun.Status.SENT,
        clicked_at__isnull=False,
        completed_at__isnull=True,
        contact__isnull=False,
    )
    if brand_id is not None:
        runs = runs.filter(brand_id=brand_id)
    marked = 0
    for run in runs.only("pk", "brand_id", "contact_id", "location_id", "clicked_at"):
        review = (
            FeedbackItem.objects.filter(
                Q(location_id=run.location_id) | Q(location__isnull=True),
                brand_id=run.brand_id,
                contact_id=run.contact_id,
                kind=FeedbackItem.Kind.REVIEW,
                occurred_at__gte=run.clicked_at - timedelta(days=1),
            )
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if review is not None:
            marked += PlaybookRun.objects.filter(pk=run.pk, completed_at__isnull=True).update(
                completed_at=max(review, run.clicked_at)
            )
    return marked
