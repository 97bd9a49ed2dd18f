"""Writes of contacts. A contact is found by any of its identities (e-mail, phone) before a new
one is made, so the same person is not recorded twice."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Brand, Location, User
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from .models import Contact, Identity

PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def normalise_email(value: str, *, field: str = "email") -> str:
    """An e-mail address, trimmed and lower-cased; AppError if it is not one."""
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise AppError(f"{value!r} is not an e-mail address.", field=field) from error
    return email


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """A phone number in E.164 (+ country code and number, separators dropped; a leading 00
    counts as +); AppError if it is not one."""
    phone = PHONE_SEPARATORS.sub("", value or "")
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not E164.fullmatch(phone):
        raise AppError(
            f"{value!r} is not a phone number in international form (e.g. +44 7700 900123).",
            field=field,
        )
    return phone


def _match(brand_id: int, identities: list[tuple[str, str]]) -> Contact | None:
    for kind, value in identities:
        identity = (
            Identity.objects.filter(brand_id=brand_id, kind=kind, value=value)
            .select_related("contact")
            .first()
        )
        if identity is not None:
            return identity.contact
    return None


def contact_find_or_create(
    *,
    actor: Actor,
    email: str = "",
    phone: str = "",
    name: str = "",
    language: str = "",
    home_location: Location | None = None,
    consent: bool = False,
) -> tuple[Contact, bool]:
    """The brand's contact with this e-mail address or phone number, or a new one; and whether
    it was created.

    A found contact gains the identity it lacked (unless another contact has it) and the name
    and language it had none of; its consent is left as recorded. A new contact lives at
    `home_location` and has consent on the given channels only if `consent` says the customer
    gave it.
    """
    actor.require(Capability.REPLY)
    if home_location is not None and not actor.covers(home_location):
        raise NotFound("No such location.", field="location")
    return contact_find_or_create_in_brand(
        brand=actor.brand,
        actor_user=actor.user,
        email=email,
        phone=phone,
        name=name,
        language=language,
        home_location=home_location,
        consent=consent,
    )


def contact_find_or_create_in_brand(
    *,
    brand: Brand,
    actor_user: User | None,
    email: str = "",
    phone: str = "",
    name: str = "",
    language: str = "",
    home_location: Location | None = None,
    consent: bool = False,
) -> tuple[Contact, bool]:
    """`contact_find_or_create` for writes no member makes: a customer on a public page (a
    referred friend), an import. The caller has checked that `home_location` is the brand's."""
    identities = []
    if email:
        identities.append((Identity.Kind.EMAIL, normalise_email(email)))
    if phone:
        identities.append((Identity.Kind.PHONE, normalise_phone(phone)))
    if not identities:
        raise AppError("Give an e-mail address or a phone number.", field="email")
    name, language = name.strip()[:200], language.strip().lower()[:8]
    brand_id = brand.pk
    try:
        with transaction.atomic():
            return _find_or_create(
                actor_user, brand, identities, name, language, home_location, consent
            )
    except IntegrityError:
        # Someone recorded the same identity at the same moment: theirs is the contact.
        contact = _match(brand_id, identities)
        if contact is None:
            raise
        return contact, False


def _find_or_create(actor_user, brand, identities, name, language, home_location, consent):
    brand_id = brand.pk
    contact = _match(brand_id, identities)
    created = contact is None
    if contact is None:
        now = timezone.now()
        kinds = {kind for kind, _value in identities}
        contact = Contact.objects.create(
            brand_id=brand_id,
            home_location=home_location,
            name=name,
            language=language,
            consent_email=consent and Identity.Kind.EMAIL in kinds,
            consent_sms=consent and Identity.Kind.PHONE in kinds,
            consent_updated_at=now if consent else None,
        )
        audit_record(
            actor_user=actor_user,
            brand=brand,
            action="contact.create",
            obj=contact,
            summary=name or identities[0][1],
        )
    else:
        changed = []
        if name and not contact.name:
            contact.name = name
            changed.append("name")
        if language and not contact.language:
            contact.language = language
            changed.append("language")
        if changed:
            contact.save(update_fields=changed)
    has_primary = set(contact.identities.filter(is_primary=True).values_list("kind", flat=True))
    for kind, value in identities:
        if not Identity.objects.filter(brand_id=brand_id, kind=kind, value=value).exists():
            Identity.objects.create(
                brand_id=brand_id,
                contact=contact,
                kind=kind,
                value=value,
                is_primary=kind not in has_primary,
            )
            has_primary.add(kind)
    return contact, created
