"""The page tests' fixtures (accounts file, demo store) for the concurrency test."""

from tests.pages.conftest import auth_file, demo_db, demo_template  # noqa: F401
