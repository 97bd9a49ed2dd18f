"""Writes of surveys and responses. `response_record` is the one write path for a new response."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.insights.services import rollups_add
from opencx.platform.errors import AppError
from opencx.platform.events import emit
from opencx.platform.models import Channel, Location, Touchpoint

from .models import Answer, Question, Response, Survey

# Used when a scaled question does not store its own bounds.
DEFAULT_SCALES = {Question.Kind.NPS: (0, 10)}

RESPONSE_RECORDED = "response.recorded"


def _field(question_id: int) -> str:
    return f"answers.{question_id}"


def _scale(question: Question) -> tuple[int, int] | None:
    low, high = question.scale_min, question.scale_max
    if low is None or high is None:
        return DEFAULT_SCALES.get(question.kind)
    return low, high


def _clean_answer(question: Question, value) -> int | str:
    """A score within the question's scale, or the text of an open question."""
    field = _field(question.pk)
    if question.kind == Question.Kind.TEXT:
        if not isinstance(value, str):
            raise AppError("An open question takes text.", field=field)
        return value.strip()
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


def _check_same_brand(survey: Survey, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and obj.brand_id != survey.brand_id:
            raise AppError(f"That {name} belongs to another brand.", field=name)


def response_record(
    *,
    survey: Survey,
    location: Location,
    answers: dict[int, int | str],
    language: str,
    touchpoint: Touchpoint | None = None,
    channel: Channel | None = None,
    contact: Contact | None = None,
    created_at: datetime | None = None,
    is_partial: bool = False,
) -> Response:
    """Record a response and its answers, and add its scores to the rollups, atomically.

    `answers` maps question id to a score (scaled questions, checked against the question's
    scale) or a text (open questions; blank ones are not stored). A complete response needs
    every required question. Respondents are not members of the brand, so there is no actor:
    the callers (hosted survey pages, importers, the API) decide who may submit. The headline
    score (first question of the survey's kind) and the first open answer are copied onto the
    response. Emits `response.recorded` (response_id, brand_id) once the transaction commits.
    """
    _check_same_brand(
        survey, location=location, touchpoint=touchpoint, channel=channel, contact=contact
    )
    if not language:
        raise AppError("The response's language is required.", field="language")
    questions = {question.pk: question for question in survey.questions.order_by("position", "pk")}
    unknown = [key for key in answers if key not in questions]
    if unknown:
        raise AppError(f"Question {unknown[0]} is not in this survey.", field=_field(unknown[0]))
    cleaned: dict[int, int | str] = {}
    for question_id, value in answers.items():
        clean = _clean_answer(questions[question_id], value)
        if clean != "":
            cleaned[question_id] = clean
    if not is_partial:
        for question in questions.values():
            if question.required and question.pk not in cleaned:
                raise AppError("This question needs an answer.", field=_field(question.pk))
    if not cleaned:
        raise AppError("A response needs at least one answer.", field="answers")
    headline = next((q for q in questions.values() if q.kind == survey.kind), None)
    comment = next(
        (cleaned[q.pk] for q in questions.values() if q.kind == "text" and q.pk in cleaned), ""
    )
    moment = created_at or timezone.now()
    with transaction.atomic():
        response = Response.objects.create(
            brand_id=survey.brand_id,
            survey=survey,
            location=location,
            touchpoint=touchpoint,
            channel=channel,
            contact=contact,
            language=language,
            created_at=moment,
            completed_at=None if is_partial else moment,
            is_partial=is_partial,
            score=cleaned.get(headline.pk) if headline is not None else None,
            comment=comment,
        )
        Answer.objects.bulk_create(
            [
                Answer(
                    response=response,
                    question_id=question_id,
                    score=value if isinstance(value, int) else None,
                    text=value if isinstance(value, str) else "",
                )
                for question_id, value in cleaned.items()
            ]
        )
        rollups_add(
            response=response,
            scored=[
                (questions[question_id], value)
                for question_id, value in cleaned.items()
                if isinstance(value, int)
            ],
        )
        emit(RESPONSE_RECORDED, response_id=response.pk, brand_id=survey.brand_id)
    return response
