from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.contacts.selectors import contacts_visible_to
from opencx.inbox.selectors import channels_visible_to
from opencx.insights import exports, facade
from opencx.insights.selectors import NpsCounts
from opencx.platform.errors import NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import touchpoints_of
from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import selectors
from .models import Question, Survey

PAGE_SIZE = 50
PERIOD_DAYS = 90


def headline_score(counts: selectors.HeadlineCounts):
    """The survey's headline Score (NPS, or % satisfied for CSAT/CES); None if it has none."""
    if not counts.has_headline:
        return None
    if counts.kind == Survey.Kind.NPS:
        return facade.nps_score(NpsCounts(counts.n, counts.promoters, counts.detractors))
    if counts.kind in (Survey.Kind.CSAT, Survey.Kind.CES):
        return facade.share_score(n=counts.n, satisfied=counts.satisfied)
    return None


@brand_page
@require_safe
def survey_list(request):
    actor, location = request.actor, request.current_location
    since = timezone.now() - timedelta(days=PERIOD_DAYS)
    page = Paginator(
        selectors.survey_list(actor, location=location, since=since), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    counts = selectors.survey_headline_counts(
        actor, surveys=list(page.object_list), location=location, since=since
    )
    rows = [(survey, headline_score(counts[survey.pk])) for survey in page.object_list]
    return page_or_partial(
        request,
        "surveys/survey_list.html",
        {"page": page, "rows": rows, "period_days": PERIOD_DAYS},
        partial="results",
    )


@brand_page
@require_safe
def survey_detail(request, pk):
    actor, location = request.actor, request.current_location
    survey = selectors.survey_get(actor, pk=pk)
    headline = selectors.headline_question(survey)
    since = timezone.now() - timedelta(days=PERIOD_DAYS)
    counts = selectors.survey_headline_counts(
        actor, surveys=[survey], location=location, since=since
    )[survey.pk]
    within = location_filter(request)
    band = request.GET.get("band", "")
    has_comment = {"yes": True, "no": False}.get(request.GET.get("comment", ""))
    responses = selectors.survey_responses(
        actor,
        survey=survey,
        location=location,
        within=within,
        band=band,
        has_comment=has_comment,
    )
    page = Paginator(responses, PAGE_SIZE).get_page(request.GET.get("page"))
    bands = (
        list(selectors.NPS_BANDS)
        if survey.kind == Survey.Kind.NPS
        else (list(selectors.SHARE_BANDS) if headline is not None else [])
    )
    return page_or_partial(
        request,
        "surveys/survey_detail.html",
        {
            "survey": survey,
            "questions": survey.questions.all(),
            "headline": headline,
            "score": headline_score(counts),
            "period_days": PERIOD_DAYS,
            "page": page,
            "bands": bands,
            "locations": location_choices(actor, location),
            "filters": {
                "location": within.pk if within else None,
                "band": band,
                "comment": request.GET.get("comment", ""),
            },
        },
        partial="results",
    )


# --- The responses table, its export and the response detail ---

RESPONSE_BANDS = [
    ("promoter", "Promoters (NPS 9–10)"),
    ("passive", "Passives (NPS 7–8)"),
    ("detractor", "Detractors (NPS 0–6)"),
    ("satisfied", "Satisfied (CSAT/CES)"),
    ("unsatisfied", "Not satisfied (CSAT/CES)"),
]
FILTER_PARAMS = (
    "survey",
    "location",
    "touchpoint",
    "channel",
    "language",
    "band",
    "status",
    "comment",
    "permission",
    "since",
    "until",
    "q",
)
MAX_ID = 2**31 - 1
EXPORT_CHUNK = 1000


def _id(raw: str) -> int | None:
    """A positive database id from the query string, or None (never an exception)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def _day(raw: str) -> date | None:
    """A date written YYYY-MM-DD (as <input type=date> sends it), or None."""
    if len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2999 else None


def _brand_zone(brand):
    try:
        return ZoneInfo(brand.timezone)
    except (ValueError, KeyError, OSError):
        return UTC


def _response_filters(request) -> tuple[selectors.ResponseFilters, dict]:
    """The table's filters from the query string; what cannot be understood is ignored.

    Returns the filters for the selector and the values the form shows back.
    """
    actor, params = request.actor, request.GET
    survey = None
    if (survey_id := _id(params.get("survey", ""))) is not None:
        try:
            survey = selectors.survey_get(actor, pk=survey_id)
        except NotFound:
            survey = None
    within = location_filter(request)
    language = params.get("language", "")
    language = language if language.isascii() and language.replace("-", "").isalnum() else ""
    language = language[:8]
    band = params.get("band", "")
    band = band if band in dict(RESPONSE_BANDS) else ""
    status = params.get("status", "")
    status = status if status in selectors.RESPONSE_STATUSES else ""
    comment = params.get("comment", "")
    comment = comment if comment in ("yes", "no") else ""
    permission = params.get("permission", "")
    permission = permission if permission in selectors.PERMISSION_FILTERS else ""
    since_day, until_day = _day(params.get("since", "")), _day(params.get("until", ""))
    zone = _brand_zone(actor.brand)
    q = " ".join(selectors.search_words(params.get("q", "")))
    filters = selectors.ResponseFilters(
        survey=survey,
        within=within,
        touchpoint_id=_id(params.get("touchpoint", "")),
        channel_id=_id(params.get("channel", "")),
        language=language,
        band=band,
        status=status,
        has_comment={"yes": True, "no": False}.get(comment),
        contact_permission=permission,
        since=datetime.combine(since_day, time.min, zone) if since_day else None,
        until=(
            datetime.combine(until_day + timedelta(days=1), time.min, zone) if until_day else None
        ),
        q=q,
    )
    shown = {
        "survey": survey.pk if survey else None,
        "location": within.pk if within else None,
        "touchpoint": filters.touchpoint_id,
        "channel": filters.channel_id,
        "language": language,
        "band": band,
        "status": status,
        "comment": comment,
        "permission": permission,
        "since": since_day.isoformat() if since_day else "",
        "until": until_day.isoformat() if until_day else "",
        "q": q,
    }
    return filters, shown


def _filter_query(shown: dict) -> str:
    """The filters as a query string, for the export links (no page, no export)."""
    query = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        value = shown.get(name)
        if value not in (None, ""):
            query[name] = str(value)
    return query.urlencode()


@brand_page
@require_safe
def response_list(request):
    """Every response in reach, across surveys: filters, search, pages and downloads."""
    actor, location = request.actor, request.current_location
    actor.require(Capability.VIEW)
    filters, shown = _response_filters(request)
    responses = selectors.response_table(actor, location=location, filters=filters)
    if request.GET.get("export"):
        table = _response_export_table(responses, survey=filters.survey)
        return exports.export_response(request, [table], page_name="responses")
    page = Paginator(responses, PAGE_SIZE).get_page(request.GET.get("page"))
    return page_or_partial(
        request,
        "surveys/responses/response_list.html",
        {
            "page": page,
            "filters": shown,
            "filtered": any(shown.get(name) not in (None, "") for name in FILTER_PARAMS),
            "export_query": _filter_query(shown),
            "surveys": selectors.surveys_visible_to(actor).order_by("-is_active", "name", "pk"),
            "locations": location_choices(actor, location),
            "touchpoints": touchpoints_of(actor).only("id", "name"),
            "channels": channels_visible_to(actor).only("id", "name", "kind"),
            "languages": selectors.response_languages(actor),
            "bands": RESPONSE_BANDS,
            "statuses": [("complete", "Complete"), ("partial", "Partial")],
            "permissions": [
                ("yes", "May be contacted"),
                ("no", "May not be contacted"),
                ("unasked", "Not asked"),
            ],
        },
        partial="results",
    )


EXPORT_HEADERS = [
    "Response id",
    "Answered at",
    "Updated at",
    "Completed at",
    "Status",
    "Survey",
    "Location",
    "Location code",
    "Touchpoint",
    "Channel",
    "Language",
    "Contact id",
    "Contact",
    "Permission to contact",
    "Review clicked at",
]


def _export_cells(response) -> list:
    return [
        response.pk,
        response.created_at,
        response.updated_at,
        response.completed_at,
        "partial" if response.is_partial else "complete",
        response.survey.name,
        response.location.name,
        response.location.code,
        response.touchpoint.name if response.touchpoint else "",
        response.channel.name if response.channel else "",
        response.language,
        response.contact_id,
        response.contact.name if response.contact else "",
        response.contact_permission,
        response.review_clicked_at,
    ]


def _answer_cell(question: Question, answer, fallback: str):
    """An answer as a spreadsheet cell: a number for scores, words for the rest."""
    if answer is None:
        return None
    if question.kind == Question.Kind.CONSENT:
        return bool(answer.score)
    if question.is_scaled:
        return answer.score
    return selectors.answer_words(question, answer, language=fallback, fallback=fallback)


def _response_export_table(responses, *, survey: Survey | None) -> exports.Table:
    """One row per response, streamed in chunks: with a survey chosen, a column per question
    (its text in the survey's default language); otherwise the headline score and comment."""
    if survey is None:
        rows = (
            [*_export_cells(r), r.score, r.comment]
            for r in responses.iterator(chunk_size=EXPORT_CHUNK)
        )
        return exports.Table(
            name="responses",
            title="Responses",
            headers=[*EXPORT_HEADERS, "Score", "Comment"],
            rows=rows,
        )
    questions = list(survey.questions.all())
    fallback = survey.default_language

    def rows():
        for response in responses.prefetch_related("answers").iterator(chunk_size=EXPORT_CHUNK):
            given = {answer.question_id: answer for answer in response.answers.all()}
            yield [
                *_export_cells(response),
                *(_answer_cell(q, given.get(q.pk), fallback) for q in questions),
            ]

    return exports.Table(
        name=f"responses-{survey.slug}",
        title=survey.name,
        headers=[*EXPORT_HEADERS, *(q.text_in(fallback, fallback) or q.key for q in questions)],
        rows=rows(),
    )


@brand_page
@require_safe
def response_detail(request, pk):
    """One response: every question in order with its answer, where it came from, who gave it."""
    actor = request.actor
    actor.require(Capability.VIEW)
    response = selectors.response_get(actor, pk=pk)
    contact = response.contact
    contact_visible = (
        contact is not None and contacts_visible_to(actor).filter(pk=contact.pk).exists()
    )
    identities = list(contact.identities.all()) if contact is not None else []
    return render(
        request,
        "surveys/responses/response_detail.html",
        {
            "response": response,
            "survey": response.survey,
            "rows": selectors.response_answer_rows(response),
            "contact": contact,
            "contact_visible": contact_visible,
            "emails": [i.value for i in identities if i.kind == "email"],
            "phones": [i.value for i in identities if i.kind == "phone"],
        },
    )
