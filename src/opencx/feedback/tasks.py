"""Background tasks of feedback (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import services


@task()
def run_import(run_id: int) -> str:
    """Run (or resume) one import; a finished run is left as it is. Its status, as text."""
    return services.import_run_execute(run_id=run_id).status
