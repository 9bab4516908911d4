"""Salesforce report exports (opportunities, accounts, contacts).

Report exports end with footer lines ("Grand Totals", "Confidential
Information - Do Not Distribute", "Copyright (c) … salesforce.com"), which the
sniffer drops and reports.
"""

from crm_core.ingest.profiles.base import Profile

SALESFORCE_OPPORTUNITIES = Profile(
    name="salesforce_opportunities",
    kind="orders",
    columns={
        "Opportunity ID": "order_id",
        "Account ID": "customer_id",
        "Close Date": "ordered_at",
        "Amount": "gross_amount",
        "Stage": "status",
        "Lead Source": "sales_channel",
        "Type": "category",
        "Amount Currency": "currency",
    },
    signature=("Opportunity ID", "Close Date"),
    footers=True,
)

SALESFORCE_ACCOUNTS = Profile(
    name="salesforce_accounts",
    kind="customers",
    columns={
        "Account ID": "customer_id",
        "Account Name": "name",
        "Phone": "phone",
        "Billing City": "city",
        "Billing State/Province": "state",
        "Billing Zip/Postal Code": "zip",
        "Billing Country": "country",
        "Account Owner": "account_manager",
        "Account Source": "acquisition_channel",
        "Created Date": "created_at",
    },
    signature=("Account ID", "Account Name"),
    footers=True,
)

SALESFORCE_CONTACTS = Profile(
    name="salesforce_contacts",
    kind="customers",
    columns={
        "Contact ID": "customer_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone": "phone",
        "Mailing City": "city",
        "Mailing State/Province": "state",
        "Mailing Zip/Postal Code": "zip",
        "Mailing Country": "country",
        "Lead Source": "acquisition_channel",
        "Contact Owner": "account_manager",
        "Created Date": "created_at",
        "Email Opt Out": "email_opt_out",
    },
    signature=("Contact ID", "Email"),
    footers=True,
)
