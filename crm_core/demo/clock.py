"""Simulated time: days since the start of the history, mapped to real instants.

Inside the generator every moment is a float **local day** counted from the
history's first midnight in São Paulo (`0.5` = noon of the first day). The
fraction of a day is warped monotonically into Brazilian daytime hours
(07:00–23:00, peaks at lunch and in the evening), so order within a day is
kept and every event falls in daytime. Instants are stored in UTC with
São Paulo's fixed offset (UTC−3; Brazil dropped daylight saving in 2019; the
warp never reaches midnight, so an hour's error before 2019 moves no event to
another day). The history ends at `as_of` 00:00 local: no event is on or after
`as_of`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

UTC_OFFSET_HOURS = -3
# Relative activity per local hour 0..23 (zero at night).
_HOURLY = np.array(
    [0, 0, 0, 0, 0, 0, 0, 2, 4, 6, 7, 8, 9, 8, 7, 7, 7, 7, 8, 10, 11, 10, 7, 3], dtype=float
)
_CDF = np.concatenate([[0.0], np.cumsum(_HOURLY) / _HOURLY.sum()])
_HOUR_EDGES = np.arange(25, dtype=float)


def history_start(as_of: date, days: int) -> date:
    """First local day of a history of `days` days ending just before `as_of`."""
    return as_of - timedelta(days=days)


def daytime(days: np.ndarray) -> np.ndarray:
    """Warp each day's fraction into daytime hours; the integer day is kept."""
    whole = np.floor(days)
    hours = np.interp(days - whole, _CDF, _HOUR_EDGES)
    return whole + hours / 24.0


def to_utc(days: np.ndarray, start: date, name: str) -> pl.Series:
    """Local days since `start` (already warped) → a UTC `Datetime('us')` series."""
    origin = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(
        hours=UTC_OFFSET_HOURS
    )
    micros = np.round(days * 86_400e6).astype(np.int64)
    epoch_us = int(origin.timestamp() * 1_000_000)
    return pl.Series(name, micros + epoch_us).cast(pl.Datetime("us", "UTC"))


def seasonal_weights(start: date, days: int, growth: float) -> np.ndarray:
    """Relative acquisition intensity per day: linear growth × retail seasonality.

    Peaks: Black Friday week (×3 on the Friday, ×1.8 the days around it),
    Christmas shopping (Dec 10–24, ×1.6), Dia das Mães (10 days before the
    second Sunday of May, ×1.5), and quieter Sundays (×0.8). Normalised to sum 1.
    """
    dates = np.array([start + timedelta(days=i) for i in range(days)])
    month = np.array([d.month for d in dates])
    mday = np.array([d.day for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    w = 1.0 + growth * np.arange(days) / days
    w = w * np.where(weekday == 6, 0.8, 1.0)
    w = w * np.where((month == 12) & (mday >= 10) & (mday <= 24), 1.6, 1.0)
    for year in sorted({d.year for d in dates}):
        w = w * _event(dates, _black_friday(year), 3.0, 1.8, before=3, after=3)
        w = w * _event(dates, _mothers_day(year), 1.5, 1.5, before=10, after=0)
    return w / w.sum()


def _event(dates: np.ndarray, day: date, peak: float, around: float, before: int, after: int):
    offsets = np.array([(d - day).days for d in dates])
    near = (offsets >= -before) & (offsets <= after)
    return np.where(offsets == 0, peak, np.where(near, around, 1.0))


def _black_friday(year: int) -> date:
    """Day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + timedelta(days=1)


def _mothers_day(year: int) -> date:
    """Second Sunday of May."""
    first = date(year, 5, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)
