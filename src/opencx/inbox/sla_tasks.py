"""Background tasks of service levels and CSAT (django-tasks): ids in, safe to run twice."""

from django_tasks import task

from . import csat, sla_flows


@task()
def notify_sla_breach(conversation_id: int, target: str) -> list[str]:
    return sla_flows.sla_breach_notify(conversation_id=conversation_id, target=target)


@task()
def send_csat(conversation_id: int) -> int | None:
    """The CSAT invitation of a resolved conversation (none twice); its id or None."""
    invitation = csat.conversation_send_csat(conversation_id=conversation_id)
    return invitation.pk if invitation is not None else None
