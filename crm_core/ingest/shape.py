"""From validated rows to the rows each store table receives (still in staging).

Derivations, each a definition:
- order status: `cancelled` when the source gives a cancellation time; a paid
  charge not captured (Stripe) is `pending`;
  a paid order whose refunds reach its total is `refunded`, below it
  `partially_refunded`; a `refunded` order with no refunded amount given is
  refunded in full. No status column means `completed`. Currency defaults BRL.
- customer name: the name column, else first and last name joined.
- is_lead: the lead column, else a lifecycle stage before "customer".
- interaction/feedback id: the file's id, else `h` + the first 20 hex digits of
  the MD5 of customer, instant and the descriptive fields, so overlapping
  exports of the same events do not double count.
Rows repeating an id already seen in the file are duplicates (first one kept).
"""

from __future__ import annotations

import duckdb

from crm_core.ingest.convert import norm
from crm_core.ingest.vocab import LEAD_STAGES

GOOD = "FROM checked WHERE reject IS NULL"


def _dedup(con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    """`table`: the view `table_all`, keeping only the first row (by line) of a repeated key.

    A view when no key repeats (no copy of a big upload), else a table.
    """
    total, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT {key}) FROM {table}_all"
    ).fetchall()[0]
    if total == distinct:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {table}_all")
    else:
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_all "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY line) = 1"
        )


def shape_orders(con: duckdb.DuckDBPyConnection, source: str, line_items: bool) -> None:
    """`stg_orders` (one per order) and `stg_items` (line items, line-item files only)."""
    status = "coalesce(status, 'completed')"
    items = "items" if line_items else "coalesce(items, quantity)"
    con.execute(f"""CREATE OR REPLACE VIEW stg_orders_all AS
        SELECT order_id, customer_id AS cust_id, customer_email AS cust_email, ordered_at,
            gross_amount, coalesce(discount_amount, 0)::DECIMAL(18,2) AS discount_amount,
            (CASE WHEN {status} = 'refunded' AND coalesce(refunded_amount, 0) = 0
                  THEN gross_amount ELSE coalesce(refunded_amount, 0) END)::DECIMAL(18,2)
                AS refunded_amount,
            CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled'
                 WHEN {status} = 'completed' AND captured = false THEN 'pending'
                 WHEN {status} = 'completed' AND gross_amount > 0
                      AND refunded_amount >= gross_amount THEN 'refunded'
                 WHEN {status} = 'completed' AND refunded_amount > 0 THEN 'partially_refunded'
                 ELSE {status} END AS status,
            coalesce(upper(currency), 'BRL') AS currency, sales_channel, category,
            ({items})::INTEGER AS items, '{source}' AS source, line
        {GOOD} AND line = first_line""")
    if line_items:
        con.execute("CREATE OR REPLACE TABLE stg_orders AS SELECT * FROM stg_orders_all")
        con.execute(f"""CREATE OR REPLACE TABLE stg_items AS
            SELECT order_id, row_number() OVER (PARTITION BY order_id ORDER BY line)::INTEGER
                AS line_no, sku, product, category, quantity::INTEGER AS quantity, unit_price,
                (quantity * unit_price)::DECIMAL(18,2) AS line_total, line
            {GOOD}""")
        con.execute("""UPDATE stg_orders SET items = s.n FROM
            (SELECT order_id, sum(coalesce(quantity, 1))::INTEGER AS n FROM stg_items GROUP BY 1) s
            WHERE stg_orders.order_id = s.order_id AND stg_orders.items IS NULL""")
    else:
        _dedup(con, "stg_orders", "order_id")


def shape_customers(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """`stg_records` (customer_records rows) and `stg_consents`."""
    lead = f"{norm('lifecycle_stage')} IN ({', '.join(repr(s) for s in LEAD_STAGES)})"
    con.execute(f"""CREATE OR REPLACE TABLE stg_records AS
        SELECT customer_id AS cust_id, email AS cust_email,
            coalesce(name, NULLIF(concat_ws(' ', first_name, last_name), '')) AS name,
            email, phone, document, birth_date, gender, city, upper(state) AS state, zip,
            country, acquisition_channel, account_manager, created_at,
            coalesce(is_lead, CASE WHEN lifecycle_stage IS NOT NULL THEN {lead} END) AS is_lead,
            '{source}' AS source, line,
            email_consent, sms_consent, whatsapp_consent, email_opt_out
        {GOOD}""")


def shape_interactions(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """`stg_interactions`, one per interaction id."""
    key = (
        "concat_ws('|', coalesce(customer_id, customer_email), epoch_ms(occurred_at), "
        "channel, type, direction, outcome, campaign, subject)"
    )
    con.execute(f"""CREATE OR REPLACE VIEW stg_interactions_all AS
        SELECT coalesce(interaction_id, 'h' || left(md5({key}), 20)) AS interaction_id,
            customer_id AS cust_id, customer_email AS cust_email, occurred_at, channel, type,
            direction, outcome, campaign, owner, subject, '{source}' AS source, line
        {GOOD}""")
    _dedup(con, "stg_interactions", "interaction_id")


def shape_feedback(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """`stg_feedback`, one per answer id."""
    key = (
        "concat_ws('|', coalesce(customer_id, customer_email), epoch_ms(answered_at), "
        "csat, nps, survey, comment)"
    )
    con.execute(f"""CREATE OR REPLACE VIEW stg_feedback_all AS
        SELECT coalesce(feedback_id, 'h' || left(md5({key}), 20)) AS feedback_id,
            customer_id AS cust_id, customer_email AS cust_email, answered_at,
            csat::SMALLINT AS csat, nps::SMALLINT AS nps, comment, survey, channel,
            '{source}' AS source, line
        {GOOD}""")
    _dedup(con, "stg_feedback", "feedback_id")


SHAPERS = {
    "customers": shape_customers,
    "interactions": shape_interactions,
    "feedback": shape_feedback,
}
STAGED_TABLES = {
    "customers": ("stg_records",),
    "orders": ("stg_orders", "stg_items"),
    "interactions": ("stg_interactions",),
    "feedback": ("stg_feedback",),
}
