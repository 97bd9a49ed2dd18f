from datetime import date

from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from opencx.insights import exports
from opencx.insights.text_analysis import shown_text, text_settings_of, topic_names
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import selectors
from .models import FeedbackItem

PAGE_SIZE = 50
EXPORT_CHUNK = 1000
STAR_CHOICES = (5, 4, 3, 2, 1)
SENTIMENT_CHOICES = (
    ("negative", "Negative"),
    ("neutral", "Neutral"),
    ("positive", "Positive"),
    (selectors.NOT_ANALYSED, "Not analysed yet"),
)
NPS_BAND_CHOICES = (("promoter", "Promoters (9–10)"), ("passive", "Passives (7–8)"),
                    ("detractor", "Detractors (0–6)"))  # fmt: skip
# The query parameters of the list's filters, in the order links carry them.
FILTER_PARAMS = (
    "q", "kind", "source", "rating", "location", "language", "sentiment", "topic", "nps",
    "from", "to",
)  # fmt: skip


def _date_param(request, name):
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


def star_glyphs(stars: float | None) -> str:
    """ "★★★★☆" for a rating brought to five stars, rounded half up; "" when unrated."""
    if stars is None:
        return ""
    full = max(0, min(5, int(stars + 0.5)))
    return "★" * full + "☆" * (5 - full)


def _list_filters(request, *, topics: dict[str, str]) -> dict:
    """The list's filters as read from the query string; unknown values are ignored."""
    params = request.GET
    within = location_filter(request)
    kind = params.get("kind", "")
    stars = params.get("rating", "")
    sentiment = params.get("sentiment", "")
    topic = params.get("topic", "")
    nps_band = params.get("nps", "")
    return {
        "location": within.pk if within else None,
        "within": within,
        "kind": kind if kind in FeedbackItem.Kind.values else "",
        "source": params.get("source", "").strip(),
        "rating": int(stars) if stars.isdigit() and int(stars) in STAR_CHOICES else None,
        "q": params.get("q", "").strip(),
        "date_from": _date_param(request, "from"),
        "date_to": _date_param(request, "to"),
        "language": params.get("language", "").strip()[:8],
        "sentiment": sentiment if sentiment in dict(SENTIMENT_CHOICES) else "",
        "topic": topic if topic in topics or topic == selectors.NO_TOPIC else "",
        "nps": nps_band if nps_band in selectors.NPS_BANDS else "",
    }


def _filter_query(filters: dict) -> str:
    """The filters as a query string, for the export links (no page, no export)."""
    values = {
        **filters,
        "rating": filters["rating"] or "",
        "from": filters["date_from"].isoformat() if filters["date_from"] else "",
        "to": filters["date_to"].isoformat() if filters["date_to"] else "",
    }
    query = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        if values.get(name) not in (None, ""):
            query[name] = str(values[name])
    return query.urlencode()


def _redacted(settings, item: FeedbackItem) -> FeedbackItem:
    """Give the item what may be shown of its author, title, text and keyphrases."""
    item.shown_author = shown_text(settings, item.author)
    item.shown_title = shown_text(settings, item.title)
    item.shown_text = shown_text(settings, item.text)
    item.shown_keyphrases = [shown_text(settings, phrase) for phrase in item.keyphrases or []]
    # str(item) names the author: the page title uses this instead.
    item.shown_label = f"{item.get_kind_display()} from {item.shown_author or 'anonymous'}"
    return item


def _survey_score(item: FeedbackItem) -> int | None:
    """A survey comment's NPS (0–10), when it answers an NPS survey."""
    response = item.response if item.response_id else None
    if response is None or response.survey.kind != "nps":
        return None
    return response.score


EXPORT_HEADERS = [
    "Feedback id", "Occurred at", "Kind", "Source", "Location", "Location code", "Author",
    "Rating", "Rating scale", "Stars (of 5)", "NPS score", "Language", "Sentiment",
    "Sentiment score", "Topics", "Keyphrases", "Analysed at", "Title", "Text", "URL",
]  # fmt: skip


def _export_table(items, *, settings, names: dict[str, str]) -> exports.Table:
    """One row per item of the filtered list, streamed in chunks, redacted like the page."""

    def rows():
        for item in items.prefetch_related("topic_rows").iterator(chunk_size=EXPORT_CHUNK):
            _redacted(settings, item)
            topics = [names.get(row.topic, row.topic) for row in item.topic_rows.all()]
            yield [
                item.pk,
                item.occurred_at,
                item.get_kind_display(),
                item.source,
                item.location.name if item.location else "",
                item.location.code if item.location else "",
                item.shown_author,
                None if item.rating is None else float(item.rating),
                item.rating_scale,
                None if item.stars is None else round(item.stars, 2),
                _survey_score(item),
                item.language,
                item.sentiment,
                item.sentiment_score,
                "; ".join(topics),
                "; ".join(item.shown_keyphrases),
                item.analysed_at,
                item.shown_title,
                item.shown_text,
                item.url,
            ]

    return exports.Table(name="feedback", title="Feedback", headers=EXPORT_HEADERS, rows=rows())


@brand_page
@require_safe
def feedback_list(request):
    actor, location = request.actor, request.current_location
    actor.require(Capability.VIEW)
    settings = text_settings_of(actor.brand)
    names = topic_names(settings)
    filters = _list_filters(request, topics=names)
    items = selectors.feedback_list(
        actor,
        location=location,
        within=filters["within"],
        kind=filters["kind"],
        source=filters["source"],
        stars=filters["rating"],
        q=filters["q"],
        date_from=filters["date_from"],
        date_to=filters["date_to"],
        language=filters["language"],
        sentiment=filters["sentiment"],
        topic=filters["topic"],
        nps_band=filters["nps"],
    )
    if request.GET.get("export"):
        table = _export_table(items, settings=settings, names=names)
        return exports.export_response(request, [table], page_name="feedback")
    page = Paginator(items.prefetch_related("topic_rows"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    for item in page.object_list:
        item.star_glyphs = star_glyphs(item.stars)
        item.survey_score = _survey_score(item)
        item.topic_chips = [
            (row.topic, names.get(row.topic, row.topic)) for row in item.topic_rows.all()
        ]
        _redacted(settings, item)
    return page_or_partial(
        request,
        "feedback/feedback_list.html",
        {
            "page": page,
            "filters": filters,
            "export_query": _filter_query(filters),
            "kinds": FeedbackItem.Kind.choices,
            "sources": selectors.feedback_sources(actor),
            "languages": selectors.feedback_languages(actor),
            "sentiments": SENTIMENT_CHOICES,
            "topics": list(names.items()),
            "no_topic": selectors.NO_TOPIC,
            "nps_bands": NPS_BAND_CHOICES,
            "star_choices": STAR_CHOICES,
            "locations": location_choices(actor, location),
            "redacted": settings.redact_pii,
            "can_import": actor.is_brand_wide and actor.can(Capability.MANAGE_FEEDBACK),
        },
        partial="results",
    )


@brand_page
@require_safe
def feedback_detail(request, pk):
    item = selectors.feedback_get(request.actor, pk=pk)
    item.star_glyphs = star_glyphs(item.stars)
    _redacted(text_settings_of(request.actor.brand), item)
    return render(request, "feedback/feedback_detail.html", {"item": item})
