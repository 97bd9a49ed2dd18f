"""Reads of surveys and their responses, always scoped to an actor (and the chosen location)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter

from .models import Question, Response, Survey, SurveyLink

# NPS bands on the 0–10 scale (the standard: detractors 0–6, passives 7–8, promoters 9–10).
NPS_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
# For CSAT/CES the band is decided by the headline question's stored satisfied set.
SHARE_BANDS = ("satisfied", "unsatisfied")


@dataclass(frozen=True)
class HeadlineCounts:
    """Additive counts behind a survey's headline score (NPS, or % satisfied for CSAT/CES)."""

    kind: str
    n: int = 0
    promoters: int = 0
    detractors: int = 0
    satisfied: int = 0
    has_headline: bool = False  # False: no headline question, so no score can be computed


def responses_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet[Response]:
    """Responses of the brand the actor may see, narrowed to `location`'s subtree if given."""
    qs = Response.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def surveys_visible_to(actor: Actor) -> QuerySet[Survey]:
    """Survey definitions are brand-level: every member sees them, but only their responses."""
    return Survey.objects.filter(brand=actor.brand)


def survey_list(actor: Actor, *, location: Location | None, since: datetime) -> QuerySet[Survey]:
    """Surveys with `question_count` and `recent_responses` (in scope, since `since`)."""
    question_count = (
        Question.objects.filter(survey=OuterRef("pk"))
        .order_by()
        .values("survey")
        .annotate(c=Count("id"))
        .values("c")
    )
    recent = (
        responses_visible_to(actor, location=location)
        .filter(survey=OuterRef("pk"), created_at__gte=since)
        .order_by()
        .values("survey")
        .annotate(c=Count("id"))
        .values("c")
    )
    return (
        surveys_visible_to(actor)
        .select_related("touchpoint")
        .annotate(
            question_count=Coalesce(Subquery(question_count, output_field=IntegerField()), 0),
            recent_responses=Coalesce(Subquery(recent, output_field=IntegerField()), 0),
        )
        .order_by("-is_active", "name", "pk")
    )


def headline_question(survey: Survey) -> Question | None:
    """The question whose answer is the survey's headline score: the first of the survey's kind.

    Uses prefetched questions when present (see `survey_get`).
    """
    for question in survey.questions.all():
        if question.kind == survey.kind:
            return question
    return None


def survey_headline_counts(
    actor: Actor, *, surveys: list[Survey], location: Location | None, since: datetime
) -> dict[int, HeadlineCounts]:
    """Counts for each survey's headline score, in two queries whatever the number of surveys.

    NPS uses the 0–10 bands; CSAT and CES use each headline question's stored satisfied set,
    never an assumed scale.
    """
    ids = [survey.pk for survey in surveys]
    kinds = {survey.pk: survey.kind for survey in surveys}
    satisfied_sets: dict[int, set[int]] = {}
    for question in (
        Question.objects.filter(survey_id__in=ids)
        .order_by("survey_id", "position", "pk")
        .values("survey_id", "kind", "satisfied_values")
    ):
        survey_id = question["survey_id"]
        if question["kind"] == kinds[survey_id] and survey_id not in satisfied_sets:
            satisfied_sets[survey_id] = set(question["satisfied_values"] or [])
    distribution: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = (
        responses_visible_to(actor, location=location)
        .filter(survey_id__in=ids, created_at__gte=since, score__isnull=False)
        .order_by()
        .values("survey_id", "score")
        .annotate(n=Count("id"))
    )
    for row in rows:
        distribution[row["survey_id"]].append((row["score"], row["n"]))
    result = {}
    for survey_id in ids:
        kind = kinds[survey_id]
        has_headline = survey_id in satisfied_sets
        pairs = distribution.get(survey_id, []) if has_headline else []
        satisfied_set = satisfied_sets.get(survey_id, set())
        result[survey_id] = HeadlineCounts(
            kind=kind,
            n=sum(n for _, n in pairs),
            promoters=sum(n for score, n in pairs if score >= 9),
            detractors=sum(n for score, n in pairs if score <= 6),
            satisfied=sum(n for score, n in pairs if score in satisfied_set),
            has_headline=has_headline,
        )
    return result


def survey_get(actor: Actor, *, pk: int) -> Survey:
    """One survey of the actor's brand with its questions prefetched; another brand's is 404."""
    survey = (
        surveys_visible_to(actor)
        .select_related("touchpoint")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .filter(pk=pk)
        .first()
    )
    if survey is None:
        raise NotFound("No such survey.", field="survey")
    return survey


def survey_responses(
    actor: Actor,
    *,
    survey: Survey,
    location: Location | None,
    within: Location | None = None,
    band: str = "",
    has_comment: bool | None = None,
) -> QuerySet[Response]:
    """Responses to `survey`, newest first, in scope, in `location`'s and `within`'s subtrees.

    `band` is promoter/passive/detractor (NPS) or satisfied/unsatisfied (by the headline
    question's satisfied set); an unknown band is ignored.
    """
    qs = responses_visible_to(actor, location=location).filter(survey=survey)
    if within is not None:
        qs = qs.filter(location__path__startswith=within.path)
    if band in NPS_BANDS:
        low, high = NPS_BANDS[band]
        qs = qs.filter(score__gte=low, score__lte=high)
    elif band in SHARE_BANDS:
        question = headline_question(survey)
        satisfied = list(question.satisfied_values) if question else []
        in_set = Q(score__in=satisfied)
        qs = (
            qs.filter(in_set)
            if band == "satisfied"
            else qs.filter(score__isnull=False).exclude(in_set)
        )
    if has_comment is True:
        qs = qs.exclude(comment="")
    elif has_comment is False:
        qs = qs.filter(comment="")
    return qs.select_related("location", "contact", "channel").order_by("-created_at", "-pk")


def detractor_responses(
    actor: Actor, *, location: Location | None, since: datetime
) -> QuerySet[Response]:
    """NPS detractors (0–6) with a comment since `since`, newest first: follow-up candidates."""
    return (
        responses_visible_to(actor, location=location)
        .filter(survey__kind=Survey.Kind.NPS, score__lte=6, created_at__gte=since)
        .exclude(comment="")
        .order_by("-created_at", "-pk")
    )


# --- API selectors ---


def survey_index(actor: Actor) -> QuerySet[Survey]:
    """Every survey of the actor's brand, active first, then by name (a stable order)."""
    return (
        surveys_visible_to(actor).select_related("touchpoint").order_by("-is_active", "name", "pk")
    )


def response_index(
    actor: Actor,
    *,
    survey_id: int | None = None,
    location: Location | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Response]:
    """Responses in scope, newest first; `location` keeps its subtree, `until` is exclusive."""
    qs = responses_visible_to(actor, location=location)
    if survey_id is not None:
        qs = qs.filter(survey_id=survey_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-pk")


def survey_links(actor: Actor, *, survey: Survey) -> QuerySet[SurveyLink]:
    """The survey's public links at locations within the actor's reach."""
    return (
        SurveyLink.objects.filter(survey=survey)
        .filter(scope_filter(actor))
        .select_related("location", "touchpoint", "channel")
        .order_by("location__path", "touchpoint__position", "channel__name", "pk")
    )
