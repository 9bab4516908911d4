"""Reporting periods: a closed range of local calendar days, and calendar buckets.

A `Period(start, end)` holds both ends (`end` included), in the business time
zone's calendar (the store's connections `SET TimeZone`, so `ordered_at::DATE`
is the local day). `Period.ending(as_of, 30)` is the CLI's window
`(as_of − 30, as_of]`. Buckets for trends and cohorts are calendar weeks
(ISO, Monday first — DuckDB's `date_trunc('week', …)`) or calendar months.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from crm_core.errors import VinculoError

Freq = Literal["month", "week"]
FREQS: tuple[str, ...] = ("month", "week")


@dataclass(frozen=True, order=True)
class Period:
    """The local days `start` … `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise VinculoError("kpis.bad_period", start=self.start, end=self.end)

    @classmethod
    def ending(cls, as_of: date, days: int) -> Period:
        """The `days` local days ending on `as_of` (included): `(as_of − days, as_of]`."""
        if days < 1:
            raise VinculoError("kpis.bad_period_days", days=days)
        return cls(as_of - timedelta(days=days - 1), as_of)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """One calendar month."""
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last))

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def is_whole_months(self) -> bool:
        """True when the period starts on a 1st and ends on a month's last day."""
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1

    def previous(self) -> Period:
        """The period of equal length just before this one.

        Equal length means the same number of days, except that a run of whole
        calendar months maps to the same number of months before it (March →
        February, Q2 → Q1), so a monthly trend and a monthly headline agree.
        """
        if self.is_whole_months():
            months = _month_index(self.end) - _month_index(self.start) + 1
            first = _month_from_index(_month_index(self.start) - months)
            return Period(first, self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def contains(self, day: date) -> bool:
        """True when `day` is one of the period's days."""
        return self.start <= day <= self.end


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_from_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def check_freq(freq: str) -> Freq:
    """`freq` if it is a known bucket size, else a user-facing error."""
    if freq not in FREQS:
        raise VinculoError("kpis.bad_freq", freq=freq, known=", ".join(FREQS))
    return freq  # type: ignore[return-value]


def bucket_start(day: date, freq: Freq) -> date:
    """Start of the calendar bucket holding `day` (Monday of its week, or the 1st)."""
    if check_freq(freq) == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_period(day: date, freq: Freq) -> Period:
    """The whole calendar bucket holding `day`."""
    first = bucket_start(day, freq)
    if freq == "week":
        return Period(first, first + timedelta(days=6))
    return Period.month(first.year, first.month)


def buckets(start: date, end: date, freq: Freq) -> list[Period]:
    """Consecutive calendar buckets covering `start` … `end`, clipped to that range."""
    out: list[Period] = []
    day = start
    while day <= end:
        whole = bucket_period(day, freq)
        out.append(Period(max(whole.start, start), min(whole.end, end)))
        day = whole.end + timedelta(days=1)
    return out
