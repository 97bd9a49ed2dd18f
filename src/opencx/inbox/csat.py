"""The satisfaction survey after a conversation is resolved (the surveys capability).

Which survey: the brand's active CSAT survey (kind "csat") at the "support" touchpoint, the
oldest if several; a brand without one sends nothing. The invitation goes by e-mail when the
customer has an address, else by SMS, through `surveys.services.invitation_create_after_service`,
so the brand's fatigue window, opt-outs, consent and quota apply (a skipped invitation is kept
with its reason). One invitation per conversation: reopening and resolving again sends no
second one.
"""

from django.db import transaction

from opencx.contacts.models import Identity
from opencx.surveys.models import Invitation, Survey
from opencx.surveys.services import invitation_create_after_service

from .models import Conversation

SUPPORT_TOUCHPOINT = "support"


def csat_survey_for(brand_id: int) -> Survey | None:
    return (
        Survey.objects.filter(
            brand_id=brand_id,
            kind=Survey.Kind.CSAT,
            is_active=True,
            touchpoint__key=SUPPORT_TOUCHPOINT,
        )
        .order_by("created_at", "pk")
        .first()
    )


def conversation_send_csat(*, conversation_id: int) -> Invitation | None:
    """Invite the customer of a resolved conversation to the CSAT survey (a system write, safe
    to repeat); None when there is nothing to send."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "location", "channel")
            .filter(pk=conversation_id)
            .first()
        )
        if (
            conversation is None
            or conversation.status != Conversation.Status.RESOLVED
            or conversation.csat_invitation_id is not None
            or conversation.contact is None
        ):
            return None
        survey = csat_survey_for(conversation.brand_id)
        if survey is None:
            return None
        kinds = set(conversation.contact.identities.values_list("kind", flat=True))
        via = (
            Invitation.Via.SMS
            if Identity.Kind.EMAIL not in kinds and Identity.Kind.PHONE in kinds
            else Invitation.Via.EMAIL
        )
        invitation = invitation_create_after_service(
            survey=survey,
            contact=conversation.contact,
            location=conversation.location,
            via=via,
            channel=conversation.channel,
        )
        Conversation.objects.filter(pk=conversation.pk).update(csat_invitation=invitation)
    return invitation
