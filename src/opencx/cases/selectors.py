"""Reads for the closed loop. Until cases exist: the candidates that would open them."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, QuerySet, Value

from opencx.feedback.models import FeedbackItem
from opencx.feedback.selectors import feedback_visible_to, unhappy_reviews
from opencx.platform.actor import Actor
from opencx.platform.models import Location
from opencx.surveys.models import Response
from opencx.surveys.selectors import detractor_responses, responses_visible_to

RESPONSE = "response"
REVIEW = "review"


@dataclass(frozen=True)
class Candidate:
    """Something that deserves a follow-up: a detractor's response or an unhappy review."""

    kind: str  # RESPONSE or REVIEW
    at: datetime
    response: Response | None = None
    review: FeedbackItem | None = None

    @property
    def location(self) -> Location | None:
        return (self.response or self.review).location


def follow_up_candidate_keys(
    actor: Actor, *, location: Location | None, detractors_since: datetime
) -> QuerySet:
    """(pk, kind, at) rows of both sources in one newest-first query, ready to paginate."""
    responses = (
        detractor_responses(actor, location=location, since=detractors_since)
        .annotate(source_kind=Value(RESPONSE, output_field=CharField()))
        .values_list("pk", "source_kind", "created_at")
        .order_by()
    )
    reviews = (
        unhappy_reviews(actor, location=location)
        .annotate(source_kind=Value(REVIEW, output_field=CharField()))
        .values_list("pk", "source_kind", "occurred_at")
        .order_by()
    )
    return responses.union(reviews, all=True).order_by("-created_at", "-pk")


def follow_up_candidates(actor: Actor, *, keys) -> list[Candidate]:
    """Turn a page of keys into candidates with their related rows, in two queries at most."""
    keys = list(keys)
    response_ids = [pk for pk, kind, _ in keys if kind == RESPONSE]
    review_ids = [pk for pk, kind, _ in keys if kind == REVIEW]
    responses = (
        responses_visible_to(actor)
        .select_related("survey", "location", "contact")
        .in_bulk(response_ids)
        if response_ids
        else {}
    )
    reviews = (
        feedback_visible_to(actor).select_related("location").in_bulk(review_ids)
        if review_ids
        else {}
    )
    candidates = []
    for pk, kind, at in keys:
        if kind == RESPONSE and pk in responses:
            candidates.append(Candidate(kind=kind, at=at, response=responses[pk]))
        elif kind == REVIEW and pk in reviews:
            candidates.append(Candidate(kind=kind, at=at, review=reviews[pk]))
    return candidates
