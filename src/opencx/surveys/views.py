from datetime import timedelta

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.insights import facade
from opencx.insights.selectors import NpsCounts
from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import selectors
from .models import Survey

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
