"""API route of the brand's topic taxonomy: read it whole, or replace it whole.

Brand-wide members may read it (a member scoped to a location gets 404: adopted themes carry
customers' comments as example sentences); replacing it needs MANAGE_FEEDBACK, checked before
the body is validated (`api.auth.requiring`). An invalid taxonomy is a 422 whose `field` names
the place, e.g. `topics.2.keywords.en`. Every accepted change analyses the brand's comments
again in the background.
"""

from typing import Any

from ninja import Field, Router, Schema

from opencx.api import auth as api_auth
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.platform.api import actor_of
from opencx.platform.roles import Capability

from . import taxonomy

router = Router(tags=["text analytics"])

CONFIGURE = api_auth.requiring(Capability.MANAGE_FEEDBACK)


class TopicOut(Schema):
    id: str = Field(description="Lower-case letters, digits and _; stored on tagged comments")
    name: str
    keywords: dict[str, list[str]] = Field(
        description="Seed words by language code; a word matches the start of a word, one "
        "ending in = only the whole word"
    )
    descriptions: list[str] = Field(description="Example sentences, in any language")


class TaxonomyOut(Schema):
    topics: list[TopicOut]
    seeded: bool = Field(description="True while the brand uses the seeded CX topics")
    version: int = Field(description="Raised by every change that re-analyses the comments")


class TaxonomyIn(Schema):
    topics: list[dict[str, Any]] = Field(
        description="Every topic, in order: {id, name, keywords, descriptions}"
    )


def _out(actor) -> dict:
    settings = taxonomy.text_settings_get(actor)
    return {
        "topics": taxonomy.taxonomy_get(actor),
        "seeded": not settings.taxonomy,
        "version": settings.version,
    }


@router.get("/brands/{slug}/text/taxonomy", response={200: TaxonomyOut, **READ_ERRORS})
def taxonomy_read(request, slug: str):
    """The brand's topics in order (the seeded CX topics until the first change)."""
    return _out(actor_of(request, slug))


@router.put(
    "/brands/{slug}/text/taxonomy",
    response={200: TaxonomyOut, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def taxonomy_write(request, slug: str, payload: TaxonomyIn):
    """Replace the whole taxonomy. Comments lose topics that are no longer in it; all are
    analysed again in the background."""
    actor = actor_of(request, slug)
    taxonomy.taxonomy_replace(actor=actor, topics=payload.topics)
    return _out(actor)
