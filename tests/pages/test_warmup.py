"""The background warm-up fills the caches every page shares, for the default view."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core import store
from crm_core.segment_store import latest_config
from ui import analysis, warmup


def test_warm_caches_computes_the_shared_frames_of_the_default_view(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(demo_db)
    with store.connect(db) as con:
        version = store.data_version(con)
        config, _ = latest_config(con)
    analysis.summary.clear()
    assert warmup.warm_caches(db, version) == [
        "summary", "clv", "segments", "stages", "relationship",
    ]  # fmt: skip

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warmed cache must not read the store")

    as_of = analysis.last_day(db, version)
    monkeypatch.setattr(analysis.store, "connect", no_store)
    assert analysis.summary(db, version, as_of, config.window_days).height > 0
    assert analysis.model_scores(db, version, as_of) is not None
    assert analysis.segmented(db, version, as_of, config.to_json()).height > 0


def test_nothing_to_warm_on_an_empty_store(empty_db: Path) -> None:
    assert warmup.warm_caches(str(empty_db), 0) == []


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("1", True)])
def test_switch(value: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VINCULO_WARMUP", value)
    assert warmup.enabled() is expected
    if not expected:
        assert warmup.start.__wrapped__("unused", 0) is None
