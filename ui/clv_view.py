"""CLV page helpers: the model settings, cached predictions, Plotly figures, parameter metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.clv import ClvResult, HoldoutCheck
from crm_core.clv_report import customer_contacts, customer_predictions
from crm_core.errors import VinculoError
from crm_core.i18n.format import date_input_format, format_money, format_number, format_percent
from crm_core.lifecycle_report import restrict
from ui import analysis, filters
from ui.context import data_version, db, lang, t
from ui.lifecycle_view import keep_date_within

ACTUAL, PREDICTED = "#4292c6", "#fd8d3c"


@dataclass(frozen=True)
class ClvSettings:
    """The page's model settings (see `crm_core.clv.fit_clv` for units)."""

    calibration_end: date
    time_unit: str
    horizon: int
    discount_rate: float
    margin: float
    holdout_end: date | None


def settings(default_end: date, first_day: date, as_of: date) -> ClvSettings:
    """The model settings chosen in the page; a holdout runs from the calibration end to as-of."""
    keep_date_within("clv_calibration_end", first_day, as_of)
    c1, c2, c3, c4, c5 = st.columns(5)
    end = c1.date_input(
        t("page.clv.calibration_end"), default_end, min_value=first_day, max_value=as_of,
        key="clv_calibration_end", format=date_input_format(lang()),
        help=t("page.clv.calibration_end.help"),
    )  # fmt: skip
    units = {u: t(f"page.clv.unit.{u}") for u in ("week", "day")}  # labels fixed at render time
    unit = c2.selectbox(
        t("page.clv.time_unit"), list(units), key="clv_time_unit", format_func=units.__getitem__,
        help=t("page.clv.time_unit.help"),
    )  # fmt: skip
    horizon = c3.number_input(
        t("page.clv.horizon"), 1, 120, 12, key="clv_horizon", help=t("page.clv.horizon.help")
    )
    discount = c4.number_input(
        t("page.clv.discount"), 0.0, 0.2, 0.01, 0.005, format="%.3f", key="clv_discount",
        help=t("page.clv.discount.help"),
    )  # fmt: skip
    margin = c5.slider(
        t("page.clv.margin"), 0.0, 1.0, 1.0, 0.05, key="clv_margin", help=t("page.clv.margin.help")
    )
    holdout = as_of if end < as_of else None
    return ClvSettings(end, unit, int(horizon), float(discount), float(margin), holdout)


def fit(db_path: str, version: int, s: ClvSettings) -> ClvResult | VinculoError:
    """The cached fit for these settings (or the user error that stopped it)."""
    return analysis.clv_fit(
        db_path, version, s.calibration_end, s.time_unit, s.horizon, s.discount_rate, s.margin,
        s.holdout_end,
    )  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=8)
def _contacts(db_path: str, version: int) -> pl.DataFrame:
    del version
    with store.connect(db_path) as con:
        return customer_contacts(con)


@st.cache_resource(show_spinner=False, max_entries=8)
def _predictions(db_path: str, version: int, s: ClvSettings, window_days: int) -> pl.DataFrame:
    result = fit(db_path, version, s)
    assert isinstance(result, ClvResult)
    base = analysis.summary(db_path, version, s.calibration_end, window_days)
    return customer_predictions(result, base, _contacts(db_path, version))


@st.cache_resource(show_spinner=False, max_entries=8)
def _filtered(db_path: str, version: int, s: ClvSettings, f: filters.Filters) -> pl.DataFrame:
    scored = _predictions(db_path, version, s, f.config.window_days)
    return restrict(scored, filters.customer_subset(f))


def predictions(s: ClvSettings, f: filters.Filters) -> pl.DataFrame:
    """`crm_core.clv_report.customer_predictions` (revenue to the calibration end) of the
    customers passing the global filters, highest CLV first."""
    return _filtered(db(), data_version(), s, f)


def parameter_metrics(values: dict[str, float], names: tuple[str, ...]) -> None:
    """One metric per model parameter, its meaning on hover."""
    for col, name in zip(st.columns(len(names)), names, strict=True):
        decimals = 1 if name == "log_likelihood" else 3
        col.metric(
            t(f"page.clv.param.{name}"), format_number(values[name], lang(), decimals),
            help=t(f"page.clv.param.{name}.help"),
        )  # fmt: skip


def holdout_metrics(check: HoldoutCheck, error: float | None) -> None:
    """Predicted and actual repeat purchases in the holdout and the relative error."""
    c1, c2, c3 = st.columns(3)
    predicted = format_number(check.predicted_repeat_purchases, lang(), 1)
    c1.metric(t("page.clv.predicted_total"), predicted, help=t("page.clv.predicted_total.help"))
    actual = format_number(check.actual_repeat_purchases, lang())
    c2.metric(t("page.clv.actual_total"), actual, help=t("page.clv.actual_total.help"))
    c3.metric(t("page.clv.error"), format_percent(error, lang()), help=t("page.clv.error.help"))


def overview_metrics(overview: dict[str, float | int | None]) -> None:
    """Customers scored, mean P(alive), mean and total CLV (`clv_report.score_overview`)."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("page.clv.customers"), format_number(overview["customers"], lang()),
              help=t("page.clv.customers.help"))  # fmt: skip
    c2.metric(t("page.clv.mean_p_alive"), format_percent(overview["mean_p_alive"], lang()),
              help=t("page.clv.col.p_alive.help"))  # fmt: skip
    for col, name in ((c3, "mean_clv"), (c4, "total_clv")):
        col.metric(t(f"page.clv.{name}"), format_money(overview[name], lang()),
                   help=t("page.clv.col.clv.help"))  # fmt: skip


def tracking_figure(check: HoldoutCheck) -> go.Figure:
    """Cumulative repeat purchases by week, actual vs predicted; the calibration end marked."""
    curve = check.tracking
    fig = go.Figure()
    for column, name, color in (
        ("actual_cumulative", t("page.clv.actual"), ACTUAL),
        ("predicted_cumulative", t("page.clv.predicted"), PREDICTED),
    ):
        fig.add_scatter(
            x=curve["week_end"].to_list(), y=curve[column].to_list(), name=name, mode="lines",
            line={"color": color, "dash": "dash" if column.startswith("pred") else "solid"},
        )  # fmt: skip
    end = check.calibration_end.isoformat()
    fig.add_vline(x=end, line_dash="dot", line_color="grey")
    fig.add_annotation(x=end, y=1, yref="paper", text=t("page.clv.calibration_end"),
                       showarrow=False, xanchor="right")  # fmt: skip
    return fig.update_layout(
        xaxis_title=t("page.clv.week"), yaxis_title=t("page.clv.repeat_purchases"),
        margin={"t": 10},
    )  # fmt: skip


def bucket_figure(check: HoldoutCheck) -> go.Figure:
    """Mean holdout purchases per customer by calibration frequency, actual vs predicted."""
    table = check.by_frequency
    fig = go.Figure()
    fig.add_bar(x=table["frequency_bucket"].to_list(), y=table["actual_mean"].to_list(),
                name=t("page.clv.actual"), marker_color=ACTUAL)  # fmt: skip
    fig.add_bar(x=table["frequency_bucket"].to_list(), y=table["predicted_mean"].to_list(),
                name=t("page.clv.predicted"), marker_color=PREDICTED)  # fmt: skip
    return fig.update_layout(
        barmode="group", xaxis_title=t("page.clv.frequency_bucket"), xaxis_type="category",
        yaxis_title=t("page.clv.holdout_mean"), margin={"t": 10},
    )  # fmt: skip


def histogram_figure(bins: pl.DataFrame, x_title: str, tickformat: str = "") -> go.Figure:
    """Bars of a `crm_core.clv_report.distribution` frame."""
    mids = ((bins["lower"] + bins["upper"]) / 2).to_list()
    widths = (bins["upper"] - bins["lower"]).to_list()
    fig = go.Figure(
        go.Bar(x=mids, y=bins["customers"].to_list(), width=widths, marker_color=ACTUAL)
    )
    return fig.update_layout(
        xaxis_title=x_title, yaxis_title=t("page.clv.customers"), xaxis_tickformat=tickformat,
        bargap=0.05, margin={"t": 10},
    )  # fmt: skip


def table_config() -> dict[str, st.column_config.Column]:
    """Column labels and formats of the prediction table."""
    number = st.column_config.NumberColumn
    money = "R$ %.2f"
    return {
        "customer_id": st.column_config.TextColumn(t("page.clv.col.customer_id")),
        "name": st.column_config.TextColumn(t("page.clv.col.name")),
        "email": st.column_config.TextColumn(t("page.clv.col.email")),
        "frequency": number(t("page.clv.col.frequency"), help=t("page.clv.col.frequency.help")),
        "recency": number(t("page.clv.col.recency"), format="%.1f",
                          help=t("page.clv.col.recency.help")),
        "T": number(t("page.clv.col.T"), format="%.1f", help=t("page.clv.col.T.help")),
        "p_alive": number(t("page.clv.col.p_alive"), format="percent",
                          help=t("page.clv.col.p_alive.help")),
        "expected_purchases": number(t("page.clv.col.expected_purchases"), format="%.2f",
                                     help=t("page.clv.col.expected_purchases.help")),
        "expected_spend": number(t("page.clv.col.expected_spend"), format=money,
                                 help=t("page.clv.col.expected_spend.help")),
        "clv": number(t("page.clv.col.clv"), format=money, help=t("page.clv.col.clv.help")),
        "revenue": number(t("page.clv.col.revenue"), format=money,
                          help=t("page.clv.col.revenue.help")),
    }  # fmt: skip
