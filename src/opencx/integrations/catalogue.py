"""The public events: what an outside system (Zapier, n8n, a Slack channel) may subscribe to.

Each entry names the internal events it comes from (`opencx.platform.events`), what it means,
how its payload is built from the ids the internal event carries, and the one line a chat
channel shows. A builder returns None when there is nothing to deliver (the object is gone, or
the response is still partial). Add an event here and it is delivered, listed in the UI and in
`GET /api/v1/brands/{slug}/webhook-events`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

PING = "ping"


@dataclass(frozen=True)
class PublicEvent:
    name: str
    description: str
    sources: tuple[str, ...]
    build: Callable[..., dict | None]
    summary: Callable[[dict], str]
    link: Callable[[str, dict], str | None]


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- responses --------------------------------------------------------------------------------


def response_payload(*, response_id: int) -> dict | None:
    """A survey response as webhooks send it; None if there is no such response."""
    from opencx.contacts.models import Identity
    from opencx.surveys.models import Answer, Response

    response = (
        Response.objects.select_related("survey", "location", "touchpoint", "channel", "contact")
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        return None
    answers = {}
    for answer in Answer.objects.filter(response=response).select_related("question"):
        question = answer.question
        if answer.score is not None:
            value = answer.score
        elif answer.choices:
            value = answer.choices
        else:
            value = answer.text
        answers[question.key] = value
    contact = None
    if response.contact is not None:
        email = (
            Identity.objects.filter(contact=response.contact, kind=Identity.Kind.EMAIL)
            .order_by("-is_primary", "pk")
            .values_list("value", flat=True)
            .first()
        )
        contact = {"id": response.contact.pk, "email": email or None}
    survey, location = response.survey, response.location
    return {
        "id": response.pk,
        "survey": {"id": survey.pk, "slug": survey.slug, "name": survey.name, "kind": survey.kind},
        "location": {"id": location.pk, "code": location.code, "name": location.name},
        "touchpoint": response.touchpoint.key if response.touchpoint else None,
        "channel": response.channel.name if response.channel else None,
        "language": response.language,
        "score": response.score,
        "comment": response.comment,
        "answers": answers,
        "contact": contact,
        "is_partial": response.is_partial,
        "created_at": _iso(response.created_at),
        "completed_at": _iso(response.completed_at),
    }


def _complete_response(*, response_id: int, **_) -> dict | None:
    payload = response_payload(response_id=response_id)
    return None if payload is None or payload["is_partial"] else payload


def _response_summary(data: dict) -> str:
    kind = (data.get("survey") or {}).get("kind", "").upper()
    score = data.get("score")
    scored = f" {kind} {score}" if score is not None else ""
    where = (data.get("location") or {}).get("name", "")
    line = f"New{scored} response at {where} ({(data.get('survey') or {}).get('name', '')})"
    comment = (data.get("comment") or "").strip()
    if comment:
        short = comment if len(comment) <= 140 else comment[:139] + "…"
        line += f": “{short}”"
    return line


def _response_link(brand_slug: str, data: dict) -> str | None:
    return _path("surveys:response-detail", brand_slug, data.get("id"))


# --- cases ------------------------------------------------------------------------------------


def _case(*, case_id: int, **extra) -> dict | None:
    from opencx.cases.selectors import case_payload  # written by the cases app

    payload = case_payload(case_id=case_id)
    if payload is None:
        return None
    if extra.get("change"):
        payload = {**payload, "change": extra["change"]}
    return payload


def _case_summary(verb: str) -> Callable[[dict], str]:
    def summary(data: dict) -> str:
        title = data.get("title") or data.get("subject") or ""
        number = data.get("number") or data.get("id")
        line = f"Case #{number} {verb}"
        if data.get("change"):
            line += f" ({data['change']})"
        return f"{line}: {title}" if title else line

    return summary


def _case_link(brand_slug: str, data: dict) -> str | None:
    if data.get("url"):
        return data["url"]
    return _path("cases:detail", brand_slug, data.get("id")) or _path("cases:list", brand_slug)


# --- alerts (brand monitoring: opencx.insights.alerts) ---------------------------------------


def _passthrough(**kwargs) -> dict:
    return {key: value for key, value in kwargs.items() if key != "brand_id"}


def _alert(*, alert_id: int, **_) -> dict | None:
    from opencx.insights.alerts import alert_payload  # written by the insights app

    return alert_payload(alert_id=alert_id)


def _alert_summary(data: dict) -> str:
    return f"Alert raised: {data.get('title') or data.get('alert_id')}"


def _no_link(brand_slug: str, data: dict) -> str | None:
    return data.get("url")


def _path(name: str, brand_slug: str, *args) -> str | None:
    """The absolute link of a page of the app, or None if there is no such page (yet)."""
    from opencx.surveys.flows import public_url

    if any(arg is None for arg in args):
        return None
    try:
        return public_url(reverse(name, args=[brand_slug, *args]))
    except NoReverseMatch:
        return None


def _ping_summary(data: dict) -> str:
    return "OpenCX test event: this channel is connected."


CATALOGUE: dict[str, PublicEvent] = {
    event.name: event
    for event in (
        PublicEvent(
            "response.received",
            "A survey response was completed (recorded complete, or a partial one finished).",
            ("response.completed",),
            _complete_response,
            _response_summary,
            _response_link,
        ),
        PublicEvent(
            "case.opened",
            "A closed-loop case was opened.",
            ("case.opened",),
            _case,
            _case_summary("opened"),
            _case_link,
        ),
        PublicEvent(
            "case.changed",
            "A case changed (`data.change` says what: status, owner, priority, ...).",
            ("case.changed",),
            _case,
            _case_summary("changed"),
            _case_link,
        ),
        PublicEvent(
            "case.closed",
            "A case was closed.",
            ("case.closed",),
            _case,
            _case_summary("closed"),
            _case_link,
        ),
        PublicEvent(
            "case.escalated",
            "A case was escalated.",
            ("case.escalated",),
            _case,
            _case_summary("escalated"),
            _case_link,
        ),
        PublicEvent(
            "alert.raised",
            "An alert was raised (negative share up, rating down, a watched keyword).",
            ("alert.raised",),
            _alert,
            _alert_summary,
            _no_link,
        ),
    )
}

# The test event: sent on request to one endpoint, never fanned out.
PING_EVENT = PublicEvent(
    PING,
    "A test event sent from the settings page or the API.",
    (),
    _passthrough,
    _ping_summary,
    _no_link,
)


def public_event(name: str) -> PublicEvent | None:
    return PING_EVENT if name == PING else CATALOGUE.get(name)


def public_event_names() -> list[str]:
    return list(CATALOGUE)
