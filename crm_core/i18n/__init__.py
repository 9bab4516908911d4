"""Message catalogues for Brazilian Portuguese and English.

One catalogue per language, split into one JSON file per area
(`en/store.json`, `pt_BR/ingest.json`, …) so that each module owns its
messages. `translate(key, lang, **params)` formats with `str.format`.
A missing translation falls back to English, then to the key itself, so a
gap shows up as a visible key rather than a crash.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("pt_BR", "en")
DEFAULT_LANGUAGE = "pt_BR"
_HERE = Path(__file__).resolve().parent


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, merged from its area files."""
    merged: dict[str, str] = {}
    folder = _HERE / lang
    for path in sorted(folder.glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The message `key` in `lang`, formatted with `params`."""
    lang = lang if lang in LANGUAGES else "en"
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
