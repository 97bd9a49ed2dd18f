"""Background tasks of text analytics (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import text_analysis


@task()
def analyse_pending(brand_id: int) -> int:
    """Analyse the brand's items not yet analysed under its current settings (a minute's worth;
    it queues its own follow-up). How many it analysed."""
    return text_analysis.analyse_pending(brand_id=brand_id)
