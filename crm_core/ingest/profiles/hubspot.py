"""HubSpot CRM contacts export."""

from crm_core.ingest.profiles.base import Profile

HUBSPOT_CONTACTS = Profile(
    name="hubspot_contacts",
    kind="customers",
    columns={
        "Record ID": "customer_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "phone",
        "Create Date": "created_at",
        "Lifecycle Stage": "lifecycle_stage",
        "Contact owner": "account_manager",
        "Original Source": "acquisition_channel",
        "City": "city",
        "State/Region": "state",
        "Postal Code": "zip",
        "Country/Region": "country",
    },
    signature=("Record ID", "Email"),
)
