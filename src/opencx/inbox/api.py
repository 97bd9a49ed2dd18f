"""API routes for the inbox: conversations and their threads."""

from ninja import Router

from opencx.api.errors import READ_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of

from . import selectors
from .schemas import ConversationDetailOut, ConversationOut, ConversationStatus

router = Router(tags=["inbox"])


@router.get("/brands/{slug}/conversations", response={200: list[ConversationOut], **READ_ERRORS})
@paginate(LimitOffset)
def conversation_list(request, slug: str, status: ConversationStatus | None = None):
    """Conversations in the caller's reach; waiting ones longest-waiting first."""
    actor = actor_of(request, slug)
    return selectors.conversation_list(
        actor, location=None, status=status.value if status else "all"
    )


@router.get(
    "/brands/{slug}/conversations/{conversation_id}",
    response={200: ConversationDetailOut, **READ_ERRORS},
)
def conversation_detail(request, slug: str, conversation_id: int):
    """One conversation with every message, private notes included (flagged `is_private`)."""
    return selectors.conversation_get(actor_of(request, slug), pk=conversation_id)
