"""API routes for contacts: a searchable list and one contact with its identities."""

from ninja import Router

from opencx.api.errors import READ_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of

from . import selectors
from .schemas import ContactDetailOut, ContactOut

router = Router(tags=["contacts"])


@router.get("/brands/{slug}/contacts", response={200: list[ContactOut], **READ_ERRORS})
@paginate(LimitOffset)
def contact_list(request, slug: str, q: str = ""):
    """Contacts in the caller's reach, by name; `q` matches a name or an identity value."""
    return selectors.contacts_matching(actor_of(request, slug), q=q)


@router.get("/brands/{slug}/contacts/{contact_id}", response={200: ContactDetailOut, **READ_ERRORS})
def contact_detail(request, slug: str, contact_id: int):
    return selectors.contact_with_identities(actor_of(request, slug), pk=contact_id)
