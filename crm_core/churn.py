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
from crm_core.loyalty import CHURNED_STAGE, beside

GROUPS: tuple[str, ...] = ("churned", "active")
SIGNAL_RATES: tuple[str, ...] = ("complaint_rate", "unresolved_rate", "low_csat_rate")

# Offsets are days before the customer's window end (0 = the end day itself), so an event is
# inside a window of L days exactly when its offset is below L. Per group and offset: how many
# customers have their *nearest* complaint / unresolved ticket / CSAT answer / low CSAT there,
# and how many contacts and answers fall there. Any lookback up to the maximum is then a sum
# over offsets below it, without going back to the store.
_PROFILE_SQL = """
WITH cohort AS (
    SELECT customer_id::VARCHAR AS customer_id, grp, window_end::DATE AS window_end
    FROM loyalty_signal_cohort
), ev AS (
    SELECT c.grp, c.customer_id, c.window_end - x.occurred_at::DATE AS off,
           x.type = 'complaint' AS complaint, x.outcome = 'unresolved' AS unresolved
    FROM interaction_facts x JOIN cohort c ON x.customer_id = c.customer_id
    WHERE x.occurred_at::DATE <= c.window_end
      AND x.occurred_at::DATE > c.window_end - $max_days::INTEGER
), fb AS (
    SELECT c.grp, c.customer_id, c.window_end - x.answered_at::DATE AS off, x.csat, x.nps
    FROM feedback_facts x JOIN cohort c ON x.customer_id = c.customer_id
    WHERE x.answered_at::DATE <= c.window_end
      AND x.answered_at::DATE > c.window_end - $max_days::INTEGER
), nearest AS (
    SELECT grp, customer_id, min(off) FILTER (complaint) AS complaint,
           min(off) FILTER (unresolved) AS unresolved, NULL::BIGINT AS csat, NULL::BIGINT AS low
    FROM ev GROUP BY grp, customer_id
    UNION ALL
    SELECT grp, customer_id, NULL, NULL, min(off) FILTER (csat IS NOT NULL),
           min(off) FILTER (csat <= 2)
    FROM fb GROUP BY grp, customer_id
), firsts AS (
    SELECT grp, 'complaint' AS what, complaint AS off FROM nearest WHERE complaint IS NOT NULL
    UNION ALL SELECT grp, 'unresolved', unresolved FROM nearest WHERE unresolved IS NOT NULL
    UNION ALL SELECT grp, 'csat', csat FROM nearest WHERE csat IS NOT NULL
    UNION ALL SELECT grp, 'low', low FROM nearest WHERE low IS NOT NULL
), first_counts AS (
    SELECT grp, off, count(*) FILTER (what = 'complaint') AS first_complaint,
           count(*) FILTER (what = 'unresolved') AS first_unresolved,
           count(*) FILTER (what = 'csat') AS first_csat,
           count(*) FILTER (what = 'low') AS first_low_csat
    FROM firsts GROUP BY grp, off
), contact_counts AS (
    SELECT grp, off, count(*) AS contacts FROM ev GROUP BY grp, off
), answer_counts AS (
    SELECT grp, off, count(csat) AS csat_answers, sum(csat) AS csat_sum,
           count(nps) AS nps_answers, count(*) FILTER (nps >= 9) AS promoters,
           count(*) FILTER (nps <= 6) AS detractors
    FROM fb GROUP BY grp, off
), sizes AS (
    SELECT grp, count(*) AS customers FROM cohort GROUP BY grp
)
SELECT k.grp AS "group", o.off AS offset_days, coalesce(s.customers, 0)::BIGINT AS customers,
       COLUMNS(f.* EXCLUDE (grp, off))::BIGINT, COLUMNS(c.* EXCLUDE (grp, off))::BIGINT,
       COLUMNS(a.* EXCLUDE (grp, off))::BIGINT
FROM (VALUES ('churned', 0), ('active', 1)) k(grp, pos)
CROSS JOIN range(0, $max_days::INTEGER) o(off)
LEFT JOIN sizes s ON s.grp = k.grp
LEFT JOIN first_counts f ON f.grp = k.grp AND f.off = o.off
LEFT JOIN contact_counts c ON c.grp = k.grp AND c.off = o.off
LEFT JOIN answer_counts a ON a.grp = k.grp AND a.off = o.off
ORDER BY k.pos, o.off
"""

PROFILE_COUNTS: tuple[str, ...] = (
    "first_complaint",
    "first_unresolved",
    "first_csat",
    "first_low_csat",
    "contacts",
    "csat_answers",
    "csat_sum",
    "nps_answers",
    "promoters",
    "detractors",
)
"""Per (group, offset) counts of `signal_profile` (see the comment on `_PROFILE_SQL`)."""


def active_buyers(staged: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """`customer_id` of every buyer (≥ 1 purchase day) not in the dissolution stage."""
    stages = staged.select("customer_id", pl.col("stage").cast(pl.String))
    frame = beside(stages, summary, ["purchase_days"])
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


def signal_profile(
    con: duckdb.DuckDBPyConnection,
    churned: pl.DataFrame,
    active_ids: pl.DataFrame,
    as_of: date,
    max_lookback_days: int = 720,
) -> pl.DataFrame:
    """Everything `signals_at` needs for any lookback up to `max_lookback_days`, in one query.

    `churned` is `crm_core.loyalty.churned_customers` output (`customer_id`, `churn_day`);
    `active_ids` has `customer_id` (e.g. `active_buyers`); `as_of` ends the active window.
    One row per group ("churned", "active") and `offset_days` in [0, max_lookback_days):
    `customers` (group size) and the `PROFILE_COUNTS` (Int64, zeros where nothing happened).
    """
    if max_lookback_days < 1:
        raise VinculoError("loyalty.bad_days", name="lookback_days", value=max_lookback_days)
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
    params = {"max_days": max_lookback_days}
    profile = _run_with(con, "loyalty_signal_cohort", cohort, _PROFILE_SQL, params)
    return profile.with_columns(pl.col(PROFILE_COUNTS).fill_null(0))


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den)


def signals_at(profile: pl.DataFrame, lookback_days: int) -> pl.DataFrame:
    """The signals of the module docstring for a `lookback_days` window, from `signal_profile`.

    Pure Polars over at most 2 × max-lookback rows, so a lookback change costs microseconds.
    Columns as `pre_churn_signals`.
    """
    max_days = int(profile["offset_days"].max() or 0) + 1
    if not 1 <= lookback_days <= max_days:
        raise VinculoError("loyalty.bad_days", name="lookback_days", value=lookback_days)
    total = (
        profile.filter(pl.col("offset_days") < lookback_days)
        .group_by("group", maintain_order=True)
        .agg(pl.col("customers").first(), pl.col(PROFILE_COUNTS).sum())
    )
    n = pl.col("customers")
    return total.select(
        "group",
        "customers",
        complaint_rate=_ratio(pl.col("first_complaint"), n),
        unresolved_rate=_ratio(pl.col("first_unresolved"), n),
        low_csat_rate=_ratio(pl.col("first_low_csat"), pl.col("first_csat")),
        mean_csat=_ratio(pl.col("csat_sum"), pl.col("csat_answers")),
        nps=_ratio(100.0 * (pl.col("promoters") - pl.col("detractors")), pl.col("nps_answers")),
        contacts_per_customer=_ratio(pl.col("contacts"), n),
        csat_respondents="first_csat",
        nps_answers="nps_answers",
    )


def pre_churn_signals(
    con: duckdb.DuckDBPyConnection,
    churned: pl.DataFrame,
    active_ids: pl.DataFrame,
    as_of: date,
    lookback_days: int = 180,
) -> pl.DataFrame:
    """Churned vs active buyers on the signals of the module docstring, one row per group.

    Arguments as `signal_profile`; `lookback_days` (≥ 1) is the window length in days.
    Columns: `group` ("churned" then "active"), `customers`, `complaint_rate`,
    `unresolved_rate`, `low_csat_rate`, `mean_csat`, `nps`, `contacts_per_customer`,
    `csat_respondents`, `nps_answers`.
    """
    if lookback_days < 1:
        raise VinculoError("loyalty.bad_days", name="lookback_days", value=lookback_days)
    profile = signal_profile(con, churned, active_ids, as_of, lookback_days)
    return signals_at(profile, lookback_days)


_TOUCHPOINTS_SQL = """
WITH ids AS (SELECT DISTINCT customer_id::VARCHAR AS customer_id FROM loyalty_touch_ids),
t AS (
    SELECT x.customer_id, 'interaction' AS kind, x.occurred_at AS ts, x.channel, x.type,
           x.outcome, x.subject, NULL::SMALLINT AS csat, NULL::SMALLINT AS nps,
           NULL::VARCHAR AS comment
    FROM interaction_facts x JOIN ids USING (customer_id)
    WHERE x.occurred_at::DATE <= $as_of
    UNION ALL
    SELECT x.customer_id, 'feedback', x.answered_at, x.channel, x.survey, NULL, NULL,
           x.csat, x.nps, x.comment
    FROM feedback_facts x JOIN ids USING (customer_id)
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
