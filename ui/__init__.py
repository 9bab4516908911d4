"""UI glue shared by `app.py` and the pages: language, store access, caching.

Caching lives here, not in `crm_core` (STYLE habit 15): cached functions are
keyed on the store path and its data version, so an upload or any other write
invalidates them.
"""
