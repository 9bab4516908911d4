"""Lifecycle & loyalty → CLV models: BG/NBD + Gamma-Gamma fit, its holdout check, predictions."""

from __future__ import annotations

import streamlit as st

from crm_core.clv_report import (
    default_calibration_end,
    distribution,
    first_purchase_day,
    holdout_error,
    score_overview,
)
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_date, format_number
from ui import analysis, filters
from ui import clv_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons
from ui.masking import masked

TABLE_ROWS = 5000

page_header(__file__, "clv")
f = filters.require()
first_day = (
    first_purchase_day(analysis.summary(db(), data_version(), f.as_of, f.config.window_days))
    or f.as_of
)
settings = view.settings(default_calibration_end(first_day, f.as_of), first_day, f.as_of)
result = view.fit(db(), data_version(), settings)
if isinstance(result, VinculoError):
    st.warning(result.message(lang()))
    st.stop()

st.subheader(t("page.clv.bgnbd"))
view.parameter_metrics(result.bgnbd, ("r", "alpha", "a", "b", "log_likelihood"))
st.subheader(t("page.clv.gamma_gamma"))
view.parameter_metrics(result.gamma_gamma, ("p", "q", "gamma"))
st.caption(t("page.clv.params.help", unit=t(f"page.clv.unit.{result.time_unit}").lower()))

st.subheader(t("page.clv.holdout"))
check = result.holdout
if check is None:
    st.info(t("page.clv.no_holdout"))
else:
    st.caption(t("page.clv.holdout.help", start=format_date(check.calibration_end, lang()),
                 end=format_date(check.holdout_end, lang())))  # fmt: skip
    view.holdout_metrics(check, holdout_error(check))
    left, right = st.columns(2)
    left.plotly_chart(view.tracking_figure(check), key="clv_tracking")
    right.plotly_chart(view.bucket_figure(check), key="clv_buckets")

st.subheader(t("page.clv.distributions"))
scored = view.predictions(settings, f)
view.overview_metrics(score_overview(scored))
p_alive_bins = distribution(scored["p_alive"], top_share=1.0)  # a bounded share: no tail to fold
clv_bins = distribution(scored["clv"])
left, right = st.columns(2)
left.plotly_chart(
    view.histogram_figure(p_alive_bins, t("page.clv.col.p_alive"), ".0%"), key="clv_p"
)
right.plotly_chart(view.histogram_figure(clv_bins, t("page.clv.col.clv")), key="clv_values")
st.caption(t("page.clv.distributions.help"))

st.subheader(t("page.clv.table"))
shown = scored.head(TABLE_ROWS)
if shown.height < scored.height:
    st.caption(t("page.clv.table.top", shown=format_number(shown.height, lang()),
                 total=format_number(scored.height, lang())))  # fmt: skip
st.dataframe(masked(shown), hide_index=True, column_config=view.table_config(), key="clv_table")
download_buttons(shown, "vinculo_clv", key="clv_download")
