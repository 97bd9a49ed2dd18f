"""Writes of the rollups: increments on each recorded response, and a full rebuild per brand."""

import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate

from opencx.platform.models import Brand, Location
from opencx.surveys.models import Answer, Question, Response

from .models import COUNT_FIELDS, NONE_KEY, ROLLUP_SHARDS, ResponseRollup

REBUILD_BATCH = 5000

Key = tuple[int, int, date, int, int]  # question, location, day, touchpoint_key, channel_key


@dataclass(frozen=True)
class QuestionRule:
    """What a question's score counts as: NPS bands, and its stored satisfied set."""

    is_nps: bool
    satisfied: frozenset[int]

    @classmethod
    def of(cls, question: Question) -> "QuestionRule":
        return cls(
            is_nps=question.kind == Question.Kind.NPS,
            satisfied=frozenset(int(v) for v in question.satisfied_values or ()),
        )


def counts_of(rule: QuestionRule, score: int, times: int = 1) -> dict[str, int]:
    """The additive counts that `times` answers of `score` contribute."""
    return {
        "n": times,
        "promoters": times if rule.is_nps and score >= 9 else 0,
        "passives": times if rule.is_nps and 7 <= score <= 8 else 0,
        "detractors": times if rule.is_nps and score <= 6 else 0,
        "satisfied": times if score in rule.satisfied else 0,
        "score_sum": times * score,
        "score_sq_sum": times * score * score,
    }


def rollups_remove(*, response: Response, scored: Iterable[tuple[Question, int]]) -> None:
    """Take back scores that `rollups_add` counted (a respondent changed an answer), inside the
    caller's transaction. The score was added to one shard of its key, maybe by another thread:
    each count is taken from whichever shard rows hold enough of it (their sums stay exact)."""
    location = response.location
    day = local_day(response.created_at, location)
    for question, score in scored:
        rows = list(
            ResponseRollup.objects.select_for_update()
            .filter(
                question_id=question.pk,
                location_id=location.pk,
                day=day,
                touchpoint_key=response.touchpoint_id or NONE_KEY,
                channel_key=response.channel_id or NONE_KEY,
            )
            .order_by("shard")
        )
        for name, value in counts_of(QuestionRule.of(question), score).items():
            remaining = value
            for row in rows:
                if remaining == 0:
                    break
                taken = (
                    remaining if name.startswith("score_") else min(getattr(row, name), remaining)
                )
                setattr(row, name, getattr(row, name) - taken)
                remaining -= taken
            if remaining:
                raise RuntimeError(f"no rollup row holds response {response.pk}'s score to remove")
        ResponseRollup.objects.bulk_update(rows, list(COUNT_FIELDS))


def local_day(moment: datetime, location: Location) -> date:
    """The calendar day of `moment` in the location's time zone (the rollups' day)."""
    return moment.astimezone(ZoneInfo(location.timezone)).date()


def rollups_add(*, response: Response, scored: Iterable[tuple[Question, int]]) -> None:
    """Add one response's scored answers to the rollups, inside the caller's transaction.

    One INSERT … ON CONFLICT DO UPDATE per answer (SQLite ≥ 3.24 and PostgreSQL alike): the
    row is created or incremented atomically, so concurrent writers never lose a count.
    """
    location = response.location
    day = connection.ops.adapt_datefield_value(local_day(response.created_at, location))
    shard = (os.getpid() * 7919 + threading.get_ident()) % ROLLUP_SHARDS  # this writer's own row
    with connection.cursor() as cursor:
        for question, score in scored:
            delta = counts_of(QuestionRule.of(question), score)
            cursor.execute(
                _upsert_sql(),
                [
                    response.brand_id,
                    response.survey_id,
                    question.pk,
                    location.pk,
                    day,
                    response.touchpoint_id or NONE_KEY,
                    response.channel_id or NONE_KEY,
                    shard,
                    *(delta[name] for name in COUNT_FIELDS),
                ],
            )


@cache
def _upsert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(ResponseRollup._meta.db_table)
    key = ["question_id", "location_id", "day", "touchpoint_key", "channel_key", "shard"]
    columns = ["brand_id", "survey_id", *key, *COUNT_FIELDS]
    increments = ", ".join(
        f"{quote(name)} = {table}.{quote(name)} + excluded.{quote(name)}" for name in COUNT_FIELDS
    )
    return (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {increments}"
    )


def rollups_rebuild(*, brand: Brand) -> int:
    """Recompute every rollup row of `brand` from its raw answers; returns the rows written.

    One GROUP BY per time zone in use by the brand's locations (the day is local to each
    location), counting answers per key and score; the counts per score are folded here using
    each question's stored satisfied set. Used after bulk loads (demo, imports) and by
    `opencx rebuild_rollups`.
    """
    ResponseRollup.objects.filter(brand=brand).delete()
    rules = {
        question.pk: (question.survey_id, QuestionRule.of(question))
        for question in Question.objects.filter(survey__brand=brand).only(
            "pk", "survey_id", "kind", "satisfied_values"
        )
    }
    zones = (
        Location.objects.filter(brand=brand)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    written = 0
    for zone in list(zones):
        totals: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_FIELDS, 0))
        groups = (
            Answer.objects.filter(
                response__brand=brand,
                response__location__timezone=zone,
                question__kind__in=Question.SCALED_KINDS,
                score__isnull=False,
            )
            .annotate(day=TruncDate("response__created_at", tzinfo=ZoneInfo(zone)))
            .values(
                "question_id",
                "response__location_id",
                "day",
                "response__touchpoint_id",
                "response__channel_id",
                "score",
            )
            .annotate(times=Count("id"))
            .order_by()
        )
        for group in groups.iterator(chunk_size=REBUILD_BATCH):
            key = (
                group["question_id"],
                group["response__location_id"],
                group["day"],
                group["response__touchpoint_id"] or NONE_KEY,
                group["response__channel_id"] or NONE_KEY,
            )
            _, rule = rules[group["question_id"]]
            total = totals[key]
            for name, value in counts_of(rule, group["score"], group["times"]).items():
                total[name] += value
        rows = [
            ResponseRollup(
                brand=brand,
                survey_id=rules[question_id][0],
                question_id=question_id,
                location_id=location_id,
                day=day,
                touchpoint_key=touchpoint_key,
                channel_key=channel_key,
                **counts,
            )
            for (question_id, location_id, day, touchpoint_key, channel_key), counts in (
                totals.items()
            )
        ]
        ResponseRollup.objects.bulk_create(rows, batch_size=REBUILD_BATCH)
        written += len(rows)
    return written
