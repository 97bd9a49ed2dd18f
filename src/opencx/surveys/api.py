"""API routes for surveys and responses."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Router

from opencx.api.errors import READ_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of
from opencx.platform.selectors import location_get

from . import selectors
from .schemas import ResponseOut, SurveyOut

router = Router(tags=["surveys"])


def _aware(moment: datetime | None, zone: str) -> datetime | None:
    """A date or time without an offset is read in the brand's time zone."""
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, ZoneInfo(zone))


@router.get("/brands/{slug}/surveys", response={200: list[SurveyOut], **READ_ERRORS})
@paginate(LimitOffset)
def survey_list(request, slug: str):
    """Survey definitions are brand-level: every member sees them (but only their responses)."""
    return selectors.survey_index(actor_of(request, slug))


@router.get("/brands/{slug}/responses", response={200: list[ResponseOut], **READ_ERRORS})
@paginate(LimitOffset)
def response_list(
    request,
    slug: str,
    survey: int | None = None,
    location: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Responses in the caller's reach, newest first.

    `location` keeps that location's subtree (404 if out of reach); `since` is inclusive and
    `until` exclusive; a date or time without an offset is in the brand's time zone.
    """
    actor = actor_of(request, slug)
    since, until = _aware(since, actor.brand.timezone), _aware(until, actor.brand.timezone)
    place = location_get(actor, pk=location) if location is not None else None
    return selectors.response_index(
        actor, survey_id=survey, location=place, since=since, until=until
    )
