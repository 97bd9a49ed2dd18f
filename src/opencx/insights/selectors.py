"""Reads behind the Overview: additive counts, scoped to the actor and the chosen location."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from opencx.platform.actor import Actor
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter
from opencx.surveys.models import Question, Response


@dataclass(frozen=True)
class NpsCounts:
    n: int
    promoters: int
    detractors: int


def _responses(actor: Actor, location: Location | None, since: datetime | None = None):
    qs = Response.objects.filter(scope_filter(actor), score__isnull=False)
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs


_NPS_COUNTS = {
    "n": Count("id"),
    "promoters": Count("id", filter=Q(score__gte=9)),
    "detractors": Count("id", filter=Q(score__lte=6)),
}


def nps_counts(
    actor: Actor, *, location: Location | None, since: datetime, until: datetime | None = None
) -> NpsCounts:
    qs = _responses(actor, location, since).filter(survey__kind="nps")
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return NpsCounts(**qs.aggregate(**_NPS_COUNTS))


def nps_counts_by_month(actor: Actor, *, location: Location | None, since: datetime):
    rows = (
        _responses(actor, location, since)
        .filter(survey__kind="nps")
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**_NPS_COUNTS)
        .order_by("month")
    )
    return [
        (row["month"], NpsCounts(row["n"], row["promoters"], row["detractors"])) for row in rows
    ]


def nps_counts_by_location(actor: Actor, *, location: Location | None, since: datetime):
    rows = (
        _responses(actor, location, since)
        .filter(survey__kind="nps")
        .values("location_id", "location__name", "location__country")
        .annotate(**_NPS_COUNTS)
        .order_by("location__name")
    )
    return [
        (
            row["location_id"],
            row["location__name"],
            row["location__country"],
            NpsCounts(row["n"], row["promoters"], row["detractors"]),
        )
        for row in rows
    ]


def satisfied_counts(
    actor: Actor, *, kind: str, location: Location | None, since: datetime
) -> tuple[int, int]:
    """(n, satisfied) for CSAT or CES surveys, using each question's stored satisfied set."""
    n = satisfied = 0
    headline_questions = Question.objects.filter(
        survey__brand=actor.brand, survey__kind=kind, kind=kind
    ).values("survey_id", "satisfied_values")
    for question in headline_questions:
        rows = _responses(actor, location, since).filter(survey_id=question["survey_id"])
        counts = rows.aggregate(
            n=Count("id"), ok=Count("id", filter=Q(score__in=question["satisfied_values"]))
        )
        n += counts["n"]
        satisfied += counts["ok"]
    return n, satisfied
