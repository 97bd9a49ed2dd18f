"""Background tasks of integrations (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import flows


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one attempt of a delivery that is due; its status afterwards."""
    return flows.webhook_deliver(delivery_id=delivery_id)
