"""Background retraining of a brand's sentiment adapter (django-tasks): ids in, safe to rerun."""

import logging

from django_tasks import task

from opencx.platform.models import Brand, User
from opencx.platform.selectors import actor_for

from . import corrections

logger = logging.getLogger(__name__)


@task()
def retrain_sentiment(brand_id: int, user_id: int | None = None) -> int:
    """Fit the brand's adapter on its verdicts as they are now (as the member who asked, whose
    rights are checked again). How many examples it learnt from; 0 if it was refused."""
    brand = Brand.objects.get(pk=brand_id)
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    actor = actor_for(user=user, brand_slug=brand.slug) if user is not None else None
    try:
        return corrections.text_retrain(brand=brand, actor=actor).examples
    except corrections.RetrainRefused as refused:
        logger.info("retraining of brand %s refused: %s", brand.pk, refused.message)
        return 0
