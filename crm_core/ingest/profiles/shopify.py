"""Shopify admin exports (orders: one row per line item; customers)."""

from crm_core.ingest.profiles.base import Profile

SHOPIFY_ORDERS = Profile(
    name="shopify_orders",
    kind="orders",
    columns={
        "Name": "order_id",
        "Email": "customer_email",
        "Created at": "ordered_at",
        "Total": "gross_amount",
        "Discount Amount": "discount_amount",
        "Refunded Amount": "refunded_amount",
        "Financial Status": "status",
        "Cancelled at": "cancelled_at",
        "Currency": "currency",
        "Source": "sales_channel",
        "Lineitem quantity": "quantity",
        "Lineitem name": "product",
        "Lineitem price": "unit_price",
        "Lineitem sku": "sku",
    },
    signature=("Name", "Financial Status", "Lineitem name"),
    date_order="mdy",
)

SHOPIFY_CUSTOMERS = Profile(
    name="shopify_customers",
    kind="customers",
    columns={
        "Customer ID": "customer_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Accepts Email Marketing": "email_consent",
        "Accepts Marketing": "email_consent",
        "Accepts SMS Marketing": "sms_consent",
        "Phone": "phone",
        "Default Address City": "city",
        "Default Address Province Code": "state",
        "Default Address Country Code": "country",
        "Default Address Zip": "zip",
        "City": "city",
        "Province Code": "state",
        "Country Code": "country",
        "Zip": "zip",
    },
    signature=("Customer ID", "First Name", "Email"),
)
