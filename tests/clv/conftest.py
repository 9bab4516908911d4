"""CLV test data: the CDNOW sample (see tests/data/README.md) and small builders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
CALIBRATION_END = date(1997, 9, 30)  # end of week 39 of 1997 (FHL 2005)
HOLDOUT_END = date(1998, 6, 30)  # end of week 78
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def load_cdnow() -> pl.DataFrame:
    """CDNOW_sample.txt as `customer_id` (sample id), `date`, `amount`, one row per record."""
    rows = [line.split() for line in (DATA / "CDNOW_sample.txt").read_text().splitlines()]
    return pl.DataFrame(
        {
            "customer_id": [int(r[1]) for r in rows],
            "date": [r[2] for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    ).with_columns(pl.col("date").str.to_date("%Y%m%d"))


@pytest.fixture(scope="session")
def cdnow() -> pl.DataFrame:
    """The 6,919 CDNOW purchase records."""
    return load_cdnow()


@pytest.fixture(scope="session")
def hardie_summary() -> pl.DataFrame:
    """Hardie's calibration summary of the same customers: ID, x, t_x, T, zbar."""
    return pl.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


def sig_figs(value: float, figures: int = 3) -> float:
    """`value` rounded to `figures` significant figures."""
    return float(f"{value:.{figures}g}")
