"""API shapes for the metrics: rows of group keys with a score, its n and its interval."""

from datetime import date

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
    value: float | None = Field(description="NPS (−100..100) or % satisfied; null when n = 0")
    n: int = Field(description="Scored answers")
    ci_low: float | None = Field(description="Lower bound of the 95% interval")
    ci_high: float | None = Field(description="Upper bound of the 95% interval")
    promoters: int | None = Field(None, description="NPS only: answers 9–10")
    passives: int | None = Field(None, description="NPS only: answers 7–8")
    detractors: int | None = Field(None, description="NPS only: answers 0–6")
    satisfied: int | None = Field(
        None, description="CSAT/CES only: answers in the question's stored satisfied set"
    )


class MetricOut(Schema):
    metric: str = Field(description="nps, csat or ces")
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
