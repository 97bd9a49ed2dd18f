"""Background tasks of the taxonomy editor (django-tasks): they take ids and are safe to run
twice (discovery only reads)."""

from django_tasks import task

from opencx.platform.models import User
from opencx.platform.selectors import actor_for

from . import taxonomy


@task()
def discover_themes(brand_id: int, user_id: int, days: int, limit: int) -> dict:
    """Emerging themes among the brand's items no topic caught, found for the member who asked
    (their permission is checked again here). Item ids and names only: texts stay in the
    feedback store."""
    user = User.objects.get(pk=user_id)
    slug = user.memberships.filter(brand_id=brand_id).values_list("brand__slug", flat=True).get()
    actor = actor_for(user=user, brand_slug=slug)
    return taxonomy.discovery_as_dict(taxonomy.themes_discover(actor, days=days, limit=limit))
