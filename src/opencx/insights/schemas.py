"""API shapes for the metrics: rows of group keys with a score, its n and its interval."""

from datetime import date
from typing import Annotated, Literal

from ninja import Field, Schema


class MetricRowOut(Schema):
    period: date | None = Field(
        description="First day of the month / ISO week (Monday) / the day; null unless grouped"
    )
    location_id: int | None = Field(description="Null unless grouped by location")
    touchpoint_id: int | None = Field(
        description="Null unless grouped by touchpoint, or for answers without one"
    )
    channel_id: int | None = Field(
        description="Null unless grouped by channel, or for answers without one"
    )
    value: float | None = Field(
        description="NPS or CES net index (−100..100), % satisfied / agreeing (0..100), or the "
        "mean rating (variant `mean`, on the questions' scale); null when n = 0"
    )
    n: int = Field(description="Scored answers")
    ci_low: float | None = Field(description="Lower bound of the 95% interval")
    ci_high: float | None = Field(description="Upper bound of the 95% interval")
    promoters: int | None = Field(None, description="NPS only: answers 9–10")
    passives: int | None = Field(None, description="NPS only: answers 7–8")
    detractors: int | None = Field(None, description="NPS only: answers 0–6")
    satisfied: int | None = Field(
        None, description="CSAT/CES only: answers in the question's stored satisfied set"
    )
    dissatisfied: int | None = Field(
        None,
        description="CES net index only: answers on the bad side (points strictly worse than "
        "the scale's midpoint, by its stored direction)",
    )


class MetricOut(Schema):
    metric: str = Field(description="nps, csat or ces")
    variant: str = Field(
        description="nps; csat: share or mean; ces: percent_agree, mean or net (as the library)"
    )
    by: list[str] = Field(description="The group keys of the rows, in the order asked")
    since: date | None = Field(description="First day counted (inclusive)")
    until: date | None = Field(description="Day the period ends before (exclusive)")
    questions: list[int] = Field(description="The questions whose answers are counted")
    rows: list[MetricRowOut]


class ResponseTimesOut(Schema):
    since: date
    until: date | None
    conversations: int
    answered: int
    unanswered: int = Field(description="Still waiting: censored, never counted as 0")
    median_hours: float | None = Field(description="Kaplan–Meier median, calendar hours")
    p90_hours: float | None
    median_business_hours: float | None = Field(
        description="Counting only the location's opening hours; null if any are unknown"
    )
    p90_business_hours: float | None
    sla_hours: float
    within_sla: float | None = Field(description="% answered within the target")
    within_sla_n: int
    within_sla_ci_low: float | None
    within_sla_ci_high: float | None
    method: str


class DurationRowOut(Schema):
    statistic: str = Field(description="median or p90 (Kaplan-Meier), or mean (resolved only)")
    clock: str = Field(description="calendar (hours) or business (opening hours only)")
    value: float | None = Field(description="Hours; null when the curve does not reach it")
    n: int = Field(description="Conversations (resolved ones only for the mean)")
    ci_low: float | None = Field(description="Lower bound of the 95% interval")
    ci_high: float | None = Field(description="Upper bound; null when open-ended")


class ResolutionTimesOut(Schema):
    since: date
    until: date | None
    conversations: int
    resolved: int
    waiting: int = Field(description="Not resolved yet: right-censored at now, never counted")
    business_hours_known: bool = Field(
        description="False when a location's opening hours cannot be read (no business rows)"
    )
    note: str = Field(description="What the mean leaves out")
    rows: list[DurationRowOut]


class ShareRowOut(Schema):
    location_id: int | None = Field(description="Null unless grouped by location")
    value: float | None = Field(description="Percentage (0..100); null when n = 0")
    n: int = Field(description="The denominator: customers or sessions")
    ci_low: float | None = Field(description="Lower bound of the Wilson 95% interval")
    ci_high: float | None = Field(description="Upper bound of the Wilson 95% interval")
    hits: int = Field(description="The numerator: repeat customers, converting or bounced sessions")


class ShareOut(Schema):
    metric: str = Field(
        description="repeat-purchase, conversion, bounce (GA4) or bounce-single-page (Universal "
        "Analytics)"
    )
    since: date | None
    until: date | None
    definition: str = Field(description="Numerator over denominator, in words")
    rows: list[ShareRowOut]


class CohortRowOut(Schema):
    cohort: date = Field(description="First day of the month of the customers' first order")
    periods_since: int = Field(description="Months after the cohort month (0 = that month)")
    value: float | None = Field(description="% of the cohort active in that month")
    n: int = Field(description="Cohort size (customers)")
    ci_low: float | None
    ci_high: float | None
    retained: int = Field(description="Customers of the cohort active in that month")


class CohortRetentionOut(Schema):
    since: date | None
    until: date | None
    mode: str = Field(description="classic (active in that month) or unbounded (or later)")
    rows: list[CohortRowOut]


class ClvRowOut(Schema):
    statistic: str = Field(description="expected_purchases or clv, mean per customer")
    value: float
    n: int = Field(description="Customers")
    ci_low: float | None = Field(None, description="Null: the models give no interval here")
    ci_high: float | None = None


class ClvOut(Schema):
    since: date | None
    until: date | None
    currency: str
    customers: int
    repeat_customers: int
    horizon_months: int
    monthly_discount_rate: float
    expected_purchases: float = Field(description="Mean purchase occasions per customer")
    clv: float = Field(description="Mean discounted expected spend per customer")
    clv_total: float = Field(description="Sum over the customers")
    bg_nbd: dict[str, float] = Field(description="r, alpha (in weeks), a, b")
    gamma_gamma: dict[str, float] = Field(description="p, q, v (v in the currency)")
    bg_nbd_log_likelihood: float
    gamma_gamma_log_likelihood: float
    rows: list[ClvRowOut]


class ChurnOut(Schema):
    metric: str = Field(description="churn")
    since: date
    until: date
    activity_days: int = Field(description="A customer is active if they ordered this recently")
    customers_start: int = Field(description="S: customers active at `since`")
    customers_end: int = Field(description="E: customers active at `until`")
    new_or_returning: int = Field(description="N: active at `until` but not at `since`")
    lost: int = Field(description="Active at `since`, not at `until`")
    churn: ShareRowOut = Field(description="lost ÷ S × 100, Wilson 95% interval")
    retention: ShareRowOut = Field(description="CRR = (E − N) ÷ S × 100, Wilson 95% interval")


# --- UX benchmarking: the caller sends counts or times; nothing is stored ---------------------

MAX_COUNT = 10**15  # beyond this a count is not a usability test (and floats lose whole numbers)
MAX_TIMES = 100_000
WholeCount = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Confidence = Annotated[
    float, Field(gt=0, lt=1, allow_inf_nan=False, description="Interval level, e.g. 0.95")
]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class TaskSuccessIn(Schema):
    successes: WholeCount = Field(description="Successful attempts")
    attempts: WholeCount = Field(description="Attempts (successes ≤ attempts)")
    interval: Literal["adjusted_wald", "wilson"] = Field(
        "adjusted_wald", description="adjusted_wald (Agresti–Coull, Sauro & Lewis) or wilson"
    )
    confidence: Confidence = 0.95


class ErrorRateIn(Schema):
    errors: WholeCount = Field(description="Errors made (at most one per opportunity)")
    opportunities: WholeCount = Field(description="Error opportunities (errors ≤ opportunities)")
    confidence: Confidence = 0.95


class TimeOnTaskIn(Schema):
    seconds: list[Seconds] = Field(
        max_length=MAX_TIMES,
        description=f"Task times in seconds, each > 0; at most {MAX_TIMES} of them",
    )
    confidence: Confidence = 0.95


class UxMetricOut(Schema):
    metric: str = Field(description="task-success, error-rate or time-on-task")
    value: float | None = Field(
        description="% successful / % errors (0..100), or the geometric mean time in seconds; "
        "null when n = 0"
    )
    n: int = Field(description="Attempts, opportunities or times")
    ci_low: float | None = Field(description="Lower bound of the interval; null when undefined")
    ci_high: float | None = Field(description="Upper bound of the interval; null when undefined")
    confidence: float
    method: str = Field(description="How the interval is computed")
