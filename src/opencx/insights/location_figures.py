"""Responses, feedback and NPS per location for the location pages, rolled up per subtree.

The location pages live in `platform`, which may not import feature apps; this provider is
registered with `platform.location_views.register_location_figures` in InsightsConfig.ready().
Counts come from actor-scoped selectors and are additive, so a region's figures are the sums of
its stores'; the NPS is computed from the summed counts by `insights.facade.nps_score`.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count

from opencx.feedback.selectors import feedback_visible_to
from opencx.insights import facade
from opencx.insights.selectors import NpsCounts, nps_counts_by_location
from opencx.platform.actor import Actor
from opencx.platform.location_views import LocationFigures
from opencx.platform.models import Location, path_lineage
from opencx.surveys.selectors import responses_visible_to


def _single_root(locations: Sequence[Location]) -> Location | None:
    """The location every listed one sits under, if there is one (narrows the queries)."""
    root = min(locations, key=lambda loc: len(loc.path))
    if all(loc.path.startswith(root.path) for loc in locations):
        return root
    return None


def _add_up(totals: dict[str, Counter], path: str, counts: dict[str, int]) -> None:
    """Add a location's own counts to itself and every ancestor (path prefixes)."""
    for lineage in path_lineage(path):
        totals.setdefault(lineage, Counter()).update(counts)


def location_figures(
    actor: Actor, *, locations: Sequence[Location], since: datetime
) -> dict[int, LocationFigures]:
    if not locations:
        return {}
    root = _single_root(locations)
    path_of = {loc.pk: loc.path for loc in locations}
    totals: dict[str, Counter] = {}
    responses = (
        responses_visible_to(actor, location=root)
        .filter(created_at__gte=since)
        .values("location__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in responses:
        _add_up(totals, row["location__path"], {"responses": row["n"]})
    feedback = (
        feedback_visible_to(actor, location=root)
        .filter(occurred_at__gte=since, location__isnull=False)
        .values("location__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in feedback:
        _add_up(totals, row["location__path"], {"feedback": row["n"]})
    for location_id, _name, _country, counts in nps_counts_by_location(
        actor, location=root, since=since
    ):
        if location_id in path_of:
            _add_up(
                totals,
                path_of[location_id],
                {"nps_n": counts.n, "promoters": counts.promoters, "detractors": counts.detractors},
            )
    figures = {}
    for loc in locations:
        total = totals.get(loc.path, Counter())
        nps_counts = NpsCounts(
            n=total["nps_n"], promoters=total["promoters"], detractors=total["detractors"]
        )
        figures[loc.pk] = LocationFigures(
            responses=total["responses"],
            feedback=total["feedback"],
            nps=facade.nps_score(nps_counts),
        )
    return figures
