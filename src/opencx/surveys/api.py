"""API routes for surveys and responses."""

import json
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from opencx.api.errors import READ_ERRORS, WRITE_ERRORS, error_body
from opencx.api.pagination import LimitOffset, paginate
from opencx.contacts.selectors import contacts_visible_to
from opencx.contacts.services import (
    contact_find_or_create,
    normalise_email,
    normalise_phone,
)
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get, touchpoint_get

from . import invitation_selectors, selectors
from .definitions import dump_definition, library, parse_definition, spec_of
from .invitation_schemas import (
    InvitationBatchOut,
    InvitationCreate,
    InvitationOut,
    Recipient,
)
from .models import Invitation
from .schemas import ResponseOut, SurveyFromTemplate, SurveyOut, SurveyTemplateOut
from .services import invitation_create, survey_create_from_template, survey_import

router = Router(tags=["surveys"])


def _aware(moment: datetime | None, zone: str) -> datetime | None:
    """A date or time without an offset is read in the brand's time zone."""
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, ZoneInfo(zone))


@router.get("/brands/{slug}/surveys", response={200: list[SurveyOut], **READ_ERRORS})
@paginate(LimitOffset)
def survey_list(request, slug: str):
    """Survey definitions are brand-level: every member sees them (but only their responses)."""
    return selectors.survey_index(actor_of(request, slug))


@router.get("/brands/{slug}/responses", response={200: list[ResponseOut], **READ_ERRORS})
@paginate(LimitOffset)
def response_list(
    request,
    slug: str,
    survey: int | None = None,
    location: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Responses in the caller's reach, newest first.

    `location` keeps that location's subtree (404 if out of reach); `since` is inclusive and
    `until` exclusive; a date or time without an offset is in the brand's time zone.
    """
    actor = actor_of(request, slug)
    since, until = _aware(since, actor.brand.timezone), _aware(until, actor.brand.timezone)
    place = location_get(actor, pk=location) if location is not None else None
    return selectors.response_index(
        actor, survey_id=survey, location=place, since=since, until=until
    )


# --- Personal invitations (e-mail / SMS) ---


def _checked_recipient(index: int, recipient: Recipient, via: str) -> Recipient:
    """The recipient with its address normalised; AppError (with the field) if unusable."""
    field = f"recipients.{index}"
    if not recipient.email and not recipient.phone:
        raise AppError("Give an e-mail address or a phone number.", field=f"{field}.email")
    if via == Invitation.Via.EMAIL and not recipient.email:
        raise AppError("An e-mail invitation needs an e-mail address.", field=f"{field}.email")
    if via == Invitation.Via.SMS and not recipient.phone:
        raise AppError("An SMS invitation needs a phone number.", field=f"{field}.phone")
    return recipient.model_copy(
        update={
            "email": normalise_email(recipient.email, field=f"{field}.email")
            if recipient.email
            else "",
            "phone": normalise_phone(recipient.phone, field=f"{field}.phone")
            if recipient.phone
            else "",
        }
    )


@router.post(
    "/brands/{slug}/surveys/{survey_id}/invitations",
    response={201: InvitationBatchOut, **WRITE_ERRORS},
)
def invitation_batch_create(request, slug: str, survey_id: int, payload: InvitationCreate):
    """Invite contacts (by id) and recipients (by e-mail or phone: matched to the brand's
    contacts, or added) to answer the survey; one result per person, in order.

    Each is `queued` (sent shortly by the task worker) or `skipped` with the reason: no address
    or no consent for the channel, unsubscribed, already invited within the brand's fatigue
    window, the survey's quota reached or the survey not active. A person named twice is
    invited once. Nothing is written if any input is invalid.
    """
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    survey = selectors.survey_get(actor, pk=survey_id)
    if not payload.contact_ids and not payload.recipients:
        raise AppError(
            "Name the contacts (contact_ids) or recipients to invite.", field="contact_ids"
        )
    location = (
        location_get(actor, pk=payload.location_id) if payload.location_id is not None else None
    )
    touchpoint = (
        touchpoint_get(actor, pk=payload.touchpoint_id)
        if payload.touchpoint_id is not None
        else survey.touchpoint
    )
    known = {
        contact.pk: contact
        for contact in contacts_visible_to(actor)
        .filter(pk__in=payload.contact_ids)
        .select_related("home_location")
    }
    for contact_id in payload.contact_ids:
        if contact_id not in known:
            raise NotFound(f"No contact {contact_id}.", field="contact_ids")
        if location is None and known[contact_id].home_location is None:
            raise AppError(
                f"Contact {contact_id} has no home location: give location_id.",
                field="location_id",
            )
    recipients = [
        _checked_recipient(index, recipient, payload.via)
        for index, recipient in enumerate(payload.recipients)
    ]
    if recipients and location is None:
        raise AppError(
            "Recipients need the location_id they are invited about.", field="location_id"
        )
    with transaction.atomic():
        people = [(known[contact_id], False) for contact_id in payload.contact_ids]
        people += [
            contact_find_or_create(
                actor=actor,
                email=recipient.email,
                phone=recipient.phone,
                name=recipient.name,
                language=recipient.language,
                home_location=location,
                consent=recipient.consent,
            )
            for recipient in recipients
        ]
        results, seen = [], set()
        for contact, created in people:
            if contact.pk in seen:
                continue
            seen.add(contact.pk)
            invitation = invitation_create(
                actor=actor,
                survey=survey,
                contact=contact,
                location=location or contact.home_location,
                via=payload.via,
                touchpoint=touchpoint,
            )
            results.append(
                {
                    "contact_id": contact.pk,
                    "contact_created": created,
                    "invitation_id": invitation.pk,
                    "status": invitation.status,
                    "skip_reason": invitation.skip_reason,
                }
            )
    queued = sum(result["status"] == Invitation.Status.QUEUED for result in results)
    return Status(201, {"queued": queued, "skipped": len(results) - queued, "results": results})


@router.get(
    "/brands/{slug}/surveys/{survey_id}/invitations",
    response={200: list[InvitationOut], **READ_ERRORS},
)
@paginate(LimitOffset)
def invitation_list(
    request, slug: str, survey_id: int, status: str = "", location: int | None = None
):
    """The survey's invitations at locations in the caller's reach, newest first; `status`
    keeps one of queued, sent, failed, responded, skipped; `location` keeps its subtree."""
    actor = actor_of(request, slug)
    survey = selectors.survey_get(actor, pk=survey_id)
    if status and status not in Invitation.Status.values:
        raise AppError(f"status is one of {', '.join(Invitation.Status.values)}.", field="status")
    place = location_get(actor, pk=location) if location is not None else None
    return invitation_selectors.survey_invitations(
        actor, survey=survey, location=place, status=status
    )


# --- Survey definitions: export, import (upsert by slug), templates ---


_DEFINITION_CONTENT = {
    "application/json": {"schema": {"type": "object", "additionalProperties": True}},
    "application/yaml": {"schema": {"type": "string"}},
}


@router.get(
    "/brands/{slug}/surveys/{survey_id}/definition",
    response={200: dict, **READ_ERRORS},
    openapi_extra={"responses": {200: {"description": "OK", "content": _DEFINITION_CONTENT}}},
)
def survey_definition_get(
    request,
    slug: str,
    survey_id: int,
    fmt: Literal["json", "yaml"] = Query("json", alias="format"),
):
    """The survey as a definition document (`format=json`, the default, or `yaml`): the same
    document `PUT /brands/{slug}/surveys/definition` and `opencx survey_import` take."""
    survey = selectors.survey_get(actor_of(request, slug), pk=survey_id)
    document = spec_of(survey)
    if fmt == "yaml":
        return HttpResponse(
            dump_definition(document, "yaml"), content_type="application/yaml; charset=utf-8"
        )
    return document


@router.put(
    "/brands/{slug}/surveys/definition",
    response={200: SurveyOut, 201: SurveyOut, **WRITE_ERRORS},
    openapi_extra={
        "requestBody": {"required": True, "content": _DEFINITION_CONTENT},
        "responses": {201: {"description": "Created"}},
    },
)
def survey_definition_put(request, slug: str):
    """Create the survey named by the document's `slug`, or bring that survey in line with it.

    The body is the document as JSON (`Content-Type: application/json`; a JSON string holding
    YAML text works too) or as YAML text (`application/yaml`, `text/yaml`, `text/plain`).
    201 when the survey was created, 200 when updated. A document that does not parse or
    validate is a 422 whose message names the line and whose `field` names the field; a change
    to a question that already has answers (its kind, scale, direction, satisfied set or
    options, or its removal) is a 409.
    """
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Status(422, error_body(422, "The body is not UTF-8 text.", field="body"))
    fmt = "json" if request.content_type == "application/json" else "yaml"
    if fmt == "json":
        try:
            value = json.loads(text)
        except ValueError:
            value = None  # parse_definition reports where
        if isinstance(value, str):
            text, fmt = value, ""
    try:
        spec = parse_definition(text, source="body", fmt=fmt)
        existed = selectors.surveys_visible_to(actor).filter(slug=spec.slug).exists()
        survey = survey_import(actor=actor, spec=spec)
    except AppError as error:
        if type(error) is not AppError:
            raise  # Conflict 409, Forbidden 403, NotFound 404
        return Status(422, error.as_dict())
    return Status(200 if existed else 201, survey)


@router.post(
    "/brands/{slug}/surveys/from-template",
    response={201: SurveyOut, **WRITE_ERRORS},
)
def survey_from_template(request, slug: str, payload: SurveyFromTemplate):
    """A new survey from a shipped template, under a slug made free from its name."""
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    survey = survey_create_from_template(actor=actor, template=payload.template, name=payload.name)
    return Status(201, survey)


@router.get(
    "/brands/{slug}/survey-templates", response={200: list[SurveyTemplateOut], **READ_ERRORS}
)
@paginate(LimitOffset)
def survey_template_list(request, slug: str):
    """The shipped templates a survey can start from (NPS, CSAT after support, ...)."""
    actor_of(request, slug)
    return [
        {
            "slug": key,
            "name": spec.name,
            "kind": spec.kind,
            "languages": spec.languages,
            "questions": len(spec.questions),
        }
        for key, spec in library().items()
    ]
