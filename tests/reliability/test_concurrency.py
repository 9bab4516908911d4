"""Twenty users browse while an upload and a threshold save run: no error, no lost write.

Twenty threads each run `AppTest` sessions of the real app (`open_page`, signed
in as one of the four roles, in either language) over pages every role may
open, on the 4,000-customer demo store. While they browse, two more threads
write, as the app's own pages do, in the same server process: an upload of
50,000 orders (`ingest_file`, as marketing) and a threshold save
(`save_config`, as analyst). Afterwards: no session raised or showed an error,
both writes are in the store (the orders, the saved version), each has its
audit event, the data version moved, and a session opened after the writes
runs on the new data version.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from streamlit import config
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.runtime import Runtime
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test
from streamlit.testing.v1.util import build_mock_config_get_option

from crm_core import store
from crm_core.ingest import ingest_file
from crm_core.segment_config import default_config
from crm_core.segment_store import latest_config, save_config
from tests.ingest.test_interrupt import big_orders
from tests.pages.conftest import TEST_USERS, open_page

pytestmark = pytest.mark.slow

USERS = 20
ROLES = ("admin", "manager", "analyst", "marketing")
PAGES = (
    "pages/overview.py",
    "pages/customers.py",
    "pages/loyalty.py",
    "pages/store.py",
    "pages/lifecycle.py",
    "pages/intimacy.py",
)
VISITS = 3  # pages per user
UPLOAD_ROWS = 50_000


@pytest.fixture
def shared_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let `AppTest` sessions run at the same time, like sessions of one server.

    `AppTest._run` installs a mock `Runtime` as a process global for the length
    of one run and removes it at the end, and patches `config.get_option` the
    same way; two sessions running at once would remove each other's. Here one
    shared runtime (media files, dataframe sources, caches — shared by every
    session, as on a server) and the test's config stay in place for the whole
    test, and AppTest's per-run swaps become no-ops.
    """
    shared = MagicMock(spec=Runtime)
    shared.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    shared.dataframe_source_mgr = DataframeSourceManager()
    shared.cache_storage_manager = MemoryCacheStorageManager()
    shared.bidi_component_registry = BidiComponentManager()
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: shared))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))
    monkeypatch.setattr(app_test, "patch_config_options", lambda _: contextlib.nullcontext())
    monkeypatch.setattr(
        config, "get_option", build_mock_config_get_option({"global.appTest": True})
    )
    # Found by this test: Streamlit imports pandas lazily (in st.dataframe) and plotly
    # reads sys.modules["pandas"] without the import lock, so a chart built while another
    # session was importing pandas failed ("partially initialized module 'pandas'");
    # app.py now imports pandas eagerly. Nothing is preloaded here, so this test guards it.
    yield


def _browse(user: int, start: threading.Barrier) -> list[str]:
    """One user's visits; the problems seen (exceptions, error messages), if any."""
    role, lang = ROLES[user % len(ROLES)], ("en", "pt_BR")[user % 2]
    start.wait()
    problems = []
    for visit in range(VISITS):
        page = PAGES[(user + visit * 3) % len(PAGES)]
        try:
            at = open_page(page, lang, timeout=180, role=role)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            problems.append(f"user {user} ({role}) {page}: {type(exc).__name__}: {exc}"[:500])
            continue
        problems += [f"user {user} ({role}) {page}: st.error {e.value}" for e in at.error]
    return problems


def _upload(file: Path, db: Path, start: threading.Barrier) -> int:
    start.wait()
    time.sleep(2)  # the sessions are running by now
    return ingest_file(file, "orders", db=db, actor=TEST_USERS["marketing"]).rows_loaded


def _save(db: Path, start: threading.Barrier) -> int:
    start.wait()
    time.sleep(3)
    config = replace(default_config(), name="concurrent save", churn_window_days=210)
    with store.connect(db) as con:
        return save_config(con, config, TEST_USERS["analyst"])


def _written(db: Path) -> dict:
    with store.connect(db) as con:
        return {
            "version": store.data_version(con),
            "orders": store.table_counts(con)["orders"],
            "events": con.execute(
                "SELECT actor, action, rows FROM audit_log "
                "WHERE action IN ('ingest', 'segments.config_saved') ORDER BY action"
            ).fetchall(),
            "latest": latest_config(con),
        }


@pytest.mark.usefixtures("shared_runtime")
def test_twenty_users_browse_while_an_upload_and_a_save_run(demo_db: Path, tmp_path: Path):
    file = big_orders(tmp_path, UPLOAD_ROWS)
    before = _written(demo_db)
    start = threading.Barrier(USERS + 2)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=USERS + 2) as pool:
        sessions = [pool.submit(_browse, user, start) for user in range(USERS)]
        upload = pool.submit(_upload, file, demo_db, start)
        save = pool.submit(_save, demo_db, start)
        loaded, version = upload.result(), save.result()
        problems = [p for s in sessions for p in s.result()]
    elapsed = time.monotonic() - started
    assert problems == [], "\n".join(problems)
    after = _written(demo_db)
    assert loaded == UPLOAD_ROWS
    assert after["orders"] == before["orders"] + UPLOAD_ROWS
    assert after["latest"][0].name == "concurrent save" and after["latest"][1] == version
    assert after["version"] > before["version"]
    assert sorted(after["events"], key=repr) == sorted(
        [*before["events"], (TEST_USERS["marketing"], "ingest", UPLOAD_ROWS),
         (TEST_USERS["analyst"], "segments.config_saved", None)], key=repr
    )  # fmt: skip
    # a session opened now runs on the new data version
    at = open_page("pages/store.py", "en", role="manager")
    assert at.session_state["_data_version"] == after["version"]
    print(f"{USERS} users x {VISITS} pages with an upload and a save: {elapsed:.1f} s")
