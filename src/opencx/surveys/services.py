"""Writes of surveys and responses. `response_record` is the one write path for a new response."""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from opencx.contacts.models import Contact, Identity
from opencx.insights.services import rollups_add, rollups_remove
from opencx.platform.actor import Actor
from opencx.platform.db import write_turn
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.events import emit
from opencx.platform.models import Channel, Location, Touchpoint
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from .definitions import SurveySpec, library, slug_for
from .models import (
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
    SurveyLink,
    SurveyOptOut,
    SurveyPolicy,
)
from .selectors import answered_question_keys

# Used when a scaled question does not store its own bounds.
DEFAULT_SCALES = {Question.Kind.NPS: (0, 10)}

# A response became complete: recorded complete at once, or a partial one finished. Partial
# responses (the first page of a hosted survey) emit nothing: nothing reacts to them, and the
# busiest path of the product then pays no query after its commit.
RESPONSE_COMPLETED = "response.completed"
# A partial response was given up on (responses_abandon_stale): what acts on a customer's
# score without waiting for the rest (the closed loop's case rules) subscribes here too.
RESPONSE_ABANDONED = "response.abandoned"
# A complete response with a comment (after RESPONSE_COMPLETED): what reads comments subscribes
# here, so that the many answers without one cost nothing more.
RESPONSE_COMMENTED = "response.commented"
INVITATION_QUEUED = "invitation.queued"
INVITATION_SALT = "opencx.surveys.invitation"
DEFAULT_FATIGUE_DAYS = 30


def _field(question_id: int) -> str:
    return f"answers.{question_id}"


def _scale(question: Question) -> tuple[int, int] | None:
    low, high = question.scale_min, question.scale_max
    if low is None or high is None:
        return DEFAULT_SCALES.get(question.kind)
    return low, high


MAX_TEXT_ANSWER = 5000


def _clean_answer(question: Question, value) -> int | str | list[str] | bool:
    """A score within the question's scale, the text of an open question, the chosen option
    value(s) of a choice question, or True/False for permission to contact."""
    field = _field(question.pk)
    if question.kind == Question.Kind.TEXT:
        if not isinstance(value, str):
            raise AppError("An open question takes text.", field=field)
        text = strip_tags(value).strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise AppError(f"An answer is at most {MAX_TEXT_ANSWER} characters.", field=field)
        return text
    if question.kind == Question.Kind.CONSENT:
        if not isinstance(value, bool):
            raise AppError("Permission to contact is yes or no.", field=field)
        return value
    if question.kind in Question.CHOICE_KINDS:
        chosen = [value] if isinstance(value, str) else value
        allowed = [option["value"] for option in question.options]
        if not isinstance(chosen, list) or not all(isinstance(v, str) for v in chosen):
            raise AppError("Choose from the question's options.", field=field)
        unknown = [v for v in chosen if v not in allowed]
        if unknown:
            raise AppError(f"{unknown[0]!r} is not one of this question's options.", field=field)
        if question.kind == Question.Kind.SINGLE and len(chosen) > 1:
            raise AppError("Choose one option.", field=field)
        return [v for v in allowed if v in chosen]  # the options' order, no repeats
    scale = _scale(question)
    if scale is None:
        raise AppError(f"Question {question.pk} has no scale to score against.", field=field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AppError(
            f"A score must be a whole number from {scale[0]} to {scale[1]}.", field=field
        )
    if not scale[0] <= value <= scale[1]:
        raise AppError(
            f"The score must be from {scale[0]} to {scale[1]}, not {value}.", field=field
        )
    return value


def is_shown(question: Question, scores: dict[str, int]) -> bool:
    """Whether a question is asked, given the scores so far by question key (branching)."""
    rule = question.show_if or {}
    if not rule:
        return True
    score = scores.get(rule.get("question", ""))
    return score is not None and rule.get("min", score) <= score <= rule.get("max", score)


def _is_empty(value) -> bool:
    return value == "" or value == []


def _answer_row(response: Response, question_id: int, value) -> Answer:
    return Answer(
        response=response,
        question_id=question_id,
        score=int(value) if isinstance(value, int) else None,  # consent: 1 yes, 0 no
        text=value if isinstance(value, str) else "",
        choices=value if isinstance(value, list) else [],
    )


def _headline_fields(survey: Survey, questions: dict[int, Question], answers: dict) -> dict:
    """The response's denormalised copies: headline score, first comment, permission."""
    headline = next((q for q in questions.values() if q.kind == survey.kind), None)
    comment = next(
        (answers[q.pk] for q in questions.values() if q.kind == "text" and q.pk in answers), ""
    )
    consent = next(
        (answers[q.pk] for q in questions.values() if q.kind == "consent" and q.pk in answers),
        None,
    )
    return {
        "score": answers.get(headline.pk) if headline is not None else None,
        "comment": comment,
        "contact_permission": consent,
    }


def _check_same_brand(survey: Survey, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and obj.brand_id != survey.brand_id:
            raise AppError(f"That {name} belongs to another brand.", field=name)


def ordered_questions(survey: Survey) -> list[Question]:
    """The survey's questions by position, from a prefetch ordered that way when present."""
    if "questions" in getattr(survey, "_prefetched_objects_cache", {}):
        return sorted(survey.questions.all(), key=lambda q: (q.position, q.pk))
    return list(survey.questions.order_by("position", "pk"))


def _cleaned_answers(questions: dict[int, Question], answers: dict) -> dict[int, object]:
    unknown = [key for key in answers if key not in questions]
    if unknown:
        raise AppError(f"Question {unknown[0]} is not in this survey.", field=_field(unknown[0]))
    cleaned = {}
    for question_id, value in answers.items():
        clean = _clean_answer(questions[question_id], value)
        if not _is_empty(clean):
            cleaned[question_id] = clean
    return cleaned


def scores_by_key(questions: Iterable[Question], answers: dict) -> dict[str, int]:
    """The scores among `answers` (question id → value), by question key: what branching reads."""
    return {q.key: answers[q.pk] for q in questions if q.is_scaled and q.pk in answers}


def _check_complete(questions: dict[int, Question], answers: dict) -> None:
    scores = scores_by_key(questions.values(), answers)
    for question in questions.values():
        if question.required and question.pk not in answers and is_shown(question, scores):
            raise AppError("This question needs an answer.", field=_field(question.pk))


def _drop_hidden(questions: dict[int, Question], answers: dict) -> dict:
    """Answers to questions the branching no longer shows are not kept."""
    scores = scores_by_key(questions.values(), answers)
    return {qid: value for qid, value in answers.items() if is_shown(questions[qid], scores)}


def _scored(questions: dict[int, Question], answers: dict) -> list[tuple[Question, int]]:
    return [(questions[qid], value) for qid, value in answers.items() if questions[qid].is_scaled]


def quota_reached(survey: Survey) -> bool:
    """Whether the survey has as many complete responses as its quota asks for."""
    return (
        survey.quota is not None
        and Response.objects.filter(survey=survey, is_partial=False).count() >= survey.quota
    )


def _check_quota(survey: Survey) -> None:
    if quota_reached(survey):
        raise Conflict("This survey has all the responses it needs.", field="survey")


def response_record(
    *,
    survey: Survey,
    location: Location,
    answers: dict[int, object],
    language: str,
    touchpoint: Touchpoint | None = None,
    channel: Channel | None = None,
    contact: Contact | None = None,
    created_at: datetime | None = None,
    is_partial: bool = False,
    link: SurveyLink | None = None,
    invitation: Invitation | None = None,
) -> Response:
    """Record a response and its answers, and add its scores to the rollups, atomically.

    `answers` maps question id to a score (scaled questions, checked against the question's
    scale), a text (open questions; HTML is stripped, blank ones are not stored), the chosen
    option value(s) (choice questions) or True/False (permission to contact). Answers to
    questions that the branching hides are dropped. A complete response needs every required
    question that is shown. Respondents are not members of the brand, so there is no actor: the
    callers (hosted pages, importers, the API) decide who may submit. The headline score (first
    question of the survey's kind), the first open answer and the permission to contact are
    copied onto the response. One response per invitation (the database enforces it). A
    complete response emits `response.completed` (response_id, brand_id) once the transaction
    commits; a partial one emits it when `response_update` completes it.
    """
    _check_same_brand(
        survey, location=location, touchpoint=touchpoint, channel=channel, contact=contact
    )
    if not language:
        raise AppError("The response's language is required.", field="language")
    questions = {question.pk: question for question in ordered_questions(survey)}
    cleaned = _drop_hidden(questions, _cleaned_answers(questions, answers))
    if not is_partial:
        _check_complete(questions, cleaned)
    if not cleaned:
        raise AppError("A response needs at least one answer.", field="answers")
    _check_quota(survey)
    moment = created_at or timezone.now()
    try:
        with write_turn(), transaction.atomic():
            response = Response.objects.create(
                brand_id=survey.brand_id,
                survey=survey,
                location=location,
                touchpoint=touchpoint,
                channel=channel,
                contact=contact,
                language=language,
                created_at=moment,
                updated_at=moment,
                completed_at=None if is_partial else moment,
                is_partial=is_partial,
                link=link,
                invitation=invitation,
                **_headline_fields(survey, questions, cleaned),
            )
            Answer.objects.bulk_create(
                [_answer_row(response, qid, value) for qid, value in cleaned.items()]
            )
            rollups_add(response=response, scored=_scored(questions, cleaned))
            if invitation is not None:
                Invitation.objects.filter(pk=invitation.pk).update(
                    status=Invitation.Status.RESPONDED, responded_at=moment
                )
            if not is_partial:
                emit(RESPONSE_COMPLETED, response_id=response.pk, brand_id=survey.brand_id)
                if response.comment.strip():
                    emit(RESPONSE_COMMENTED, response_id=response.pk, brand_id=survey.brand_id)
    except IntegrityError as error:
        if invitation is not None:
            raise Conflict(
                "This invitation has already been answered.", field="invitation"
            ) from error
        raise
    return response


def responses_abandon_stale(*, now: datetime | None = None) -> int:
    """Mark the partial responses nobody added to for SURVEY_ABANDON_MINUTES as abandoned and
    emit `response.abandoned` for each, once: a detractor who gave the score and left before the
    comment is followed up like one who finished. How many were marked; 0 when the setting is 0.
    Safe to run at any time, beside respondents finishing theirs: one finished meanwhile is not
    marked."""
    minutes = settings.SURVEY_ABANDON_MINUTES
    if minutes <= 0:
        return 0
    now = now or timezone.now()
    stale = Response.objects.filter(
        is_partial=True, abandoned_at__isnull=True, updated_at__lt=now - timedelta(minutes=minutes)
    )
    marked = 0
    for response_id, brand_id in stale.values_list("pk", "brand_id").order_by("updated_at"):
        with transaction.atomic():
            # Conditional, so a respondent finishing it at this moment wins, and a second run
            # beside this one marks nothing twice.
            if stale.filter(pk=response_id).update(abandoned_at=now):
                emit(RESPONSE_ABANDONED, response_id=response_id, brand_id=brand_id)
                marked += 1
    return marked


def response_update(*, response: Response, answers: dict[int, object], complete: bool) -> Response:
    """Add or change answers on a partial response, keeping the rollups exact; `complete`
    checks the required questions and marks the response complete.

    Used by the hosted page as the respondent goes: the score saved on the first step stays a
    (partial) response even if the rest is abandoned. A complete response is final. A changed
    score leaves the rollups as if only the new one had ever been given.
    """
    with write_turn(), transaction.atomic():
        response = (
            Response.objects.select_for_update()
            .select_related("survey", "location")
            .get(pk=response.pk)
        )
        if not response.is_partial:
            raise Conflict("This response is complete and can no longer change.", field="response")
        survey = response.survey
        questions = {q.pk: q for q in survey.questions.order_by("position", "pk")}
        before = stored_answers(response, questions.values())
        merged = {**before, **_cleaned_answers(questions, answers)}
        for qid, value in answers.items():
            if _is_empty(value) or (isinstance(value, str) and not strip_tags(value).strip()):
                merged.pop(qid, None)  # a cleared answer is removed
        merged = _drop_hidden(questions, merged)
        if complete:
            _check_complete(questions, merged)
        if not merged:
            raise AppError("A response needs at least one answer.", field="answers")
        if complete:
            _check_quota(survey)
        changed_ids = {
            qid for qid in set(before) | set(merged) if before.get(qid) != merged.get(qid)
        }
        rollups_remove(
            response=response,
            scored=_scored(questions, {q: before[q] for q in changed_ids if q in before}),
        )
        rollups_add(
            response=response,
            scored=_scored(questions, {q: merged[q] for q in changed_ids if q in merged}),
        )
        response.answers.filter(question_id__in=changed_ids).delete()
        Answer.objects.bulk_create(
            [_answer_row(response, qid, merged[qid]) for qid in changed_ids if qid in merged]
        )
        moment = timezone.now()
        for name, value in _headline_fields(survey, questions, merged).items():
            setattr(response, name, value)
        response.updated_at = moment
        if complete:
            response.is_partial = False
            response.completed_at = moment
        response.save()
        if complete:
            emit(RESPONSE_COMPLETED, response_id=response.pk, brand_id=survey.brand_id)
            if response.comment.strip():
                emit(RESPONSE_COMMENTED, response_id=response.pk, brand_id=survey.brand_id)
    return response


def stored_answers(response: Response, questions: Iterable[Question]) -> dict[int, object]:
    """The response's answers as question id → value, in the shapes `response_update` takes."""
    by_id = {question.pk: question for question in questions}
    return {
        answer.question_id: answer_value(by_id[answer.question_id], answer)
        for answer in response.answers.all()
        if answer.question_id in by_id
    }


def answer_value(question: Question, answer: Answer):
    if question.kind == Question.Kind.TEXT:
        return answer.text
    if question.kind in Question.CHOICE_KINDS:
        return list(answer.choices)
    if question.kind == Question.Kind.CONSENT:
        return bool(answer.score)
    return answer.score


def invitation_opened(*, invitation: Invitation) -> None:
    """The invitee opened the survey from the link (the first time is kept)."""
    Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def response_review_clicked(*, response: Response) -> None:
    """A promoter followed the invitation to review the location publicly (first click kept)."""
    Response.objects.filter(pk=response.pk, review_clicked_at__isnull=True).update(
        review_clicked_at=timezone.now()
    )


# --- Definitions ---

QUESTION_FIELDS = ("kind", "scale_min", "scale_max", "polarity", "satisfied_values", "options")


def survey_import(*, actor: Actor, spec: SurveySpec) -> Survey:
    """Create the survey `spec.slug` or bring it in line with `spec` (import = upsert by slug).

    Questions are matched by key. A question that already has answers keeps its meaning: its
    kind, scale, direction, satisfied set and options cannot change, and it cannot be removed
    (the rollups and every past score depend on them) — make a new question instead.
    """
    actor.require(Capability.MANAGE_FEEDBACK)
    touchpoint = None
    if spec.touchpoint:
        touchpoint = Touchpoint.objects.filter(brand=actor.brand, key=spec.touchpoint).first()
        if touchpoint is None:
            raise AppError(f"No touchpoint with key {spec.touchpoint!r}.", field="touchpoint")
    fields = {
        "name": spec.name,
        "kind": spec.kind,
        "touchpoint": touchpoint,
        "default_language": spec.default_language,
        "languages": spec.languages,
        "intro": spec.intro,
        "thank_you": spec.thank_you,
        "invitation_subject": spec.invitation.subject,
        "invitation_body": spec.invitation.body,
        "sms_body": spec.invitation.sms,
        "review_invite_min": spec.review_invite_min,
        "reminder_days": spec.reminder_days,
        "quota": spec.quota,
        "is_active": spec.is_active,
    }
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update().filter(brand=actor.brand, slug=spec.slug).first()
        )
        action = "survey.update" if survey else "survey.create"
        if survey is None:
            survey = Survey(brand=actor.brand, slug=spec.slug)
            try:
                with transaction.atomic():
                    survey.save()
            except IntegrityError as error:  # another import created the slug a moment ago
                raise Conflict(
                    f"A survey with slug {spec.slug!r} was just created; import again to update.",
                    field="slug",
                ) from error
        existing = {question.key: question for question in survey.questions.all()}
        answered = answered_question_keys(survey)
        wanted = {question.key for question in spec.questions}
        for key in sorted(set(existing) - wanted):
            if key in answered:
                raise Conflict(
                    f"Question {key!r} has answers and cannot be removed; set it aside in a new "
                    "survey version instead.",
                    field=f"questions.{key}",
                )
            existing[key].delete()
        for position, item in enumerate(spec.questions):
            values = {
                "position": position,
                "kind": item.kind,
                "text": item.text,
                "required": item.required,
                "scale_min": item.scale[0] if item.scale else None,
                "scale_max": item.scale[1] if item.scale else None,
                "polarity": item.polarity or Question.Polarity.HIGHER_IS_BETTER,
                "satisfied_values": item.satisfied or [],
                "scale_labels": item.scale_labels,
                "options": [option.model_dump() for option in item.options],
                "show_if": item.show_if.model_dump() if item.show_if else {},
            }
            question = existing.get(item.key)
            if question is None:
                Question.objects.create(survey=survey, key=item.key, **values)
                continue
            if item.key in answered:
                changed = [f for f in QUESTION_FIELDS if getattr(question, f) != values[f]]
                if changed:
                    raise Conflict(
                        f"Question {item.key!r} has answers, so its {changed[0]} cannot change.",
                        field=f"questions.{item.key}.{changed[0]}",
                    )
            for name, value in values.items():
                setattr(question, name, value)
            question.save()
        _save_survey_audited(actor=actor, survey=survey, fields=fields, action=action)
    return survey


def _save_survey_audited(*, actor: Actor, survey: Survey, fields: dict, action: str) -> None:
    for name, value in fields.items():
        setattr(survey, name, value)
    survey.save()
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action=action,
        obj=survey,
        summary=survey.name,
        changes={"slug": survey.slug},
    )


def survey_create_from_template(*, actor: Actor, template: str, name: str = "") -> Survey:
    """A new survey from a shipped template, under a slug that is free in the brand."""
    specs = library()
    if template not in specs:
        raise AppError(f"No template {template!r}.", field="template")
    spec = specs[template]
    name = name.strip() or spec.name
    base = slug_for(name)
    taken = set(Survey.objects.filter(brand=actor.brand).values_list("slug", flat=True))
    slug = base
    counter = 2
    while slug in taken:
        slug = f"{base}-{counter}"
        counter += 1
    spec = spec.model_copy(update={"slug": slug, "name": name, "touchpoint": None})
    survey = survey_import(actor=actor, spec=spec)
    Survey.objects.filter(pk=survey.pk).update(template=template)
    survey.template = template
    return survey


# --- Distribution ---


def link_ensure(
    *,
    actor: Actor,
    survey: Survey,
    location: Location,
    touchpoint: Touchpoint | None = None,
    channel: Channel | None = None,
) -> SurveyLink:
    """The public link for this survey × location × touchpoint × channel (made once)."""
    actor.require(Capability.MANAGE_FEEDBACK)
    _check_same_brand(survey, location=location, touchpoint=touchpoint, channel=channel)
    if survey.brand_id != actor.brand.pk or not actor.covers(location):
        raise NotFound("No such location.", field="location")
    placement = {
        "survey": survey,
        "location": location,
        "touchpoint": touchpoint,
        "channel": channel,
    }
    link = SurveyLink.objects.filter(**placement).first()
    if link is not None:
        return link
    try:
        with transaction.atomic():
            return SurveyLink.objects.create(
                brand_id=survey.brand_id, token=secrets.token_urlsafe(16), **placement
            )
    except IntegrityError:
        return SurveyLink.objects.get(**placement)


def invitation_token(invitation: Invitation) -> str:
    """The signed token in an invitation's link; a guessed or altered one is refused."""
    return signing.dumps(invitation.nonce, salt=INVITATION_SALT, compress=False)


def invitation_from_token(token: str) -> Invitation:
    try:
        nonce = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature as error:
        raise NotFound("This invitation link is not valid.", field="token") from error
    invitation = (
        Invitation.objects.select_related("survey", "location", "contact", "touchpoint", "channel")
        .filter(nonce=nonce)
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.", field="token")
    return invitation


def _fatigue_reason(contact: Contact, *, now: datetime) -> str:
    """Why this contact must not be asked now, or '' if they may be."""
    if SurveyOptOut.objects.filter(contact=contact).exists():
        return "unsubscribed from surveys"
    policy = SurveyPolicy.objects.filter(brand_id=contact.brand_id).first()
    days = policy.fatigue_days if policy else DEFAULT_FATIGUE_DAYS
    if (
        days
        and Invitation.objects.filter(
            # An invitation queued in the window is about to be sent: it counts too.
            Q(sent_at__gte=now - timedelta(days=days))
            | Q(status=Invitation.Status.QUEUED, created_at__gte=now - timedelta(days=days)),
            contact=contact,
        ).exists()
    ):
        return f"already invited in the last {days} days"
    return ""


def invitation_create(
    *,
    actor: Actor,
    survey: Survey,
    contact: Contact,
    location: Location,
    via: str,
    touchpoint: Touchpoint | None = None,
    channel: Channel | None = None,
) -> Invitation:
    """Queue a personal invitation, or record why it was skipped (fatigue, opt-out, consent,
    no address, quota). Sending happens after commit (`invitation.queued`)."""
    actor.require(Capability.MANAGE_FEEDBACK)
    _check_same_brand(
        survey, location=location, touchpoint=touchpoint, channel=channel, contact=contact
    )
    if not actor.covers(location):
        raise NotFound("No such location.", field="location")
    return _invitation_queue(
        survey=survey,
        contact=contact,
        location=location,
        via=via,
        touchpoint=touchpoint,
        channel=channel,
        follow_up=False,
    )


def invitation_create_follow_up(
    *, survey: Survey, contact: Contact, location: Location, via: str = "email"
) -> Invitation:
    """Queue the short re-survey that closes a case: the customer was promised a follow-up, so
    the fatigue window does not apply; opt-out, consent and quota still do. A system write
    (the case's resolution triggers it), hence no actor."""
    _check_same_brand(survey, location=location, contact=contact)
    return _invitation_queue(
        survey=survey,
        contact=contact,
        location=location,
        via=via,
        touchpoint=None,
        channel=None,
        follow_up=True,
    )


def _invitation_queue(
    *,
    survey: Survey,
    contact: Contact,
    location: Location,
    via: str,
    touchpoint: Touchpoint | None,
    channel: Channel | None,
    follow_up: bool,
) -> Invitation:
    if via not in Invitation.Via.values:
        raise AppError("Invite by e-mail or SMS.", field="via")
    kind = Identity.Kind.EMAIL if via == Invitation.Via.EMAIL else Identity.Kind.PHONE
    identity = contact.identities.filter(kind=kind).order_by("-is_primary", "pk").first()
    consented = contact.consent_email if via == Invitation.Via.EMAIL else contact.consent_sms
    now = timezone.now()
    language = contact.language if contact.language in survey.all_languages else ""
    if identity is None:
        reason = "no address for this channel"
    elif not consented:
        reason = "no consent for this channel"
    elif follow_up:
        opted_out = SurveyOptOut.objects.filter(contact=contact).exists()
        reason = "unsubscribed from surveys" if opted_out else ""
    else:
        reason = _fatigue_reason(contact, now=now)
    if not reason and quota_reached(survey):
        reason = "the survey's quota is reached"
    if not reason and not survey.is_active:
        reason = "the survey is not active"
    with transaction.atomic():
        invitation = Invitation.objects.create(
            brand_id=survey.brand_id,
            survey=survey,
            contact=contact,
            location=location,
            touchpoint=touchpoint,
            channel=channel,
            via=via,
            address=identity.value if identity else "",
            language=language or survey.default_language,
            nonce=secrets.token_urlsafe(18),
            status=Invitation.Status.SKIPPED if reason else Invitation.Status.QUEUED,
            skip_reason=reason,
        )
        if not reason:
            emit(INVITATION_QUEUED, invitation_id=invitation.pk)
    return invitation


def survey_opt_out(*, contact: Contact) -> None:
    """The contact unsubscribed (from an invitation's link): no more survey invitations."""
    SurveyOptOut.objects.get_or_create(contact=contact, defaults={"brand_id": contact.brand_id})


def invitation_create_after_service(
    *,
    survey: Survey,
    contact: Contact,
    location: Location,
    via: str = "email",
    channel: Channel | None = None,
) -> Invitation:
    """Queue the satisfaction survey that follows a service (a support conversation resolved).
    A system write, hence no actor; every rule of a personal invitation applies (fatigue,
    opt-out, consent, quota), and a skipped one records why."""
    _check_same_brand(survey, location=location, channel=channel, contact=contact)
    return _invitation_queue(
        survey=survey,
        contact=contact,
        location=location,
        via=via,
        touchpoint=survey.touchpoint,
        channel=channel,
        follow_up=False,
    )
