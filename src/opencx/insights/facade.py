"""The one door from the web app into opencx.analytics. Returns frozen dataclasses."""

from opencx.analytics.metrics.nps import nps_from_counts
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.result import Score

from .selectors import NpsCounts


def nps_score(counts: NpsCounts) -> Score:
    return nps_from_counts(n=counts.n, promoters=counts.promoters, detractors=counts.detractors)


def share_score(*, n: int, satisfied: int) -> Score:
    return share_from_counts(n=n, satisfied=satisfied)
