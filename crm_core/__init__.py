"""Vínculo's domain core: the customer store, ingestion and the CRM models.

Nothing here imports Streamlit: pages, tests, benchmarks and the command line
share one implementation.
"""

__version__ = "0.1.0"
