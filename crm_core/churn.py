"""Churn diagnostics (Lovelock & Wirtz's Wheel of Loyalty, "reduce churn" spoke).

Why do customers leave? We compare what churned and active buyers went through just before
their status was observed: complaints, unresolved tickets, low satisfaction, contact volume.

Signal window (days are local calendar days; see `crm_core.loyalty` for "churned"):
- a churned customer's window is the `lookback_days` days ending on its *churn day*
  (last purchase + churn window, capped at the as-of date): (churn_day − lookback, churn_day];
- an active buyer's window is the `lookback_days` days ending on the as-of date:
  (as_of − lookback, as_of].
Both groups get windows of the same length that end when their status is read, so the rates
compare like with like. With `lookback_days` ≥ the churn window, the churned window also
covers the days before the last purchase.

Signals per group (all on interactions/feedback inside each customer's window):
- `complaint_rate`: share of the group's customers with ≥ 1 interaction of type 'complaint';
- `unresolved_rate`: share with ≥ 1 interaction whose outcome is 'unresolved';
- `low_csat_rate`: among customers with ≥ 1 CSAT answer, the share with a CSAT ≤ 2 (1–5 scale);
- `mean_csat`: mean of all CSAT answers (1–5);
- `nps`: Net Promoter Score of all NPS answers, % promoters (9–10) − % detractors (0–6),
  in points from −100 to 100 (Reichheld 2003);
- `contacts_per_customer`: interactions of any type / customers in the group.
Rates are 0–1 and null when their denominator is 0.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.loyalty import CHURNED_STAGE

GROUPS: tuple[str, ...] = ("churned", "active")
SIGNAL_RATES: tuple[str, ...] = ("complaint_rate", "unresolved_rate", "low_csat_rate")

_SIGNALS_SQL = """
WITH cohort AS (
    SELECT customer_id::VARCHAR AS customer_id, grp, window_end::DATE AS window_end
    FROM loyalty_signal_cohort
), i AS (
    SELECT c.customer_id, count(*) AS contacts,
           count(*) FILTER (x.type = 'complaint') AS complaints,
           count(*) FILTER (x.outcome = 'unresolved') AS unresolved
    FROM interactions x JOIN cohort c ON x.customer_id = c.customer_id
    WHERE x.occurred_at::DATE > c.window_end - $lookback::INTEGER
      AND x.occurred_at::DATE <= c.window_end
    GROUP BY c.customer_id
), f AS (
    SELECT c.customer_id, count(x.csat) AS csat_answers, sum(x.csat) AS csat_sum,
           count(*) FILTER (x.csat <= 2) AS low_csat, count(x.nps) AS nps_answers,
           count(*) FILTER (x.nps >= 9) AS promoters, count(*) FILTER (x.nps <= 6) AS detractors
    FROM feedback x JOIN cohort c ON x.customer_id = c.customer_id
    WHERE x.answered_at::DATE > c.window_end - $lookback::INTEGER
      AND x.answered_at::DATE <= c.window_end
    GROUP BY c.customer_id
), g AS (
    SELECT c.grp, count(*) AS customers,
        avg((coalesce(i.complaints, 0) > 0)::DOUBLE) AS complaint_rate,
        avg((coalesce(i.unresolved, 0) > 0)::DOUBLE) AS unresolved_rate,
        count(*) FILTER (f.csat_answers > 0) AS csat_respondents,
        avg((f.low_csat > 0)::DOUBLE) FILTER (f.csat_answers > 0) AS low_csat_rate,
        sum(f.csat_sum)::DOUBLE / nullif(sum(f.csat_answers), 0) AS mean_csat,
        sum(coalesce(f.nps_answers, 0)) AS nps_answers,
        100.0 * (sum(f.promoters) - sum(f.detractors)) / nullif(sum(f.nps_answers), 0) AS nps,
        sum(coalesce(i.contacts, 0))::DOUBLE / count(*) AS contacts_per_customer
    FROM cohort c LEFT JOIN i USING (customer_id) LEFT JOIN f USING (customer_id)
    GROUP BY c.grp
)
SELECT k.grp AS "group", coalesce(g.customers, 0)::BIGINT AS customers,
       g.complaint_rate, g.unresolved_rate, g.low_csat_rate, g.mean_csat, g.nps,
       g.contacts_per_customer,
       coalesce(g.csat_respondents, 0)::BIGINT AS csat_respondents,
       coalesce(g.nps_answers, 0)::BIGINT AS nps_answers
FROM (VALUES ('churned', 0), ('active', 1)) k(grp, pos) LEFT JOIN g ON g.grp = k.grp
ORDER BY k.pos
"""


def active_buyers(staged: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """`customer_id` of every buyer (≥ 1 purchase day) not in the dissolution stage."""
    frame = staged.select("customer_id", pl.col("stage").cast(pl.String)).join(
        summary.select("customer_id", "purchase_days"), on="customer_id"
    )
    alive = (pl.col("purchase_days") >= 1) & (pl.col("stage") != CHURNED_STAGE)
    return frame.filter(alive).select("customer_id")


def _run_with(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, sql: str, params: dict
) -> pl.DataFrame:
    """Run `sql` with `frame` registered as the view `name` (unregistered afterwards)."""
    con.complete()  # DuckDB 2: an unread execute() result would block register/sql
    con.register(name, frame.to_arrow())
    try:
        return con.sql(sql, params=params).pl()
    finally:
        con.unregister(name)


def pre_churn_signals(
    con: duckdb.DuckDBPyConnection,
    churned: pl.DataFrame,
    active_ids: pl.DataFrame,
    as_of: date,
    lookback_days: int = 180,
) -> pl.DataFrame:
    """Churned vs active buyers on the signals of the module docstring, one row per group.

    `churned` is `crm_core.loyalty.churned_customers` output (`customer_id`, `churn_day`);
    `active_ids` has `customer_id` (e.g. `active_buyers`); `as_of` ends the active window;
    `lookback_days` (≥ 1) is the window length in days. Columns: `group` ("churned" then
    "active"), `customers`, `complaint_rate`, `unresolved_rate`, `low_csat_rate`,
    `mean_csat`, `nps`, `contacts_per_customer`, `csat_respondents`, `nps_answers`.
    """
    if lookback_days < 1:
        raise VinculoError("loyalty.bad_days", name="lookback_days", value=lookback_days)
    cohort = pl.concat(
        [
            churned.select(
                pl.col("customer_id").cast(pl.String),
                grp=pl.lit("churned"),
                window_end=pl.col("churn_day").cast(pl.Date),
            ),
            active_ids.select(
                pl.col("customer_id").cast(pl.String),
                grp=pl.lit("active"),
                window_end=pl.lit(as_of, dtype=pl.Date),
            ),
        ]
    )
    params = {"lookback": lookback_days}
    return _run_with(con, "loyalty_signal_cohort", cohort, _SIGNALS_SQL, params)


_TOUCHPOINTS_SQL = """
WITH ids AS (SELECT DISTINCT customer_id::VARCHAR AS customer_id FROM loyalty_touch_ids),
t AS (
    SELECT x.customer_id, 'interaction' AS kind, x.occurred_at AS ts, x.channel, x.type,
           x.outcome, x.subject, NULL::SMALLINT AS csat, NULL::SMALLINT AS nps,
           NULL::VARCHAR AS comment
    FROM interactions x JOIN ids USING (customer_id)
    WHERE x.occurred_at::DATE <= $as_of
    UNION ALL
    SELECT x.customer_id, 'feedback', x.answered_at, x.channel, x.survey, NULL, NULL,
           x.csat, x.nps, x.comment
    FROM feedback x JOIN ids USING (customer_id)
    WHERE x.answered_at::DATE <= $as_of
)
SELECT customer_id, kind, ts::DATE AS day, channel, type, outcome, subject, csat, nps, comment
FROM t
QUALIFY row_number() OVER (PARTITION BY customer_id, kind ORDER BY ts DESC, type, channel) <= $n
ORDER BY customer_id, ts DESC, kind
"""


def last_touchpoints(
    con: duckdb.DuckDBPyConnection, customer_ids: pl.DataFrame, as_of: date, n: int = 3
) -> pl.DataFrame:
    """The last `n` interactions and the last `n` survey answers of each customer, newest first.

    Only touchpoints on or before `as_of` (local day) count. Columns: `customer_id`, `kind`
    ("interaction" or "feedback"), `day` (Date), `channel`, `type` (interaction type, or the
    survey's name for feedback), `outcome`, `subject`, `csat` (1–5), `nps` (0–10), `comment`
    (customer text, as given). Rows sorted by customer, then newest first.
    """
    if n < 1:
        raise VinculoError("loyalty.bad_days", name="n", value=n)
    ids = customer_ids.select(pl.col("customer_id").cast(pl.String))
    return _run_with(con, "loyalty_touch_ids", ids, _TOUCHPOINTS_SQL, {"as_of": as_of, "n": n})


def touchpoint_digest(touchpoints: pl.DataFrame) -> pl.DataFrame:
    """One row per customer of `last_touchpoints` output: the latest contact and feedback.

    Columns: `customer_id`, `last_contact_day`, `last_contact_type`, `last_contact_outcome`
    (the newest interaction), `last_feedback_day`, `last_csat`, `last_nps` (the newest survey
    answer) and `last_comment` (the newest non-empty comment among the touchpoints given).
    """
    newest = touchpoints.sort("day", descending=True, maintain_order=True)
    contacts = (
        newest.filter(pl.col("kind") == "interaction")
        .group_by("customer_id", maintain_order=True)
        .agg(
            last_contact_day=pl.col("day").first(),
            last_contact_type=pl.col("type").first(),
            last_contact_outcome=pl.col("outcome").first(),
        )
    )
    answers = newest.filter(pl.col("kind") == "feedback")
    feedback = answers.group_by("customer_id", maintain_order=True).agg(
        last_feedback_day=pl.col("day").first(),
        last_csat=pl.col("csat").first(),
        last_nps=pl.col("nps").first(),
        last_comment=pl.col("comment")
        .filter(pl.col("comment").str.strip_chars().str.len_chars() > 0)
        .first(),
    )
    ids = touchpoints.select("customer_id").unique(maintain_order=True)
    return ids.join(contacts, on="customer_id", how="left").join(
        feedback, on="customer_id", how="left"
    )
