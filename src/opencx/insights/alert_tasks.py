"""Background tasks of brand monitoring (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import alerts


@task()
def email_alert(alert_id: int) -> str:
    """E-mail one alert to the members who want it (once)."""
    return alerts.alert_email_send(alert_id=alert_id)
