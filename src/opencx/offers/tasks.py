"""Background tasks of playbooks (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import flows, services


@task()
def run_playbooks(response_id: int) -> str:
    """Run the NPS-segment playbook of one response (at most once per response); the run's
    status, or "" when no playbook applies."""
    run = flows.playbooks_run(response_id=response_id)
    return run.status if run is not None else ""


@task()
def match_review_completions() -> int:
    """Mark completed the review runs whose contact's review has arrived; how many."""
    return services.review_completions_match()
