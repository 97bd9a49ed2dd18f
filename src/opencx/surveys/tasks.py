"""Background tasks of surveys (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import flows


@task()
def send_invitation(invitation_id: int) -> bool:
    """Send one queued invitation (a sent, failed or skipped one is left alone)."""
    return flows.invitation_send(invitation_id=invitation_id)


@task()
def send_reminders() -> int:
    """Send the one reminder of every invitation that is due for it; how many were sent."""
    return flows.reminders_send()
