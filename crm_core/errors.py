"""Errors meant for users: our own type, with a message in the user's language.

Tracebacks are for bugs. Anything a user can cause (a bad file, a busy store,
a model that cannot be fitted on thin data) raises a `VinculoError` whose
message key lives in the i18n catalogue, so the UI and the command line can
show it in Portuguese or English.
"""

from __future__ import annotations

from typing import Any

from crm_core.i18n import translate


class VinculoError(Exception):
    """A user-facing error: a catalogue key plus the values its message needs."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The error's message in `lang` ("en" or "pt_BR")."""
        return translate(self.key, lang, **self.params)


class StoreBusyError(VinculoError):
    """Another process held the store's write lock for longer than we waited."""


class SchemaError(VinculoError):
    """The store was written by a newer Vínculo than this one."""
