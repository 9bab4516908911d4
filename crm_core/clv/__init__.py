"""Customer lifetime value: BG/NBD + Gamma-Gamma models, their inputs, checks and CLV.

- `inputs`: transactions → frequency, recency, T, monetary (FHL 2005 conventions);
- `bgnbd.BetaGeoModel`: repeat purchasing and P(alive);
- `gamma_gamma.GammaGammaModel`: spend per purchase;
- `value`: discounted CLV over a horizon in months;
- `holdout`: calibration/holdout check;
- `service.fit_clv`: the whole pipeline on the store, for pages and the CLI.
"""

from crm_core.clv.bgnbd import BetaGeoModel
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.holdout import HoldoutCheck, holdout_check, tracking_curve
from crm_core.clv.inputs import (
    calibration_holdout,
    customer_days,
    rfm_inputs,
    transactions_from_store,
)
from crm_core.clv.service import (
    ClvResult,
    FittedModels,
    clv_cli_payload,
    fit_clv,
    fit_models,
    score_customers,
    score_fitted,
)
from crm_core.clv.value import (
    HorizonForecast,
    customer_lifetime_value,
    discounted_purchases,
    horizon_purchases,
)

__all__ = [
    "BetaGeoModel",
    "ClvResult",
    "FittedModels",
    "GammaGammaModel",
    "HoldoutCheck",
    "HorizonForecast",
    "calibration_holdout",
    "clv_cli_payload",
    "customer_days",
    "customer_lifetime_value",
    "discounted_purchases",
    "fit_clv",
    "fit_models",
    "holdout_check",
    "horizon_purchases",
    "rfm_inputs",
    "score_customers",
    "score_fitted",
    "tracking_curve",
    "transactions_from_store",
]
