"""Reads of personal invitations, always scoped to an actor (by the invitation's location)."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from opencx.platform.actor import Actor
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter

from .models import Invitation, Survey


@dataclass(frozen=True)
class InvitationCounts:
    """How a survey's invitations fared. `sent` counts every invitation handed to the mail
    server or SMS provider (answered ones too), so opened/sent and responded/sent are rates."""

    total: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    opened: int = 0
    reminded: int = 0
    responded: int = 0
    skipped: int = 0
    skipped_by_reason: tuple[tuple[str, int], ...] = ()


def invitations_visible_to(
    actor: Actor, *, location: Location | None = None
) -> QuerySet[Invitation]:
    """Invitations at locations the actor may see, narrowed to `location`'s subtree if given."""
    qs = Invitation.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def survey_invitations(
    actor: Actor, *, survey: Survey, location: Location | None = None, status: str = ""
) -> QuerySet[Invitation]:
    """A survey's invitations in scope, newest first; `status` keeps one status."""
    qs = invitations_visible_to(actor, location=location).filter(survey=survey)
    if status in Invitation.Status.values:
        qs = qs.filter(status=status)
    return qs.select_related("contact", "location").order_by("-created_at", "-pk")


def invitation_counts(
    actor: Actor, *, survey: Survey, location: Location | None = None
) -> InvitationCounts:
    qs = invitations_visible_to(actor, location=location).filter(survey=survey).order_by()
    status = Invitation.Status
    figures = qs.aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status=status.QUEUED)),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        failed=Count("pk", filter=Q(status=status.FAILED)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        reminded=Count("pk", filter=Q(reminded_at__isnull=False)),
        responded=Count("pk", filter=Q(status=status.RESPONDED)),
        skipped=Count("pk", filter=Q(status=status.SKIPPED)),
    )
    reasons = (
        qs.filter(status=status.SKIPPED)
        .values("skip_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "skip_reason")
    )
    return InvitationCounts(
        **figures,
        skipped_by_reason=tuple((row["skip_reason"] or "—", row["n"]) for row in reasons),
    )
