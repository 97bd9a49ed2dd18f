"""Reads of surveys and their responses, always scoped to an actor (and the chosen location)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from opencx.contacts.models import Identity
from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter

from .models import Answer, Question, Response, Survey, SurveyLink

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


# --- The responses table (across surveys), its search and the response detail ---

RESPONSE_STATUSES = ("complete", "partial")
SHARE_KINDS = (Survey.Kind.CSAT, Survey.Kind.CES)
PERMISSION_FILTERS = ("yes", "no", "unasked")
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 8


@dataclass(frozen=True)
class ResponseFilters:
    """What the responses table is narrowed to; an empty field does not narrow.

    `band` is promoter/passive/detractor (NPS surveys) or satisfied/unsatisfied (CSAT/CES
    surveys, by each one's headline satisfied set); `status` complete/partial;
    `contact_permission` yes/no/unasked; `since` includes and `until` excludes.
    """

    survey: Survey | None = None
    within: Location | None = None
    touchpoint_id: int | None = None
    channel_id: int | None = None
    language: str = ""
    band: str = ""
    status: str = ""
    has_comment: bool | None = None
    contact_permission: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""


def response_table(
    actor: Actor, *, location: Location | None, filters: ResponseFilters
) -> QuerySet[Response]:
    """Responses across surveys in the actor's reach and `location`'s subtree, filtered and
    searched (see `response_search`), newest first, with what a table row shows joined."""
    qs = responses_visible_to(actor, location=location)
    f = filters
    if f.survey is not None:
        qs = qs.filter(survey=f.survey)
    if f.within is not None:
        qs = qs.filter(location__path__startswith=f.within.path)
    if f.touchpoint_id is not None:
        qs = qs.filter(touchpoint_id=f.touchpoint_id)
    if f.channel_id is not None:
        qs = qs.filter(channel_id=f.channel_id)
    if f.language:
        qs = qs.filter(language=f.language)
    if f.band in NPS_BANDS:
        low, high = NPS_BANDS[f.band]
        qs = qs.filter(survey__kind=Survey.Kind.NPS, score__gte=low, score__lte=high)
    elif f.band in SHARE_BANDS:
        satisfied = _satisfied_condition(actor, survey=f.survey)
        share = qs.filter(survey__kind__in=SHARE_KINDS, score__isnull=False)
        qs = share.filter(satisfied) if f.band == "satisfied" else share.exclude(satisfied)
    if f.status == "complete":
        qs = qs.filter(is_partial=False)
    elif f.status == "partial":
        qs = qs.filter(is_partial=True)
    if f.has_comment is True:
        qs = qs.exclude(comment="")
    elif f.has_comment is False:
        qs = qs.filter(comment="")
    if f.contact_permission == "yes":
        qs = qs.filter(contact_permission=True)
    elif f.contact_permission == "no":
        qs = qs.filter(contact_permission=False)
    elif f.contact_permission == "unasked":
        qs = qs.filter(contact_permission__isnull=True)
    if f.since is not None:
        qs = qs.filter(created_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(created_at__lt=f.until)
    if f.q:
        qs = response_search(qs, q=f.q)
    return qs.select_related("survey", "location", "touchpoint", "channel", "contact").order_by(
        "-created_at", "-pk"
    )


def _satisfied_condition(actor: Actor, *, survey: Survey | None) -> Q:
    """Q for a satisfied headline answer: each CSAT/CES survey's own stored satisfied set."""
    questions = (
        Question.objects.filter(survey__brand=actor.brand, survey__kind__in=SHARE_KINDS)
        .filter(kind=F("survey__kind"))
        .order_by("survey_id", "position", "pk")
        .values_list("survey_id", "satisfied_values")
    )
    if survey is not None:
        questions = questions.filter(survey=survey)
    sets: dict[int, list[int]] = {}
    for survey_id, values in questions:
        sets.setdefault(survey_id, [v for v in values or () if isinstance(v, int)])
    condition = Q(pk__in=[])  # no satisfied set anywhere: nobody is satisfied
    for survey_id, values in sets.items():
        condition |= Q(survey_id=survey_id, score__in=sorted(values))
    return condition


def search_words(q: str) -> list[str]:
    """The words of a search box: NUL characters dropped, at most SEARCH_MAX_WORDS words."""
    text = q.replace("\x00", "")[:SEARCH_MAX_CHARS]
    return text.split()[:SEARCH_MAX_WORDS]


def response_search(qs: QuerySet[Response], *, q: str) -> QuerySet[Response]:
    """Responses of `qs` whose comment, open-text answers or contact (name, e-mail, phone)
    contain every word of `q`, ignoring case; the one place search is decided.

    The same contains-search on every database: PostgreSQL's per-language full-text search
    computed on the fly measured ~4 s on 200,000 responses against ~0.4 s for this, and an
    index for it would be PostgreSQL-only. SQLite folds only ASCII case, so there a non-ASCII
    word is also tried lower-case, upper-case and capitalised.
    """
    words = [word.strip('"') for word in search_words(q)]
    words = [word for word in words if word]
    if not words:
        return qs
    fold_by_hand = connections[qs.db].vendor == "sqlite"
    condition = Q()
    for word in words:
        variants = (
            {word, word.lower(), word.upper(), word.title()}
            if fold_by_hand and not word.isascii()
            else {word}
        )
        matches = Q()
        for variant in sorted(variants):
            answer = Answer.objects.filter(response=OuterRef("pk"), text__icontains=variant)
            identity = Identity.objects.filter(
                contact=OuterRef("contact_id"), value__icontains=variant
            )
            matches |= (
                Q(comment__icontains=variant)
                | Q(contact__name__icontains=variant)
                | Exists(answer)
                | Exists(identity)
            )
        condition &= matches
    return qs.filter(condition)


def response_get(actor: Actor, *, pk: int) -> Response:
    """One response in the actor's reach, with its survey's questions and its answers, its
    contact's identities and where it came from; another brand's or another store's is 404."""
    response = (
        responses_visible_to(actor)
        .select_related(
            "survey",
            "location",
            "touchpoint",
            "channel",
            "contact",
            "link__location",
            "link__touchpoint",
            "link__channel",
            "invitation",
        )
        .prefetch_related(
            Prefetch("survey__questions", queryset=Question.objects.order_by("position", "pk")),
            "answers",
            Prefetch(
                "contact__identities",
                queryset=Identity.objects.order_by("-is_primary", "kind", "value"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise NotFound("No such response.", field="response")
    return response


@dataclass(frozen=True)
class AnswerRow:
    """One question of a response's survey as the detail page shows it, in the response's
    language (the survey's default where not translated)."""

    question: Question
    text: str
    answered: bool
    text_language: str = ""  # the language `text` is in (for the page's lang attribute)
    value: str = ""  # the answer as words: a score (with its label), the text, the options
    score: int | None = None


def response_answer_rows(response: Response) -> list[AnswerRow]:
    """Every question of the response's survey in order, with the answer given (if any)."""
    survey = response.survey
    language, fallback = response.language or survey.default_language, survey.default_language
    answers = {answer.question_id: answer for answer in response.answers.all()}
    rows = []
    for question in survey.questions.all():
        text = question.text_in(language, fallback)
        texts = question.text or {}
        text_language = next(
            (code for code in (language, fallback, *texts) if texts.get(code) == text), ""
        )
        answer = answers.get(question.pk)
        if answer is None:
            rows.append(
                AnswerRow(question=question, text=text, text_language=text_language, answered=False)
            )
            continue
        rows.append(
            AnswerRow(
                question=question,
                text=text,
                text_language=text_language,
                answered=True,
                value=answer_words(question, answer, language=language, fallback=fallback),
                score=answer.score if question.is_scaled else None,
            )
        )
    return rows


def _label(labels, language: str, fallback: str) -> str:
    if not isinstance(labels, dict):
        return str(labels or "")
    return labels.get(language) or labels.get(fallback) or next(iter(labels.values()), "")


def answer_words(question: Question, answer: Answer, *, language: str, fallback: str) -> str:
    """An answer as a reader sees it: "9", "4 · Satisfied", the text, "Price; Staff", "Yes"."""
    if question.kind == Question.Kind.TEXT:
        return answer.text
    if question.kind == Question.Kind.CONSENT:
        return "Yes" if answer.score else "No"
    if question.kind in Question.CHOICE_KINDS:
        labels = {
            option.get("value"): _label(option.get("label"), language, fallback)
            for option in question.options or ()
            if isinstance(option, dict)
        }
        return "; ".join(labels.get(value) or str(value) for value in answer.choices or ())
    if answer.score is None:
        return ""
    label = _label((question.scale_labels or {}).get(str(answer.score)), language, fallback)
    return f"{answer.score} · {label}" if label else str(answer.score)


def response_languages(actor: Actor) -> list[str]:
    """Languages offered by the table's filter: the brand's and those its surveys are in."""
    codes = set(actor.brand.languages or ()) | {actor.brand.default_language}
    for default, others in surveys_visible_to(actor).values_list("default_language", "languages"):
        codes.add(default)
        codes.update(code for code in others or () if isinstance(code, str))
    return sorted(code for code in codes if code)


def survey_links(actor: Actor, *, survey: Survey) -> QuerySet[SurveyLink]:
    """The survey's public links at locations within the actor's reach."""
    return (
        SurveyLink.objects.filter(survey=survey)
        .filter(scope_filter(actor))
        .select_related("location", "touchpoint", "channel")
        .order_by("location__path", "touchpoint__position", "channel__name", "pk")
    )


def answered_question_keys(survey: Survey) -> set[str]:
    """Keys of the survey's questions that have answers: their meaning is locked.

    A fact about the definition, not about any response, so it is not location-scoped.
    """
    return set(
        Answer.objects.filter(question__survey=survey)
        .values_list("question__key", flat=True)
        .distinct()
    )
