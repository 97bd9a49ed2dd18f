"""API routes for unsolicited feedback: reviews, mentions, tickets, e-mails, chats."""

from ninja import Router

from opencx.api.errors import READ_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of
from opencx.platform.selectors import location_get

from . import selectors
from .schemas import FeedbackItemOut, FeedbackKind

router = Router(tags=["feedback"])


@router.get("/brands/{slug}/feedback-items", response={200: list[FeedbackItemOut], **READ_ERRORS})
@paginate(LimitOffset)
def feedback_item_list(
    request,
    slug: str,
    kind: FeedbackKind | None = None,
    source: str = "",
    location: int | None = None,
):
    """Feedback in the caller's reach, newest first; `location` keeps that subtree."""
    actor = actor_of(request, slug)
    within = location_get(actor, pk=location) if location is not None else None
    return selectors.feedback_list(
        actor, location=None, within=within, kind=kind.value if kind else "", source=source
    )
