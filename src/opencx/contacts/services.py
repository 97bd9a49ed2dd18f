"""Writes of contacts. A contact is found by any of its identities (e-mail, phone) before a new
one is made, so the same person is not recorded twice."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from opencx.platform.actor import Actor
from opencx.platform.db import column_sql, first_by_sql, table_sql
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.models import Brand, Location, User
from opencx.platform.roles import Capability
from opencx.platform.selectors import scope_filter
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


# The brand's contact with an identity: read for every message a customer sends, by hand
# (first_by_sql); the unique (brand, kind, value) index finds it.
_CONTACT_BY_IDENTITY = (
    f"SELECT c.* FROM {table_sql(Contact)} c JOIN {table_sql(Identity)} i"
    f" ON i.{column_sql(Identity, 'contact')} = c.{column_sql(Contact, 'id')}"
    f" WHERE i.{column_sql(Identity, 'brand')} = %s AND i.{column_sql(Identity, 'kind')} = %s"
    f" AND i.{column_sql(Identity, 'value')} = %s"
)


def _match(brand_id: int, identities: list[tuple[str, str]]) -> Contact | None:
    for kind, value in identities:
        contact = first_by_sql(Contact, _CONTACT_BY_IDENTITY, [brand_id, kind, value])
        if contact is not None:
            return contact
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
    looked = len(identities) == 1
    if looked and (contact := _match(brand_id, identities)) is not None:
        # Found by its only identity, the usual case of a customer who wrote before: nothing
        # to insert, so no savepoint for a race to roll back to.
        _fill_blanks(contact, name, language)
        return contact, False
    try:
        with transaction.atomic():
            return _find_or_create(
                actor_user, brand, identities, name, language, home_location, consent,
                # one who appeared since is caught by the unique identity, as below
                known_new=looked,
            )  # fmt: skip
    except IntegrityError:
        # Someone recorded the same identity at the same moment: theirs is the contact.
        contact = _match(brand_id, identities)
        if contact is None:
            raise
        return contact, False


def _fill_blanks(contact: Contact, name: str, language: str) -> None:
    """A found contact gains the name and language it had none of."""
    changed = []
    if name and not contact.name:
        contact.name = name
        changed.append("name")
    if language and not contact.language:
        contact.language = language
        changed.append("language")
    if changed:
        contact.save(update_fields=changed)


def _find_or_create(
    actor_user, brand, identities, name, language, home_location, consent, *, known_new=False
):
    brand_id = brand.pk
    contact = None if known_new else _match(brand_id, identities)
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
        _fill_blanks(contact, name, language)
    if created:
        # None of them is known (looked up here, or by the caller for a single one): each is
        # new, and the first of its kind.
        Identity.objects.bulk_create(
            Identity(brand_id=brand_id, contact=contact, kind=kind, value=value, is_primary=True)
            for kind, value in identities
        )
        return contact, created
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


def contact_find_or_create_web_visitor(
    *,
    brand: Brand,
    visitor_id: str,
    name: str = "",
    email: str = "",
    home_location: Location | None = None,
) -> Contact:
    """A website visitor, known by the chat widget's id for them (a write no member makes).

    An e-mail address they type is added to them only if no other contact has it: typing an
    address proves nothing, so it never joins a visitor to someone else's contact (an agent
    merges the two after checking)."""
    web = (Identity.Kind.WEB, visitor_id)
    identities = [web, (Identity.Kind.EMAIL, normalise_email(email))] if email else [web]
    name = name.strip()[:200]
    try:
        with transaction.atomic():
            return _web_visitor(brand, web, identities, name, home_location)
    except IntegrityError:
        # The visitor's two requests recorded them at the same moment: the other one won.
        with transaction.atomic():
            return _web_visitor(brand, web, identities, name, home_location)


def _web_visitor(brand, web, identities, name, home_location) -> Contact:
    if _match(brand.pk, [web]) is None:
        _find_or_create(None, brand, [web], name, "", home_location, False)
    # The web identity comes first, so the visitor's own contact is the one matched and it gains
    # the address only if nobody has it (`_find_or_create` adds only unclaimed identities).
    contact, _ = _find_or_create(None, brand, identities, name, "", home_location, False)
    return contact


def contact_find_or_create_by_identity(
    *,
    brand: Brand,
    kind: str,
    value: str,
    name: str = "",
    home_location: Location | None = None,
) -> Contact:
    """A customer known only by a channel's own id for them (a Facebook or Instagram account,
    an external id): found by that identity, or made with it (a write no member makes)."""
    if kind not in {Identity.Kind.FACEBOOK, Identity.Kind.INSTAGRAM, Identity.Kind.EXTERNAL}:
        raise AppError(f"Unknown identity kind {kind!r}.", field="kind")
    value = (value or "").strip()
    if not value or len(value) > 254:
        raise AppError("Give the channel's id for the customer (at most 254 characters).")
    identities = [(kind, value)]
    name = name.strip()[:200]
    try:
        with transaction.atomic():
            return _find_or_create(None, brand, identities, name, "", home_location, False)[0]
    except IntegrityError:
        # The same account wrote twice at the same moment: the other request recorded them.
        contact = _match(brand.pk, identities)
        if contact is None:
            raise
        return contact


# --- Merging two records of one customer ----------------------------------------------------

# Contact fields a merged record fills in when the kept one has none.
MERGE_FILLS = ("name", "language", "country", "city", "birth_year", "gender", "home_location")


def _contact_links():
    """(model, field name, one_to_one) of every foreign key to Contact in any app, hidden ones
    (related_name="+") included: a new app's link is moved without editing this file."""
    for field in Contact._meta.get_fields(include_hidden=True):
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one):
            yield field.related_model, field.field.name, field.one_to_one


def _merge_fields(keep: Contact, merge: Contact) -> list[str]:
    changed = []
    for name in MERGE_FILLS:
        if getattr(keep, name) in (None, "") and getattr(merge, name) not in (None, ""):
            setattr(keep, name, getattr(merge, name))
            changed.append(name)
    attributes = {**(merge.attributes or {}), **(keep.attributes or {})}
    if attributes != (keep.attributes or {}):
        keep.attributes = attributes
        changed.append("attributes")
    # Consent: the most recent record of what the customer said wins, as a whole.
    if merge.consent_updated_at and (
        keep.consent_updated_at is None or merge.consent_updated_at > keep.consent_updated_at
    ):
        for name in ("consent_email", "consent_sms", "consent_marketing", "consent_updated_at"):
            setattr(keep, name, getattr(merge, name))
            changed.append(name)
    if merge.created_at < keep.created_at:
        keep.created_at = merge.created_at
        changed.append("created_at")
    return changed


def _move_identities(keep: Contact, merge: Contact) -> int:
    """Give `merge`'s identities to `keep`. (brand, kind, value) is unique, so the two cannot
    share one; should they anyway, `keep`'s stays. `keep` keeps its primary of each kind."""
    kept = set(keep.identities.values_list("kind", "value"))
    primary_kinds = set(keep.identities.filter(is_primary=True).values_list("kind", flat=True))
    moved = 0
    for identity in Identity.objects.filter(contact=merge).order_by("-is_primary", "pk"):
        if (identity.kind, identity.value) in kept:
            identity.delete()
            continue
        identity.contact = keep
        identity.is_primary = identity.kind not in primary_kinds
        primary_kinds.add(identity.kind)
        identity.save(update_fields=["contact", "is_primary"])
        moved += 1
    return moved


def contact_merge(*, actor: Actor, keep: Contact, merge: Contact) -> Contact:
    """One customer recorded twice: move everything of `merge` to `keep`, then delete `merge`.

    Moves identities (see `_move_identities`) and every row of any app that points at the
    contact (responses, feedback, conversations, orders, cases, invitations, coupons...);
    fills `keep`'s empty fields from `merge`; the more recent consent record wins. Both must be
    of the actor's brand and within reach (else 404). Atomic and audited. Refused (409) when
    both have something a customer may have only one of at a time, e.g. an open case."""
    actor.require(Capability.REPLY)
    visible = Contact.objects.filter(scope_filter(actor, "home_location"))
    if keep.pk == merge.pk:
        raise AppError("Choose another customer to merge with.", field="merge")
    for field, contact in (("keep", keep), ("merge", merge)):
        if contact.brand_id != actor.brand.pk or not visible.filter(pk=contact.pk).exists():
            raise NotFound("No such customer.", field=field)
    with transaction.atomic():
        locked = {
            c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk])
        }
        keep, merge = locked[keep.pk], locked[merge.pk]
        moved = {"identity": _move_identities(keep, merge)}
        for model, name, one_to_one in _contact_links():
            if model is Identity:
                continue
            rows = model._base_manager.filter(**{name: merge})
            if one_to_one and model._base_manager.filter(**{name: keep}).exists():
                rows.delete()  # e.g. a survey opt-out: `keep` has one already, which stays
                continue
            try:
                with transaction.atomic():
                    count = rows.update(**{name: keep})
            except IntegrityError:
                raise Conflict(
                    f"Both customers have a {model._meta.verbose_name} that a customer may "
                    f"have only one of at a time (e.g. an open case). Close or resolve one, "
                    f"then merge.",
                    field="merge",
                ) from None
            if count:
                moved[model._meta.label_lower] = moved.get(model._meta.label_lower, 0) + count
        changed = _merge_fields(keep, merge)
        if changed:
            keep.save(update_fields=changed)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="contact.merge",
            obj=keep,
            summary=f"{merge} (#{merge.pk}) merged into {keep} (#{keep.pk})",
            changes={"merged": merge.pk, "moved": moved, "filled": changed},
        )
        merge.delete()
    return keep
