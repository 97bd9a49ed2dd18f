"""Writes for brands, locations, touchpoints, members and tokens. Keyword-only, atomic, audited."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import available_timezones as _scan_timezones

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from . import events
from .actor import Actor
from .errors import AppError, Conflict, Forbidden, NotFound
from .models import (
    PATH_STEP,
    ApiToken,
    AuditEvent,
    Brand,
    Location,
    Membership,
    Touchpoint,
    User,
)
from .roles import OWNER_ONLY_ROLES, Capability, Role

# The touchpoints named in PRODUCT.md; a brand edits its own copy.
DEFAULT_TOUCHPOINTS = [
    ("store", "Physical store", "Visits to a shop, counter and staff"),
    ("phone", "Phone", "Calls to and from the brand"),
    ("email", "E-mail", "Messages and newsletters"),
    ("website", "Website", "Browsing, search and checkout online"),
    ("social", "Social media", "Facebook, X, LinkedIn, Instagram, Pinterest"),
    ("reviews", "Product reviews", "Review sites and marketplaces"),
    ("promotions", "Content and promotions", "Online content, offers and campaigns"),
    ("delivery", "Delivery and fulfilment", "Shipping, packaging, returns"),
    ("support", "Customer support", "Live and automated support"),
]

LOCATION_FIELDS = (
    "name",
    "code",
    "kind",
    "country",
    "city",
    "address",
    "timezone",
    "languages",
    "opening_hours",
    "review_url",
    "is_active",
)


@cache
def available_timezones() -> frozenset[str]:
    """IANA zone names; scanning tzdata is slow, and the set does not change while we run."""
    return frozenset(_scan_timezones())


def audit_record(
    *,
    actor_user: User | None,
    brand: Brand | None,
    action: str,
    obj,
    summary: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor_user,
        brand=brand,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        summary=summary[:300],
        changes=changes or {},
    )


def _reject_unknown(fields: dict, allowed) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise AppError(f"Unknown field {unknown[0]!r}.", field=unknown[0])


def _save_audited(*, actor: Actor, obj, fields: dict, action: str):
    """Apply `fields` to `obj`, save it, and record what actually changed."""
    changes = {k: [getattr(obj, k), v] for k, v in fields.items() if getattr(obj, k) != v}
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.save()
    audit_record(actor_user=actor.user, brand=actor.brand, action=action, obj=obj, changes=changes)
    return obj


def _validate_location_fields(fields: dict) -> None:
    if "timezone" in fields and fields["timezone"] not in available_timezones():
        raise AppError(f"Unknown time zone {fields['timezone']!r}.", field="timezone")
    if (
        "country" in fields
        and fields["country"]
        and (len(fields["country"]) != 2 or not fields["country"].isalpha())
    ):
        raise AppError("Country must be a two-letter ISO code, e.g. IT.", field="country")
    hours = fields.get("opening_hours")
    if hours is not None:
        _validate_opening_hours(hours)


def _validate_opening_hours(hours: dict) -> None:
    if not isinstance(hours, dict):
        raise AppError("Opening hours must map weekdays to intervals.", field="opening_hours")
    for day, intervals in hours.items():
        if str(day) not in {str(d) for d in range(7)}:
            raise AppError(f"Weekday {day!r} must be 0 (Monday) to 6.", field="opening_hours")
        for interval in intervals:
            try:
                start, end = (datetime.strptime(t, "%H:%M").time() for t in interval)
            except (TypeError, ValueError):
                raise AppError(
                    f"Interval {interval!r} on day {day} must be two HH:MM times.",
                    field="opening_hours",
                ) from None
            if start >= end:
                raise AppError(
                    f"Interval {interval!r} on day {day} ends before it starts.",
                    field="opening_hours",
                )


@transaction.atomic
def brand_create(
    *,
    owner: User,
    name: str,
    slug: str = "",
    default_language: str = "en",
    languages: list[str] | None = None,
    timezone_name: str = "UTC",
) -> Brand:
    slug = slugify(slug or name)[:64]
    if not slug:
        raise AppError("A brand needs a name.", field="name")
    if Brand.objects.filter(slug=slug).exists():
        raise Conflict(f"A brand with the address {slug!r} exists already.", field="slug")
    brand = Brand.objects.create(
        name=name,
        slug=slug,
        default_language=default_language,
        languages=languages or [default_language],
        timezone=timezone_name,
    )
    Membership.objects.create(user=owner, brand=brand, role=Role.OWNER)
    Touchpoint.objects.bulk_create(
        Touchpoint(brand=brand, key=key, name=label, description=text, position=i)
        for i, (key, label, text) in enumerate(DEFAULT_TOUCHPOINTS)
    )
    audit_record(actor_user=owner, brand=brand, action="brand.create", obj=brand, summary=name)
    return brand


@transaction.atomic
def brand_update(*, actor: Actor, **fields) -> Brand:
    actor.require(Capability.MANAGE_BRAND)
    brand = Brand.objects.select_for_update().get(pk=actor.brand.pk)
    _reject_unknown(fields, {"name", "default_language", "languages", "timezone"})
    if "timezone" in fields and fields["timezone"] not in available_timezones():
        raise AppError(f"Unknown time zone {fields['timezone']!r}.", field="timezone")
    return _save_audited(actor=actor, obj=brand, fields=fields, action="brand.update")


def _next_path(brand: Brand, parent: Location | None) -> str:
    prefix = parent.path if parent else ""
    siblings = Location.objects.filter(brand=brand, parent=parent)
    last = siblings.aggregate(last=Max("path"))["last"]
    number = int(last[-PATH_STEP:], 36) + 1 if last else 1
    if number >= 36**PATH_STEP:
        raise AppError("Too many locations under one parent.", field="parent")
    return prefix + _base36(number).rjust(PATH_STEP, "0")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


@transaction.atomic
def location_create(
    *, actor: Actor, name: str, code: str = "", parent: Location | None = None, **fields
) -> Location:
    actor.require(Capability.MANAGE_LOCATIONS)
    if parent is not None and not actor.covers(parent):
        raise NotFound("No such parent location.", field="parent")
    if parent is None and not actor.is_brand_wide:
        raise Forbidden("You may add locations only inside your own part of the brand.")
    _reject_unknown(fields, set(LOCATION_FIELDS))
    name = name.strip()
    if not name:
        raise AppError("A location needs a name.", field="name")
    code = slugify(code or name)[:64]
    _validate_location_fields(fields)
    if Location.objects.filter(brand=actor.brand, code=code).exists():
        raise Conflict(f"Location code {code!r} is in use.", field="code")
    # Lock the parent row so two concurrent creates cannot take the same path.
    if parent is not None:
        Location.objects.select_for_update().get(pk=parent.pk)
    else:
        Brand.objects.select_for_update().get(pk=actor.brand.pk)
    location = Location.objects.create(
        brand=actor.brand,
        parent=parent,
        path=_next_path(actor.brand, parent),
        name=name,
        code=code,
        **fields,
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="location.create",
        obj=location,
        summary=name,
    )
    events.emit("location.created", location_id=location.pk)
    return location


@transaction.atomic
def location_update(*, actor: Actor, location: Location, **fields) -> Location:
    actor.require(Capability.MANAGE_LOCATIONS)
    if not actor.covers(location):
        raise NotFound("No such location.", field="location")
    _reject_unknown(fields, set(LOCATION_FIELDS))
    _validate_location_fields(fields)
    if "code" in fields:
        fields["code"] = slugify(fields["code"])[:64]
        if (
            Location.objects.filter(brand=actor.brand, code=fields["code"])
            .exclude(pk=location.pk)
            .exists()
        ):
            raise Conflict(f"Location code {fields['code']!r} is in use.", field="code")
    return _save_audited(actor=actor, obj=location, fields=fields, action="location.update")


@transaction.atomic
def location_move(*, actor: Actor, location: Location, parent: Location | None) -> Location:
    """Re-parent a location and rewrite the paths of its whole subtree."""
    actor.require(Capability.MANAGE_LOCATIONS)
    if not actor.covers(location) or (parent is not None and not actor.covers(parent)):
        raise NotFound("No such location.", field="parent")
    if parent is not None and parent.path.startswith(location.path):
        raise AppError("A location cannot move under itself.", field="parent")
    if parent is None and not actor.is_brand_wide:
        raise Forbidden("Only brand-wide members may move a location to the top.")
    old_path = location.path
    new_path = _next_path(actor.brand, parent)
    for node in Location.objects.filter(brand=actor.brand, path__startswith=old_path):
        node.path = new_path + node.path[len(old_path) :]
        if node.pk == location.pk:
            node.parent = parent
        node.save(update_fields=["path", "parent"])
    location.refresh_from_db()
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="location.move",
        obj=location,
        changes={"path": [old_path, location.path]},
    )
    return location


@transaction.atomic
def touchpoint_create(*, actor: Actor, key: str, name: str, description: str = "") -> Touchpoint:
    actor.require(Capability.MANAGE_TOUCHPOINTS)
    key = slugify(key or name)[:64]
    if not key or not name.strip():
        raise AppError("A touchpoint needs a name.", field="name")
    if Touchpoint.objects.filter(brand=actor.brand, key=key).exists():
        raise Conflict(f"Touchpoint {key!r} exists already.", field="key")
    position = Touchpoint.objects.filter(brand=actor.brand).count()
    touchpoint = Touchpoint.objects.create(
        brand=actor.brand, key=key, name=name.strip(), description=description, position=position
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="touchpoint.create",
        obj=touchpoint,
        summary=name,
    )
    return touchpoint


@transaction.atomic
def touchpoint_update(*, actor: Actor, touchpoint: Touchpoint, **fields) -> Touchpoint:
    actor.require(Capability.MANAGE_TOUCHPOINTS)
    if touchpoint.brand_id != actor.brand.pk:
        raise NotFound("No such touchpoint.", field="touchpoint")
    _reject_unknown(fields, {"name", "description", "is_active", "position"})
    return _save_audited(actor=actor, obj=touchpoint, fields=fields, action="touchpoint.update")


def _check_can_grant(actor: Actor, role: str, location: Location | None) -> None:
    actor.require(Capability.MANAGE_MEMBERS)
    if role not in Role.values:
        raise AppError(f"Unknown role {role!r}.", field="role")
    if role in OWNER_ONLY_ROLES and actor.role != Role.OWNER:
        raise Forbidden("Only an owner may make someone an owner.")
    if location is not None and not actor.covers(location):
        raise NotFound("No such location.", field="location")
    if location is None and not actor.is_brand_wide:
        raise Forbidden("You may grant access only inside your own part of the brand.")
    if role == Role.LOCATION_MANAGER and location is None:
        raise AppError("A location manager needs a location.", field="location")


@dataclass(frozen=True)
class Invitation:
    membership: Membership
    created_user: bool


@transaction.atomic
def membership_invite(
    *, actor: Actor, email: str, role: str, location: Location | None = None
) -> Invitation:
    """Give someone a role; a new person gets an account and a link to choose a password."""
    _check_can_grant(actor, role, location)
    email = User.objects.normalize_email(email).strip().lower()
    if "@" not in email:
        raise AppError("Enter a valid e-mail address.", field="email")
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=None)
    if Membership.objects.filter(user=user, brand=actor.brand).exists():
        raise Conflict(f"{email} is a member of this brand already.", field="email")
    membership = Membership.objects.create(
        user=user, brand=actor.brand, role=role, location=location
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="membership.create",
        obj=membership,
        summary=f"{email} as {role}",
    )
    if created:
        transaction.on_commit(lambda: _send_set_password_mail(user.pk))
    return Invitation(membership=membership, created_user=created)


def _send_set_password_mail(user_id: int) -> None:
    """Mail a new member a one-time link to choose a password (Django's reset token)."""
    user = User.objects.get(pk=user_id)
    context = {
        "email": user.email,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "protocol": "http" if settings.DEBUG else "https",
        "domain": settings.OPENCX_PUBLIC_HOST,
    }
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def membership_change(
    *, actor: Actor, membership: Membership, role: str, location: Location | None = None
) -> Membership:
    if membership.brand_id != actor.brand.pk:
        raise NotFound("No such member.", field="membership")
    _check_can_grant(actor, role, location)
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner may change an owner.")
    _keep_one_owner(membership, new_role=role)
    changes = {
        "role": [membership.role, role],
        "location": [membership.location_id, location.pk if location else None],
    }
    membership.role, membership.location = role, location
    membership.save(update_fields=["role", "location"])
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="membership.update",
        obj=membership,
        changes=changes,
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    actor.require(Capability.MANAGE_MEMBERS)
    if membership.brand_id != actor.brand.pk or not actor.covers(membership.location):
        raise NotFound("No such member.", field="membership")
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner may remove an owner.")
    _keep_one_owner(membership, new_role=None)
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="membership.delete",
        obj=membership,
        summary=str(membership.user),
    )
    membership.delete()


def _keep_one_owner(membership: Membership, *, new_role: str | None) -> None:
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(
        brand_id=membership.brand_id, role=Role.OWNER
    )
    if owners.count() <= 1:
        raise Conflict("A brand must keep at least one owner.", field="role")


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> IssuedToken:
    name = name.strip()
    if not name:
        raise AppError("Give the token a name, e.g. where it is used.", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise AppError("The expiry must be in the future.", field="expires_at")
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        digest=ApiToken.digest_of(secret),
        hint=secret[:10],
        expires_at=expires_at,
    )
    audit_record(actor_user=user, brand=None, action="api_token.create", obj=token, summary=name)
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound("No such token.", field="token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor_user=user, brand=None, action="api_token.revoke", obj=token, summary=token.name
        )
    return token


def api_token_authenticate(*, secret: str) -> User | None:
    """The active user a presented token belongs to (and note its use), or None."""
    if not secret.startswith(ApiToken.PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(digest=ApiToken.digest_of(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Written at most once a minute per token to keep reads cheap.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# Two-factor authentication (TOTP). The device rows belong to django-otp; these are the only
# writes to them outside django-otp's own verification bookkeeping.


@transaction.atomic
def totp_device_begin(*, user: User):
    """Start setting up an authenticator app: a fresh, unconfirmed device replaces any other."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.select_for_update().filter(user=user)
    if devices.filter(confirmed=True).exists():
        raise Conflict("Two-factor authentication is on already.", field="token")
    devices.filter(confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, token: str):
    """Turn two-factor authentication on once the user proves the app shows the right code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise NotFound("Start the set-up again: no authenticator is waiting.", field="token")
    token = (token or "").strip().replace(" ", "")
    if not (
        token.isascii() and token.isdigit() and len(token) == device.digits
    ) or not device.verify_token(token):
        raise AppError("That code is not right. Enter the code your app shows now.", field="token")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor_user=user, brand=None, action="two_factor.enable", obj=device)
    return device


@transaction.atomic
def totp_device_disable(*, user: User, password: str) -> None:
    """Turn two-factor authentication off; the account password confirms it is really them."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not user.check_password(password or ""):
        raise AppError("The password is not right.", field="password")
    devices = list(TOTPDevice.objects.select_for_update().filter(user=user))
    if not devices:
        raise NotFound("Two-factor authentication is off already.", field="password")
    for device in devices:
        if device.confirmed:
            audit_record(actor_user=user, brand=None, action="two_factor.disable", obj=device)
        device.delete()
