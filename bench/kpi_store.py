"""Build a synthetic store for timing the KPI and cohort queries (DuckDB SQL generators only).

`build_kpi_store(path, customers=1_000_000, orders_per_customer=10)` fills a fresh store with
customers, orders (about `orders_per_customer` each over 2023-01-01..2025-12-31, between the
customer's acquisition and the end of an exponential lifetime of mean one year; mixed
statuses), interactions (3 per customer) and feedback (0.5 per customer).
"""

from __future__ import annotations

from pathlib import Path

from crm_core import store


def build_kpi_store(
    path: Path,
    customers: int = 1_000_000,
    orders_per_customer: int = 10,
    *,
    ordered: bool = True,
    lifetime: str = "exponential",
) -> None:
    """Create the synthetic store at `path` (overwritten).

    `ordered`: rows stored in time order, as chronological exports load (DuckDB's
    zone maps then skip the row groups outside a period); False = random order.
    """
    path.unlink(missing_ok=True)
    n_orders = customers * orders_per_customer
    # Acquisition day a uniform over 3 years; a customer buys until the data ends
    # ("everyone", every customer stays) or for an exponential lifetime of mean 1 year.
    if lifetime == "everyone":
        life_sql = "1095"
    else:
        life_sql = "-365 * ln(((hash(c) % 1000003) + 1) / 1000004.0)"
    with store.connect(path) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("SELECT setseed(0.42)")
        con.execute(
            f"""
            INSERT INTO customers (customer_id, created_at, is_lead, is_placeholder,
                                   acquisition_channel, state)
            SELECT 'C' || lpad(i::VARCHAR, 7, '0'),
                   TIMESTAMPTZ '2023-01-01 12:00:00' + to_days((i * 7919 % 1095)::INTEGER),
                   false, false,
                   ['web', 'store', 'app', 'partner'][1 + (i % 4)::INTEGER],
                   ['SP', 'RJ', 'MG', 'RS', 'BA'][1 + (i % 5)::INTEGER]
            FROM range({customers}) t(i)
            """
        )
        con.execute(
            f"""
            INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount,
                                refunded_amount, status, sales_channel, category)
            SELECT 'O' || j,
                   'C' || lpad(c::VARCHAR, 7, '0'),
                   TIMESTAMPTZ '2023-01-01 00:00:00-03'
                     + to_seconds(((a + random() * life) * 86400)::BIGINT),
                   round(20 + random() * 480, 2)::DECIMAL(18,2),
                   CASE WHEN s = 'partially_refunded' THEN 10 WHEN s = 'refunded' THEN 20
                        ELSE 0 END,
                   s,
                   ['web', 'store', 'app'][1 + (j % 3)::INTEGER],
                   ['books', 'toys', 'home', 'garden'][1 + (j % 4)::INTEGER]
            FROM (
                SELECT j, c, u, a,
                       greatest(1, least(1095 - a, {life_sql})) AS life
                FROM (SELECT j, (hash(j) % {customers})::BIGINT AS c, random() AS u
                      FROM range({n_orders}) t(j)),
                LATERAL (SELECT (c * 7919 % 1095)::DOUBLE AS a)
            ), LATERAL (SELECT CASE WHEN u < 0.90 THEN 'completed'
                                    WHEN u < 0.93 THEN 'partially_refunded'
                                    WHEN u < 0.96 THEN 'refunded'
                                    WHEN u < 0.99 THEN 'cancelled' ELSE 'failed' END AS s)
            {"ORDER BY 3" if ordered else ""}
            """
        )
        con.execute(
            f"""
            INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type)
            SELECT 'I' || j, 'C' || lpad(((hash(j * 3) % {customers}))::VARCHAR, 7, '0'),
                   TIMESTAMPTZ '2023-01-01 00:00:00-03'
                     + to_seconds((random() * 1095 * 86400)::BIGINT),
                   ['email', 'phone', 'whatsapp', 'chat'][1 + (j % 4)::INTEGER], 'support'
            FROM range({customers * 3}) t(j) {"ORDER BY 3" if ordered else ""}
            """
        )
        con.execute(
            f"""
            INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, nps)
            SELECT 'F' || j, 'C' || lpad(((hash(j * 5) % {customers}))::VARCHAR, 7, '0'),
                   TIMESTAMPTZ '2023-01-01 00:00:00-03'
                     + to_seconds((random() * 1095 * 86400)::BIGINT),
                   (1 + floor(random() * 5))::SMALLINT, floor(random() * 11)::SMALLINT
            FROM range({customers // 2}) t(j) {"ORDER BY 3" if ordered else ""}
            """
        )
        con.execute("CHECKPOINT")
