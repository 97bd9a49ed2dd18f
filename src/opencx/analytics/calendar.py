"""Business-hours arithmetic: a weekly schedule, holidays and an IANA time zone.

Only time inside the schedule counts: a request that arrives at night starts counting when the
shop opens, and a weekend or holiday adds nothing. Durations are real elapsed time (computed in
UTC), so a schedule interval that spans a daylight-saving change counts the hours that actually
passed. One calendar applies to the whole span (as Zendesk does for single-event metrics, using
the schedule in force at the event); to model a schedule change, compute the spans separately.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 86_400
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"weekdays": range(5), "weekend": range(5, 7), "daily": range(7)}

Hours = tuple[tuple[int, int], ...]  # (open, close) seconds after local midnight, sorted


def _seconds_of_day(text: str, what: str) -> int:
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"{what}: expected HH:MM or HH:MM:SS, got {text!r}")
    hours, minutes, seconds = (int(p) for p in (*parts, "0")[:3])
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and minutes + seconds > 0):
        raise ValueError(f"{what}: not a time of day 00:00–24:00, got {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def _interval(spec: object, what: str) -> tuple[int, int]:
    """'09:00-17:00' or (time(9), time(17)); '24:00' ends at midnight."""
    if isinstance(spec, str):
        if spec.count("-") != 1:
            raise ValueError(f"{what}: expected 'HH:MM-HH:MM', got {spec!r}")
        first, second = spec.split("-")
        start, end = _seconds_of_day(first, what), _seconds_of_day(second, what)
    elif isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(t, dt.time) for t in spec):
        start, end = (t.hour * 3600 + t.minute * 60 + t.second for t in spec)
        if end == 0:
            end = DAY_SECONDS  # (time(22), time(0)) means until midnight
    else:
        raise ValueError(f"{what}: expected 'HH:MM-HH:MM' or a (time, time) pair, got {spec!r}")
    if start >= end:
        raise ValueError(
            f"{what}: interval {spec!r} ends before it starts; split overnight shifts at midnight"
        )
    return start, end


def _days(key: object) -> Iterable[int]:
    if isinstance(key, bool):
        raise ValueError(f"not a weekday: {key!r}")
    if isinstance(key, int):
        if not 0 <= key <= 6:
            raise ValueError(f"weekday numbers run 0 (Monday) to 6 (Sunday), got {key}")
        return (key,)
    if isinstance(key, str):
        name = key.strip().lower()
        if name in _DAY_GROUPS:
            return _DAY_GROUPS[name]
        if name[:3] in DAY_NAMES and len(name) >= 3:
            return (DAY_NAMES.index(name[:3]),)
    raise ValueError(f"not a weekday: {key!r} (use 0–6, 'mon'…'sun', 'weekdays', 'weekend')")


@dataclass(frozen=True)
class BusinessCalendar:
    """A weekly schedule (Monday = 0) in one time zone, with whole-day holidays (local dates)."""

    zone: ZoneInfo
    week: tuple[Hours, ...]
    holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"a week has 7 days, got {len(self.week)}")
        for day, hours in zip(DAY_NAMES, self.week, strict=True):
            if not all(isinstance(h, tuple) and len(h) == 2 for h in hours):
                raise ValueError(f"{day}: expected (open, close) second pairs, got {hours!r}")
            for (_, close), (next_open, _) in zip(hours, hours[1:], strict=False):
                if next_open < close:
                    raise ValueError(f"{day}: business-hour intervals overlap or are unsorted")
            if any(not 0 <= a < b <= DAY_SECONDS for a, b in hours):
                raise ValueError(f"{day}: intervals must lie within the day, got {hours}")

    @classmethod
    def weekly(
        cls,
        timezone: str,
        hours: Mapping[object, str | Sequence[object]],
        holidays: Iterable[dt.date] = (),
    ) -> "BusinessCalendar":
        """Build from {day: intervals}, e.g. {"weekdays": ["09:00-12:00", "13:00-17:30"]}.

        Days are 0–6 (Monday = 0), names ('mon', 'Tuesday') or the groups 'weekdays', 'weekend',
        'daily'; a day named twice is an error; days not named are closed.
        """
        week: list[Hours | None] = [None] * 7
        for key, spec in hours.items():
            specs = [spec] if isinstance(spec, str | tuple) else list(spec)
            parsed = tuple(sorted(_interval(s, f"hours for {key!r}") for s in specs))
            for day in _days(key):
                if week[day] is not None:
                    raise ValueError(f"{DAY_NAMES[day]} is given more than once")
                week[day] = parsed
        return cls(
            zone=zone_named(timezone),
            week=tuple(h or () for h in week),
            holidays=_holidays(holidays),
        )

    @classmethod
    def always(cls, timezone: str = "UTC") -> "BusinessCalendar":
        """Open 24 × 7: business time equals calendar time."""
        return cls(zone=zone_named(timezone), week=(((0, DAY_SECONDS),),) * 7)

    def _openings(self, day: dt.date) -> Iterable[tuple[float, float]]:
        if day in self.holidays:
            return
        for start, end in self.week[day.weekday()]:
            yield self._epoch(day, start), self._epoch(day, end)

    def _epoch(self, day: dt.date, seconds: int) -> float:
        if seconds == DAY_SECONDS:
            day, seconds = day + dt.timedelta(days=1), 0
        clock = dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
        return dt.datetime.combine(day, clock, tzinfo=self.zone).timestamp()

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of business time between two aware moments (end before start is an error)."""
        _check_aware(start, "start")
        _check_aware(end, "end")
        # Compare instants: aware datetimes sharing a tzinfo compare by wall clock, which is
        # wrong across a DST change (a 02:00 that does not exist can be earlier than 01:00).
        if end.timestamp() < start.timestamp():
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        first, last = start.timestamp(), end.timestamp()
        day = start.astimezone(self.zone).date()
        final = end.astimezone(self.zone).date()
        total = 0.0
        while day <= final:
            for opens, closes in self._openings(day):
                total += max(0.0, min(closes, last) - max(opens, first))
            day += dt.timedelta(days=1)
        return total

    def deadline(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment at which `seconds` of business time have passed since `start` (a due date
        for an SLA in business hours). Raises ValueError when the schedule never opens."""
        _check_aware(start, "start")
        if seconds < 0:
            raise ValueError(f"a deadline needs a non-negative duration, got {seconds}")
        if not any(self.week):
            raise ValueError("the schedule has no business hours, so no deadline can be reached")
        left, first = float(seconds), start.timestamp()
        day = start.astimezone(self.zone).date()
        # A week of holidays can close every day; ten years is past any real schedule.
        for _ in range(3660):
            for opens, closes in self._openings(day):
                begin = max(opens, first)
                if begin >= closes:
                    continue
                if closes - begin >= left:
                    return dt.datetime.fromtimestamp(begin + left, tz=self.zone)
                left -= closes - begin
            day += dt.timedelta(days=1)
        raise ValueError("no business hours within ten years of the start")

    def business_hours(self, start: dt.datetime, end: dt.datetime) -> float:
        return self.business_seconds(start, end) / 3600

    def is_open(self, moment: dt.datetime) -> bool:
        _check_aware(moment, "moment")
        at = moment.timestamp()
        day = moment.astimezone(self.zone).date()
        return any(opens <= at < closes for opens, closes in self._openings(day))


def zone_named(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown IANA time zone {timezone!r}") from None


def _holidays(days: Iterable[dt.date]) -> frozenset[dt.date]:
    checked = set()
    for day in days:
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise ValueError(f"holidays are local dates (datetime.date), got {day!r}")
        checked.add(day)
    return frozenset(checked)


def _check_aware(moment: dt.datetime, what: str) -> None:
    if not isinstance(moment, dt.datetime):
        raise ValueError(f"{what} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment.isoformat()} has no time zone; business hours need one")
