"""Time for the demo: the 18-month window, busier and quieter days, and moments inside a
location's opening hours (in its own time zone), returned as aware UTC datetimes."""

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WINDOW_DAYS = 548  # about 18 months


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass
class Calendar:
    """The days [end - WINDOW_DAYS, end): data stops the day before `end` (today)."""

    end: date
    days: list[date] = field(init=False)
    _cumulative: list[float] = field(init=False)

    def __post_init__(self):
        start = self.end - timedelta(days=WINDOW_DAYS)
        self.days = [start + timedelta(days=i) for i in range(WINDOW_DAYS)]
        total, cumulative = 0.0, []
        for i, day in enumerate(self.days):
            total += self._weight(i, day)
            cumulative.append(total)
        self._cumulative = cumulative

    @property
    def start(self) -> date:
        return self.days[0]

    @property
    def end_utc(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    def _weight(self, index: int, day: date) -> float:
        growth = 0.8 + 0.4 * index / WINDOW_DAYS  # the brand grows
        season = {11: 1.15, 12: 1.45, 1: 1.1, 8: 0.85}.get(day.month, 1.0)  # sales and summer
        weekend = 1.2 if day.weekday() == 5 else 1.0
        return growth * season * weekend

    def random_day(self, rng: random.Random, lo: int = 0, hi: int | None = None) -> int:
        """A day index in [lo, hi), weighted by the brand's traffic."""
        hi = WINDOW_DAYS if hi is None else hi
        base = self._cumulative[lo - 1] if lo > 0 else 0.0
        point = base + rng.random() * (self._cumulative[hi - 1] - base)
        return min(bisect.bisect_left(self._cumulative, point, lo, hi), hi - 1)

    def days_before_end(self, index: int) -> int:
        return WINDOW_DAYS - index

    def months_before_end(self, index: int) -> int:
        """0 for the current calendar month, 1 for the previous one, ..."""
        return month_index(self.end) - month_index(self.days[index])

    def months_before(self, day: date) -> int:
        return month_index(self.end) - month_index(day)

    def month_start(self, months_before: int) -> date:
        m = month_index(self.end) - months_before
        return date(m // 12, m % 12 + 1, 1)


class Hours:
    """One location's opening hours, ready for sampling."""

    def __init__(self, opening_hours: dict, tz: str):
        self.zone = ZoneInfo(tz)
        self.by_weekday: list[list[tuple[int, int]]] = []
        for weekday in range(7):
            intervals = []
            for start, end in opening_hours.get(str(weekday), []):
                intervals.append((_minutes(start), _minutes(end)))
            self.by_weekday.append(intervals)

    def is_open_on(self, day: date) -> bool:
        return bool(self.by_weekday[day.weekday()])

    def moment(self, rng: random.Random, day: date) -> datetime:
        """A random second inside the day's opening hours (the day must be an open one)."""
        intervals = self.by_weekday[day.weekday()]
        total = sum(end - start for start, end in intervals)
        point = rng.random() * total
        for start, end in intervals:
            if point < end - start:
                minute = start + point
                break
            point -= end - start
        else:  # pragma: no cover - rounding at the very end
            minute = intervals[-1][1] - 1
        seconds = int(minute * 60)
        local = datetime(
            day.year,
            day.month,
            day.day,
            seconds // 3600,
            seconds // 60 % 60,
            seconds % 60,
            tzinfo=self.zone,
        )
        return local.astimezone(UTC)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def open_moment(
    rng: random.Random, calendar: Calendar, hours: Hours, lo: int = 0, hi: int | None = None
) -> tuple[int, datetime]:
    """A weighted day in [lo, hi) on which the location is open, and a moment in its hours."""
    for _ in range(20):
        index = calendar.random_day(rng, lo, hi)
        if hours.is_open_on(calendar.days[index]):
            return index, hours.moment(rng, calendar.days[index])
    # A window of closed days only (e.g. one Sunday): take the next open day after it.
    index = hi - 1 if hi else len(calendar.days) - 1
    while not hours.is_open_on(calendar.days[index]) and index > 0:
        index -= 1
    return index, hours.moment(rng, calendar.days[index])
