"""Warm the shared caches in the background, so the first manager of the day does not wait.

At a million customers the customer summary and the CLV fit take tens of seconds cold;
every page needs them. The first run of the app after a start or a data change starts
one background thread (one per store and data version: `st.cache_resource`) that fills
the shared caches of `ui.analysis` for the default view: the latest order's day and the
active segment configuration. Streamlit computes a cached value once per key even when a
session asks for it while the thread is still computing it, so nothing is done twice.

Set `VINCULO_WARMUP=0` to switch it off (the test suite does, to keep CPU for the tests).
"""

from __future__ import annotations

import logging
import os
import threading

import streamlit as st

from crm_core import store
from crm_core.segment_config import SegmentConfig
from ui import analysis

log = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether the warm-up runs (`VINCULO_WARMUP`, default on)."""
    return os.environ.get("VINCULO_WARMUP", "1") != "0"


def warm_caches(db: str, version: int) -> list[str]:
    """Fill `ui.analysis`'s caches for the default view; returns the steps done, in order."""
    done: list[str] = []
    as_of = analysis.last_day(db, version)
    if as_of is None:
        return done
    with store.connect(db) as con:
        config_json = analysis.saved_config_json(db, store.config_version(con))
    window = SegmentConfig.from_json(config_json).window_days
    steps = (
        ("summary", lambda: analysis.summary(db, version, as_of, window)),
        ("clv", lambda: analysis.clv_fit(db, version, as_of)),
        ("segments", lambda: analysis.segmented(db, version, as_of, config_json)),
        ("stages", lambda: analysis.staged(db, version, as_of, config_json)),
        ("relationship", lambda: analysis.relationship(db, version, as_of, window)),
    )
    for name, step in steps:
        step()
        done.append(name)
    return done


def _run(db: str, version: int) -> None:
    try:
        log.info("warm-up done: %s", warm_caches(db, version))
    except Exception:  # a warm-up failure must never take the server down
        log.exception("cache warm-up failed; pages will compute on first visit")


@st.cache_resource(show_spinner=False, max_entries=2)
def start(db: str, version: int) -> threading.Thread | None:
    """Start the warm-up thread for (store, data version) once per server process."""
    if not enabled():
        return None
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )  # cached functions called off the script thread warn about the missing context
    thread = threading.Thread(target=_run, args=(db, version), name="vinculo-warmup", daemon=True)
    thread.start()
    return thread
