"""Settings page: editor tables of the business settings and their session state.

The editors start from a *base* (`settings_base` in session state: the latest saved version,
or an older one the user loaded). A data editor's state is its edits relative to the table
it was given, so loading a version or saving resets the editors' keys; the draft is rebuilt
from the editors on every run and validated by `crm_core.settings`.
Rates are edited in percent (40 = 40 %) and stored as shares (0.4).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.i18n import translate
from crm_core.interact import code_label
from crm_core.settings import (
    MONTHLY_TARGETS,
    TARGET_KPI_IDS,
    BusinessSettings,
    acquisition_sources,
    channel_cost_frame,
    list_settings,
    load_settings,
    save_settings,
    settings_from_frames,
    spend_frame,
    target_frame,
)
from ui.context import config_version, lang, refresh_data_version, t

EDITORS: tuple[str, ...] = ("settings_costs", "settings_spend", "settings_targets")
"""Keys of the data editors (their state is edits relative to the base)."""
BASE = "settings_base"
USED_BY: dict[str, tuple[str, ...]] = {
    "costs": ("portfolio",),
    "spend": ("network",),
    "targets": ("relationships", "processes"),
}
"""Which pages read each part of the settings (page names = files in `pages/`)."""


@st.cache_data(show_spinner=False, max_entries=4)
def latest(db: str, config_version: str) -> tuple[BusinessSettings, pl.DataFrame]:
    """The latest saved settings (defaults when none) and every saved version.

    Cached for every page that reads the settings, keyed on the saved configurations'
    fingerprint (`ui.context.config_version`), so a save by anyone shows on the next run.
    """
    del config_version
    with store.connect(db) as con:
        return load_settings(con), list_settings(con)


def current(db: str) -> BusinessSettings:
    """The settings in force for this run (see `latest`)."""
    return latest(db, config_version())[0]


@st.cache_data(show_spinner=False, max_entries=4)
def sources(db: str, version: int) -> list[str]:
    """Acquisition sources of the store's customers (`acquisition_sources`)."""
    del version  # part of the key: an upload can bring new sources
    with store.connect(db) as con:
        return acquisition_sources(con)


def _scalars(settings: BusinessSettings) -> dict[str, float]:
    return {"settings_order_cost": settings.order_cost,
            "settings_margin": round(settings.gross_margin * 100, 4)}  # fmt: skip


def set_base(settings: BusinessSettings, number: int | None, scalars: bool = True) -> None:
    """Start the editors afresh from `settings` (version `number`, None: defaults); the
    number inputs too unless `scalars` is False (they already show these values)."""
    st.session_state[BASE] = (settings.to_json(), number)
    for key in EDITORS:
        st.session_state.pop(key, None)
    if scalars:
        st.session_state.update(_scalars(settings))


def base(saved: BusinessSettings, versions: pl.DataFrame) -> tuple[BusinessSettings, int | None]:
    """The settings the editors start from (set to the latest saved on the first run)."""
    if BASE not in st.session_state:
        set_base(saved, int(versions["version"].max()) if versions.height else None)
    body, number = st.session_state[BASE]
    return BusinessSettings.from_json(body), number


def load_version(db: str) -> None:
    """Callback of the load button: the editors start from the picked saved version (read
    from the picker's state, which holds this click's choice)."""
    number = int(st.session_state["settings_load_pick"])
    with store.connect(db) as con:
        set_base(load_settings(con, version=number), number)
    st.session_state["settings_message"] = t("page.settings.loaded", version=number)


def cost_table(settings: BusinessSettings) -> pl.DataFrame:
    """Editor table: `channel` (code, hidden), `label`, `cost` (BRL per contact)."""
    frame = channel_cost_frame(settings)
    labels = [code_label("channel", c, lang()) for c in frame["channel"]]
    return frame.insert_column(1, pl.Series("label", labels, dtype=pl.String))


def target_table(settings: BusinessSettings) -> pl.DataFrame:
    """Editor table: `kpi` (hidden), `name`, `unit` (as shown), `target` (rates in %),
    `unit_code` (hidden: count, money, rate or score)."""
    frame = target_frame(settings)
    names = [translate(f"kpi.{TARGET_KPI_IDS[k]}.name", lang()) for k in frame["kpi"]]
    units = [
        t(f"page.settings.unit.{u}" + (".month" if k in MONTHLY_TARGETS else ""))
        for k, u in frame.select("kpi", "unit").iter_rows()
    ]
    percent = pl.col("unit") == "rate"
    return frame.select(
        "kpi",
        pl.Series("name", names, dtype=pl.String),
        pl.Series("unit", units, dtype=pl.String),
        pl.when(percent)
        .then((pl.col("target") * 100).round(8))
        .otherwise(pl.col("target"))
        .alias("target"),
        pl.col("unit").alias("unit_code"),
    )


def draft(
    base: BusinessSettings,
    costs: pl.DataFrame,
    spend: pl.DataFrame,
    targets: pl.DataFrame,
    order_cost: float,
    margin_percent: float,
) -> BusinessSettings:
    """The settings the editors describe (raises `VinculoError` when they are not valid)."""
    shares = targets.with_columns(
        target=pl.when(pl.col("unit_code") == "rate")
        .then((pl.col("target").cast(pl.Float64) / 100).round(10))
        .otherwise(pl.col("target").cast(pl.Float64))
    )  # fmt: skip
    return settings_from_frames(
        base, costs, spend, shares, order_cost=float(order_cost),
        gross_margin=round(float(margin_percent) / 100, 10),
    )  # fmt: skip


def save(db: str, settings: BusinessSettings, actor: str) -> int:
    """Store `settings` as a new version (audited), then start the editors from it."""
    with store.connect(db) as con:
        number = save_settings(con, settings, actor)
    refresh_data_version()  # the rest of this run reads the new configuration fingerprint
    set_base(settings, number, scalars=False)  # the inputs were drawn: they hold these values
    st.session_state["settings_message"] = t("page.settings.saved", version=number)
    return number


def spend_table(settings: BusinessSettings, options: list[str]) -> tuple[pl.DataFrame, list]:
    """Editor table `source, month` ("YYYY-MM"), `amount` (BRL), and the source options: the
    store's sources plus any saved source the store no longer has."""
    frame = spend_frame(settings)
    extra = sorted(set(frame["source"]) - set(options))
    return frame, [*options, *extra]


# ---- column formats ------------------------------------------------------------------------


def cost_columns() -> dict:
    p = "page.settings.col."
    return {
        "channel": None,
        "label": st.column_config.TextColumn(t(p + "channel"), disabled=True),
        "cost": st.column_config.NumberColumn(
            t(p + "cost"), help=t(p + "cost.help"), min_value=0.0, format="R$ %.2f", step=0.01
        ),
    }


def spend_columns(options: list[str]) -> dict:
    p = "page.settings.col."
    return {
        "source": st.column_config.SelectboxColumn(
            t(p + "source"), options=options, help=t(p + "source.help"), required=True
        ),
        "month": st.column_config.TextColumn(
            t(p + "month"),
            help=t(p + "month.help"),
            validate=r"^\d{4}-(0[1-9]|1[0-2])$",
            required=True,
            max_chars=7,
        ),  # fmt: skip
        "amount": st.column_config.NumberColumn(
            t(p + "amount"),
            help=t(p + "amount.help"),
            min_value=0.0,
            format="R$ %.2f",
            required=True,
        ),  # fmt: skip
    }


def target_columns() -> dict:
    p = "page.settings.col."
    return {
        "kpi": None,
        "unit_code": None,
        "name": st.column_config.TextColumn(t(p + "kpi"), disabled=True),
        "unit": st.column_config.TextColumn(t(p + "unit"), disabled=True),
        "target": st.column_config.NumberColumn(t(p + "target"), help=t(p + "target.help")),
    }


def version_columns() -> dict:
    p = "page.settings.col."
    return {
        "name": None,
        "version": st.column_config.NumberColumn(t(p + "version"), format="%d"),
        "created_at": st.column_config.DatetimeColumn(
            t(p + "created_at"), format="YYYY-MM-DD HH:mm"
        ),  # fmt: skip
        "created_by": st.column_config.TextColumn(t(p + "created_by")),
    }
