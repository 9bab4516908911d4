"""Survey answers of the demo: CSAT after purchases, relational NPS.

Each person has a latent *mood* m ~ N(0, 1). Scores are rounded and clipped
latent values:
- CSAT (1–5) after ≈ 8 % of purchases, ≈ 35 % of those with an incident:
  `4.4 + 0.5 m − 2.3·incident − 0.7·last_before_dropout + N(0, 0.6)`.
- NPS (0–10), the relational survey, about every 6 months to 30 % of buyers
  while they are customers: `7.8 + 1.2 m − 3·near_dropout + N(0, 1.3)`, where
  `near_dropout` is within 120 days before a dropped customer's last order.
So satisfaction falls before customers leave. 45 % of answers carry a
Portuguese comment chosen by sentiment (negative/neutral/positive) and theme
(entrega, preço, atendimento, qualidade, app; incidents favour the first ones).
"""

from __future__ import annotations

import numpy as np
import polars as pl

THEMES = ("entrega", "preço", "atendimento", "qualidade", "app")
# fmt: off
COMMENTS: dict[str, tuple[str, ...]] = {
    "negative": (
        "A entrega atrasou mais de uma semana e ninguém me avisou.",
        "Achei o preço alto pelo que recebi, o frete então nem se fala.",
        "Atendimento demorado, precisei ligar três vezes para resolver.",
        "O produto chegou com defeito, qualidade muito abaixo do esperado.",
        "O aplicativo travou na hora de pagar e perdi o cupom.",
    ),
    "neutral": (
        "Entrega dentro do prazo, mas a embalagem veio amassada.",
        "Preço ok, já vi mais barato em outros lugares.",
        "Atendimento resolveu, mas poderia ser mais rápido.",
        "Qualidade razoável, atende ao que promete.",
        "O app funciona, mas a busca de produtos é confusa.",
    ),
    "positive": (
        "Entrega super rápida, chegou antes do prazo!",
        "Ótimo preço e frete grátis, vale muito a pena.",
        "Atendimento excelente, muito atenciosos.",
        "Produto de ótima qualidade, recomendo a todos.",
        "O aplicativo é prático, compro tudo por ele.",
    ),
}
# fmt: on
_CHANNELS = np.array(["email", "app", "whatsapp", "sms"])
_CHANNEL_P = (0.5, 0.25, 0.15, 0.1)


def _comments(sentiment: np.ndarray, incident: np.ndarray, rng: np.random.Generator) -> pl.Series:
    n = len(sentiment)
    theme = np.where(
        incident, rng.choice([0, 3, 2], size=n, p=[0.5, 0.3, 0.2]), rng.integers(0, 5, size=n)
    )
    flat = [text for key in ("negative", "neutral", "positive") for text in COMMENTS[key]]
    text = pl.Series("comment", flat, dtype=pl.String)[sentiment * len(THEMES) + theme]
    return text.set(pl.Series(rng.random(n) >= 0.45), None)


def csat_answers(purchases: pl.DataFrame, mood: np.ndarray, rng: np.random.Generator):
    """CSAT answers after purchases (`customer_id, time, csat, comment, survey, channel`)."""
    incident = purchases["incident"].to_numpy()
    answered = rng.random(purchases.height) < np.where(incident, 0.35, 0.08)
    chosen = purchases.filter(pl.Series(answered))
    n = chosen.height
    incident = chosen["incident"].to_numpy()
    latent = (
        4.4
        + 0.5 * mood[chosen["person"].to_numpy()]
        - 2.3 * incident
        - 0.7 * chosen["last_before_drop"].to_numpy()
        + rng.normal(0, 0.6, n)
    )
    csat = np.clip(np.round(latent), 1, 5).astype(np.int16)
    sentiment = np.where(csat <= 2, 0, np.where(csat == 3, 1, 2))
    return chosen.select(
        "customer_id",
        time=pl.col("time") + pl.Series(rng.uniform(1, 7, n)),
        csat=pl.Series(csat),
        nps=pl.lit(None, dtype=pl.Int16),
        comment=_comments(sentiment, incident, rng),
        survey=pl.lit("csat_pos_compra"),
        channel=pl.Series(_CHANNELS[rng.choice(4, n, p=_CHANNEL_P)]),
    )


def nps_answers(records: pl.DataFrame, mood: np.ndarray, horizon: float, rng):
    """Relational NPS answers of buyers while they are customers."""
    buyers = records.filter(~pl.col("is_lead"))
    created = buyers["created"].to_numpy()
    dropped_at = buyers["dropped_at"].fill_null(np.inf).to_numpy()
    until = np.minimum(dropped_at + 30, horizon)
    count = rng.binomial(np.maximum((until - created) // 180, 0).astype(np.int64), 0.3)
    row = np.repeat(np.arange(buyers.height), count)
    time = created[row] + rng.random(len(row)) * (until[row] - created[row])
    near = time > dropped_at[row] - 120
    n = len(row)
    person = buyers["person"].to_numpy()[row]
    latent = 7.8 + 1.2 * mood[person] - 3.0 * near + rng.normal(0, 1.3, n)
    nps = np.clip(np.round(latent), 0, 10).astype(np.int16)
    sentiment = np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2))
    return pl.DataFrame(
        {
            "customer_id": buyers["customer_id"].gather(row),
            "time": time,
            "csat": pl.Series([None] * n, dtype=pl.Int16),
            "nps": nps,
            "comment": _comments(sentiment, np.zeros(n, bool), rng),
            "survey": "nps_relacional",
            "channel": _CHANNELS[rng.choice(4, n, p=_CHANNEL_P)],
        }
    )
