"""Background tasks of the closed loop (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import flows, services


@task()
def apply_case_rules(response_id: int) -> int | None:
    """Open or join a case for a complete response if a rule matches; the case id or None."""
    case = services.cases_from_response(response_id=response_id)
    return case.pk if case is not None else None


@task()
def apply_case_rules_to_feedback(feedback_id: int) -> int | None:
    case = services.cases_from_feedback(feedback_id=feedback_id)
    return case.pk if case is not None else None


@task()
def send_case_reply(event_id: int) -> bool:
    """Send one queued reply to the customer (a sent or failed one is left alone)."""
    return flows.case_reply_send(event_id=event_id)


@task()
def send_resurvey(case_id: int) -> None:
    services.case_resurvey_send(case_id=case_id)


@task()
def escalate_overdue_cases() -> int:
    return len(services.cases_escalate_overdue())


@task()
def notify_case(case_id: int, kind: str) -> list[str]:
    """E-mail the owner of a new or reassigned case ("assigned"), or the CX manager and owner
    of an escalated one ("escalated")."""
    return flows.case_notify(case_id=case_id, kind=kind)
