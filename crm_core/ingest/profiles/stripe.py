"""Stripe dashboard payments (charges) export.

`Created (UTC)` is UTC. A charge marked Paid but not `Captured` is only
authorised: it loads as `pending` (no revenue yet).
"""

from crm_core.ingest.profiles.base import Profile

STRIPE_PAYMENTS = Profile(
    name="stripe_payments",
    kind="orders",
    columns={
        "id": "order_id",
        "Created (UTC)": "ordered_at",
        "Amount": "gross_amount",
        "Amount Refunded": "refunded_amount",
        "Currency": "currency",
        "Status": "status",
        "Customer ID": "customer_id",
        "Customer Email": "customer_email",
        "Captured": "captured",
    },
    signature=("id", "Created (UTC)", "Amount"),
    utc_fields=("ordered_at",),
)
