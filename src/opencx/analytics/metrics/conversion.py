"""Conversion rate (explicit denominator) and bounce rate, GA4 and Universal Analytics, named apart.

GA4: bounce rate = 1 − engaged sessions ÷ sessions, where an engaged session lasted longer than
10 s, had a key event (conversion), or had at least 2 page/screen views.
Universal Analytics: bounce rate = single-page sessions with no interaction hit ÷ sessions.
A long single-page read is a UA bounce but not a GA4 one. See docs/metrics/conversion-bounce.md.
"""

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from opencx.analytics.metrics.churn import percent_score
from opencx.analytics.result import Score

Denominator = Literal["sessions", "users", "visitors", "impressions"]
DENOMINATORS: tuple[str, ...] = ("sessions", "users", "visitors", "impressions")
GA4_ENGAGEMENT_SECONDS = 10.0


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def conversion_rate(
    *, conversions: int, denominator: int, per: Denominator, confidence: float = 0.95
) -> Score:
    """Converting units ÷ denominator × 100, with a Wilson interval.

    `per` names what the denominator counts (sessions, users, visitors or impressions) and is
    required: session- and user-based rates differ. `conversions` counts converting units of
    that kind (sessions with a conversion, users who converted), not conversion events, so it
    can never exceed the denominator.
    """
    if per not in DENOMINATORS:
        raise ValueError(f"per must be one of {DENOMINATORS}, got {per!r}")
    _check_counts(conversions=conversions, denominator=denominator)
    if conversions > denominator:
        raise ValueError(
            f"conversions={conversions} exceeds the {per} denominator={denominator}; "
            f"count converting {per}, not conversion events"
        )
    return percent_score(conversions, denominator, confidence)


def ga4_engagement_rate(*, sessions: int, engaged_sessions: int, confidence: float = 0.95) -> Score:
    """GA4 engagement rate: engaged sessions ÷ sessions × 100 (Wilson interval)."""
    _check_counts(sessions=sessions, engaged_sessions=engaged_sessions)
    if engaged_sessions > sessions:
        raise ValueError(f"engaged_sessions={engaged_sessions} exceeds sessions={sessions}")
    return percent_score(engaged_sessions, sessions, confidence)


def ga4_bounce_rate(*, sessions: int, engaged_sessions: int, confidence: float = 0.95) -> Score:
    """GA4 bounce rate: (1 − engaged sessions ÷ sessions) × 100, i.e. 100 − engagement rate."""
    _check_counts(sessions=sessions, engaged_sessions=engaged_sessions)
    if engaged_sessions > sessions:
        raise ValueError(f"engaged_sessions={engaged_sessions} exceeds sessions={sessions}")
    return percent_score(sessions - engaged_sessions, sessions, confidence)


def ua_bounce_rate(*, sessions: int, bounced_sessions: int, confidence: float = 0.95) -> Score:
    """Universal Analytics bounce rate: single-page, no-interaction sessions ÷ sessions × 100."""
    _check_counts(sessions=sessions, bounced_sessions=bounced_sessions)
    if bounced_sessions > sessions:
        raise ValueError(f"bounced_sessions={bounced_sessions} exceeds sessions={sessions}")
    return percent_score(bounced_sessions, sessions, confidence)


def _numeric_column(sessions: pd.DataFrame, column: str, *, whole: bool) -> np.ndarray:
    if column not in sessions.columns:
        raise ValueError(f"sessions has no column {column!r} (columns: {list(sessions.columns)})")
    series = sessions[column]
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        raise ValueError(f"column {column!r} must be numeric, got dtype {series.dtype}")
    values = series.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if whole:
        bad |= np.isfinite(values) & (values != np.floor(values))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        kind = "a whole number >= 0" if whole else "a finite number >= 0"
        raise ValueError(
            f"column {column!r} row {position}: expected {kind}, got {series.iloc[position]!r}"
        )
    return values


def _share(
    sessions: pd.DataFrame, flags: np.ndarray, by: Sequence[str] | None, confidence: float
) -> Score | pd.DataFrame:
    if not by:
        return percent_score(int(flags.sum()), int(flags.size), confidence)
    by = list(by)
    for column in by:
        if column not in sessions.columns:
            raise ValueError(f"sessions has no grouping column {column!r}")
    frame = sessions[by].copy()
    frame["_flag"] = flags
    counts = frame.groupby(by, sort=True, dropna=False)["_flag"].agg(["sum", "size"])
    rows = []
    for key, (hits, n) in counts.iterrows():
        score = percent_score(int(hits), int(n), confidence)
        keys = key if isinstance(key, tuple) else (key,)
        rows.append((*keys, score.value, score.n, score.ci_low, score.ci_high))
    return pd.DataFrame(rows, columns=[*by, "value", "n", "ci_low", "ci_high"])


def ga4_engaged(
    duration_seconds: np.ndarray,
    key_events: np.ndarray,
    page_views: np.ndarray,
    threshold_seconds: float = GA4_ENGAGEMENT_SECONDS,
) -> np.ndarray:
    """GA4's engaged-session rule: duration > threshold, or ≥ 1 key event, or ≥ 2 page views."""
    return (
        (np.asarray(duration_seconds) > threshold_seconds)
        | (np.asarray(key_events) >= 1)
        | (np.asarray(page_views) >= 2)
    )


def ga4_bounce_rate_from_sessions(
    sessions: pd.DataFrame,
    *,
    duration: str = "duration_seconds",
    key_events: str = "key_events",
    page_views: str = "page_views",
    threshold_seconds: float = GA4_ENGAGEMENT_SECONDS,
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> Score | pd.DataFrame:
    """GA4 bounce rate from one row per session (grouped DataFrame when `by` is given).

    `threshold_seconds` is GA4's configurable engagement timer (10 s by default; "longer than").
    """
    if not threshold_seconds >= 0:
        raise ValueError(f"threshold_seconds must be >= 0, got {threshold_seconds}")
    engaged = ga4_engaged(
        _numeric_column(sessions, duration, whole=False),
        _numeric_column(sessions, key_events, whole=True),
        _numeric_column(sessions, page_views, whole=True),
        threshold_seconds,
    )
    return _share(sessions, ~engaged, by, confidence)


def ua_bounce_rate_from_sessions(
    sessions: pd.DataFrame,
    *,
    page_views: str = "page_views",
    interaction_events: str | None = "interaction_events",
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> Score | pd.DataFrame:
    """Universal Analytics bounce rate from one row per session.

    A bounce is a session with exactly one page view and no interaction hit (duration 0 s).
    Pass `interaction_events=None` only when the data has no interaction hits to count.
    """
    views = _numeric_column(sessions, page_views, whole=True)
    if (views < 1).any():
        position = int(np.flatnonzero(views < 1)[0])
        raise ValueError(f"column {page_views!r} row {position}: a session has >= 1 page view")
    bounced = views == 1
    if interaction_events is not None:
        bounced &= _numeric_column(sessions, interaction_events, whole=True) == 0
    return _share(sessions, bounced, by, confidence)
