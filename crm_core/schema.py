"""The store's schema as an ordered list of migrations.

Each migration is `(version, statements)`; `store.migrate` applies, in one
transaction each, the ones whose version is above the store's. Migrations are
append-only: never edit one that has shipped, add the next.

Conventions
- Money is `DECIMAL(18,2)` in the order's currency (no float sums drifting).
- Instants are `TIMESTAMPTZ` (UTC inside DuckDB); calendar days are taken in the
  business time zone set on every connection (`CRM_TZ`, default
  America/Sao_Paulo).
- Every row that came from a file carries `upload_id` and its source `line`,
  so an upload can be traced and undone.
- Uniqueness of business keys (order id, interaction id, …) is enforced by the
  load step (anti-joins inside the upload's transaction) rather than by ART
  indexes, which cost memory and time on ten million rows.
"""

from __future__ import annotations

# The facts a source can say about a person, in table order (customers and
# customer_records); `created_at` and `is_lead` close the list.
CONTACT_FIELDS: tuple[str, ...] = (
    "name", "email", "phone", "document", "birth_date", "gender",
    "city", "state", "zip", "country", "acquisition_channel", "account_manager",
)  # fmt: skip
PERSON_FIELDS: tuple[str, ...] = (*CONTACT_FIELDS, "created_at", "is_lead")

_PERSON = """
    name VARCHAR, email VARCHAR, phone VARCHAR, document VARCHAR,
    birth_date DATE, gender VARCHAR,
    city VARCHAR, state VARCHAR, zip VARCHAR, country VARCHAR,
    acquisition_channel VARCHAR, account_manager VARCHAR,
    created_at TIMESTAMPTZ, is_lead BOOLEAN
"""

V1: list[str] = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS upload_seq START 1",
    "CREATE SEQUENCE IF NOT EXISTS audit_seq START 1",
    """CREATE TABLE IF NOT EXISTS uploads (
        upload_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,              -- customers | orders | interactions | feedback
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,            -- of the file's bytes as uploaded
        profile VARCHAR, encoding VARCHAR, delimiter VARCHAR,
        decimal_sep VARCHAR, date_format VARCHAR,
        uploaded_by VARCHAR, uploaded_at TIMESTAMPTZ NOT NULL,
        rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL, rows_duplicate BIGINT NOT NULL DEFAULT 0,
        status VARCHAR NOT NULL DEFAULT 'applied',   -- applied | undone
        undone_at TIMESTAMPTZ, undone_by VARCHAR,
        report JSON
    )""",
    """CREATE TABLE IF NOT EXISTS rejected_rows (
        upload_id INTEGER NOT NULL, line BIGINT, column_name VARCHAR,
        reason VARCHAR NOT NULL, raw VARCHAR
    )""",
    # One row per customer record as a source delivered it; `customers` is
    # built from these (latest non-null value per field), so undoing an upload
    # or un-merging identities never loses what a source said.
    f"""CREATE TABLE IF NOT EXISTS customer_records (
        upload_id INTEGER, line BIGINT, customer_id VARCHAR NOT NULL,
        {_PERSON}, source VARCHAR
    )""",
    f"""CREATE TABLE IF NOT EXISTS customers (
        customer_id VARCHAR PRIMARY KEY,
        {_PERSON},
        is_placeholder BOOLEAN NOT NULL DEFAULT FALSE,  -- created because an order named it
        source VARCHAR, updated_at TIMESTAMPTZ, erased_at TIMESTAMPTZ
    )""",
    """CREATE TABLE IF NOT EXISTS consents (
        customer_id VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,           -- email | sms | whatsapp | phone | mail
        granted BOOLEAN NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        source VARCHAR, upload_id INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS orders (
        order_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        ordered_at TIMESTAMPTZ NOT NULL,
        gross_amount DECIMAL(18,2) NOT NULL,      -- total charged, incl. shipping and tax
        discount_amount DECIMAL(18,2) NOT NULL DEFAULT 0,
        refunded_amount DECIMAL(18,2) NOT NULL DEFAULT 0,
        -- status: completed | partially_refunded | refunded | cancelled | failed | pending
        status VARCHAR NOT NULL,
        currency VARCHAR NOT NULL DEFAULT 'BRL',
        sales_channel VARCHAR, category VARCHAR, items INTEGER,
        source VARCHAR, upload_id INTEGER, line BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS order_items (
        order_id VARCHAR NOT NULL, line_no INTEGER NOT NULL,
        sku VARCHAR, product VARCHAR, category VARCHAR,
        quantity INTEGER, unit_price DECIMAL(18,2), line_total DECIMAL(18,2),
        upload_id INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS interactions (
        interaction_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        -- channel: email | phone | whatsapp | chat | sms | visit | community | web
        channel VARCHAR NOT NULL,
        -- type: campaign | support | sales | complaint | onboarding | community_post
        type VARCHAR,
        direction VARCHAR,          -- inbound | outbound
        -- outcome: delivered | opened | clicked | responded | converted |
        --          resolved | unresolved | no_answer
        outcome VARCHAR,
        campaign VARCHAR, owner VARCHAR, subject VARCHAR,
        source VARCHAR, upload_id INTEGER, line BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS feedback (
        feedback_id VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        answered_at TIMESTAMPTZ NOT NULL,
        csat SMALLINT CHECK (csat BETWEEN 1 AND 5),
        nps SMALLINT CHECK (nps BETWEEN 0 AND 10),
        comment VARCHAR, survey VARCHAR, channel VARCHAR,
        source VARCHAR, upload_id INTEGER, line BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
        logged_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
        target VARCHAR, rows BIGINT, detail JSON
    )""",
    # Named, versioned configurations (segment thresholds, rules, settings):
    # data, not constants in code.
    """CREATE TABLE IF NOT EXISTS configs (
        kind VARCHAR NOT NULL, name VARCHAR NOT NULL, version INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        created_by VARCHAR, body JSON NOT NULL,
        PRIMARY KEY (kind, name, version)
    )""",
    # Demo data only: the seeded duplicate identities, so identity resolution
    # can be scored (precision/recall) against a known truth.
    """CREATE TABLE IF NOT EXISTS demo_truth (
        customer_id VARCHAR NOT NULL, same_person_as VARCHAR NOT NULL
    )""",
    # Revenue definitions in one place: cancelled, failed and pending orders
    # bring no revenue; refunds are subtracted.
    """CREATE OR REPLACE VIEW order_facts AS
    SELECT o.*,
        CASE WHEN o.status IN ('cancelled', 'failed', 'pending') THEN 0::DECIMAL(18,2)
             ELSE o.gross_amount - o.refunded_amount END AS net_amount,
        o.status IN ('completed', 'partially_refunded') AS is_purchase
    FROM orders o""",
]

# Identity resolution: a merge links a customer id to its golden record; an
# un-merge closes the link (`unlinked_at`), never deletes it or a source row.
V2: list[str] = [
    """CREATE TABLE IF NOT EXISTS identity_links (
        customer_id VARCHAR NOT NULL,
        golden_id VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,              -- manual | auto | document | email | phone | ...
        score DOUBLE,                       -- match score 0-1 when a rule proposed it
        linked_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        linked_by VARCHAR NOT NULL,
        unlinked_at TIMESTAMPTZ, unlinked_by VARCHAR
    )""",
]

_ACTIVE_LINKS = "(SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL)"


def _golden_facts(view: str, table: str) -> str:
    """A fact view whose `customer_id` is the golden record's id (the row's own id when it
    is merged into nothing); the id the source gave is kept as `source_customer_id`."""
    return f"""CREATE OR REPLACE VIEW {view} AS
    SELECT t.* REPLACE (coalesce(l.golden_id, t.customer_id) AS customer_id),
        t.customer_id AS source_customer_id
    FROM {table} t LEFT JOIN {_ACTIVE_LINKS} l ON l.customer_id = t.customer_id"""


# Golden roll-up: analytics count the records merged into one golden record as one
# customer. They read the fact views (orders, interactions, feedback under the golden
# id) and `golden_customers` (the customers merged into no other record); the source
# rows stay as they came, so an un-merge (closing the link) restores the split.
# `identity_rejections`: pairs a reviewer decided are two people (a < b), never
# proposed again.
V3: list[str] = [
    """CREATE TABLE IF NOT EXISTS identity_rejections (
        customer_id_a VARCHAR NOT NULL,
        customer_id_b VARCHAR NOT NULL,
        decided_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        decided_by VARCHAR NOT NULL,
        PRIMARY KEY (customer_id_a, customer_id_b)
    )""",
    f"""CREATE OR REPLACE VIEW order_facts AS
    SELECT o.* REPLACE (coalesce(l.golden_id, o.customer_id) AS customer_id),
        CASE WHEN o.status IN ('cancelled', 'failed', 'pending') THEN 0::DECIMAL(18,2)
             ELSE o.gross_amount - o.refunded_amount END AS net_amount,
        o.status IN ('completed', 'partially_refunded') AS is_purchase,
        o.customer_id AS source_customer_id
    FROM orders o LEFT JOIN {_ACTIVE_LINKS} l ON l.customer_id = o.customer_id""",
    _golden_facts("interaction_facts", "interactions"),
    _golden_facts("feedback_facts", "feedback"),
    f"""CREATE OR REPLACE VIEW golden_customers AS
    SELECT c.* FROM customers c ANTI JOIN {_ACTIVE_LINKS} l ON l.customer_id = c.customer_id""",
]

MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, V1),
    (2, V2),
    (3, V3),
]

LATEST_VERSION: int = MIGRATIONS[-1][0]

# What a company knows about its customers (filled by uploads or the demo).
FACT_TABLES: tuple[str, ...] = (
    "customers",
    "customer_records",
    "consents",
    "orders",
    "order_items",
    "interactions",
    "feedback",
)
DATA_TABLES: tuple[str, ...] = (*FACT_TABLES, "uploads", "rejected_rows")
DEMO_TABLES: tuple[str, ...] = (*FACT_TABLES, "demo_truth")
