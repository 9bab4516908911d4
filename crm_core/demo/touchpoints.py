"""Interactions and consent of the demo's customers.

Consent: one row per customer id and channel (email 82 %, sms 70 %, WhatsApp
78 %, phone 72 % granted) recorded at registration, with the registration's
source; 4 % of the grants are withdrawn later (a second row, `granted` false).

Interactions (one row each; times in local days until `build` converts them):
- e-mail campaigns from a calendar (monthly newsletter plus Black Friday,
  Natal, Dia das Mães, Volta às Aulas, Dia do Cliente), each sent to about
  15 % of the customers holding e-mail consent at that moment; WhatsApp
  campaigns to 4 % of WhatsApp-consenting ones. Engagement (opened, clicked,
  converted) is much lower once the customer has dropped out;
- a complaint ticket after 85 % of orders with an incident, unresolved 15 %
  of the time, 55 % for the last order of a customer who then drops out;
  support questions after 5 % of other orders;
- a store visit with most physical-store orders;
- community posts from a community-active 4 % of buyers;
- account-manager calls (outbound phone, owner = manager) every ~45 days for
  managed accounts, mostly unanswered after dropout;
- an onboarding e-mail after 60 % of registrations, sales calls to 30 % of leads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from crm_core.demo.orders import coded
from crm_core.demo.people import pick

CONSENT_CHANNELS = ("email", "sms", "whatsapp", "phone")
CONSENT_RATES = (0.82, 0.70, 0.78, 0.72)
_SOURCE_BY_ACQUISITION = {"store_walk_in": "loja", "partner_marketplace": "marketplace"}
_SOURCE_BY_ACQUISITION.update(events="evento", referral="indicacao")
COMPLAINTS = (
    "Atraso na entrega",
    "Produto com defeito",
    "Cobrança indevida",
    "Produto diferente do anunciado",
    "Erro no aplicativo",
)
QUESTIONS = ("Rastreamento do pedido", "Troca de tamanho", "Nota fiscal", "Formas de pagamento")
POSTS = ("Avaliação de produto", "Dica de uso", "Pergunta à comunidade", "Foto do produto")
CHANNELS = ("email", "phone", "whatsapp", "chat", "sms", "visit", "community", "web")
TYPES = ("campaign", "support", "sales", "complaint", "onboarding", "community_post")
DIRECTIONS = ("inbound", "outbound")
OUTCOMES = (
    "delivered",
    "opened",
    "clicked",
    "responded",
    "converted",
    "resolved",
    "unresolved",
    "no_answer",
)
INTERACTION_SCHEMA = {
    "customer_id": pl.String,
    "time": pl.Float64,
    "channel": pl.Enum(CHANNELS),
    "type": pl.Enum(TYPES),
    "direction": pl.Enum(DIRECTIONS),
    "outcome": pl.Enum(OUTCOMES),
    "campaign": pl.Categorical,
    "owner": pl.Categorical,
    "subject": pl.Categorical,
}
_MONTHS = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


def consents_frame(records: pl.DataFrame, horizon: float, rng: np.random.Generator) -> pl.DataFrame:
    """Consent rows: `customer_id, channel, granted, time, source` (+ `withdrawn_at` helper)."""
    n = records.height
    web = pl.Series(np.where(rng.random(n) < 0.7, "cadastro_site", "app"))
    source = (
        records["acquisition_channel"]
        .replace_strict(_SOURCE_BY_ACQUISITION, default=web, return_dtype=pl.String)
        .cast(pl.Categorical)
    )
    frames = []
    for channel, rate in zip(CONSENT_CHANNELS, CONSENT_RATES, strict=True):
        granted = rng.random(n) < rate
        withdrawn = granted & (rng.random(n) < 0.04)
        at = records["created"].to_numpy()
        later = at + rng.random(n) * (horizon - at)
        frames.append(
            pl.DataFrame(
                {
                    "customer_id": records["customer_id"],
                    "granted": granted,
                    "time": at,
                    "source": source,
                    "withdrawn_at": np.where(withdrawn, later, np.nan),
                }
            ).with_columns(channel=pl.lit(channel, dtype=pl.Enum(CONSENT_CHANNELS)))
        )
    first = pl.concat(frames)
    withdrawals = first.filter(pl.col("withdrawn_at").is_not_nan()).with_columns(
        granted=pl.lit(False),
        time=pl.col("withdrawn_at"),
        source=pl.lit("central_preferencias", dtype=pl.Categorical),
    )
    return pl.concat([first, withdrawals])


def campaign_calendar(start: date, days: int) -> pl.DataFrame:
    """Campaigns: `campaign` name and `time` (local days since `start`, 10:00)."""
    rows: list[tuple[str, date]] = []
    for year in range(start.year, start.year + days // 365 + 2):
        for month in range(1, 13):
            rows.append((f"Newsletter {_MONTHS[month - 1]}/{year}", date(year, month, 5)))
        rows += [
            (f"Volta às Aulas {year}", date(year, 1, 25)),
            (f"Dia das Mães {year}", date(year, 5, 2)),
            (f"Dia do Cliente {year}", date(year, 9, 12)),
            (f"Black Friday {year}", date(year, 11, 20)),
            (f"Natal {year}", date(year, 12, 10)),
        ]
    frame = pl.DataFrame(
        {"campaign": [r[0] for r in rows], "time": [(r[1] - start).days + 10 / 24 for r in rows]}
    )
    return frame.filter((pl.col("time") >= 0) & (pl.col("time") < days)).sort("time")


def campaign_sends(
    consents: pl.DataFrame,
    records: pl.DataFrame,
    calendar: pl.DataFrame,
    channel: str,
    share: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Sends of each campaign to `share` of the customers consenting on `channel` then."""
    granted = consents.filter((pl.col("channel") == channel) & pl.col("granted"))
    window = granted.join(records.select("customer_id", "reachable"), on="customer_id")
    window = window.filter("reachable").with_columns(
        until=pl.col("withdrawn_at").fill_nan(float("inf"))
    )
    times = calendar["time"].to_numpy()
    first = np.searchsorted(times, window["time"].to_numpy())
    last = np.searchsorted(times, window["until"].to_numpy())
    count = rng.binomial(np.maximum(last - first, 0), share)
    row = np.repeat(np.arange(window.height), count)
    span = np.repeat(last - first, count)
    chosen = np.repeat(first, count) + (rng.random(len(row)) * span).astype(np.int64)
    _, once = np.unique(row * len(times) + chosen, return_index=True)
    row, chosen = row[once], chosen[once]
    sends = pl.DataFrame(
        {
            "customer_id": window["customer_id"].gather(row),
            "time": times[chosen],
            "campaign": calendar["campaign"].gather(chosen),
        }
    )
    return _label(sends, channel, "campaign", "outbound")


def engagement(alive: np.ndarray, rng: np.random.Generator, whatsapp: bool) -> pl.Series:
    """Campaign outcome: delivered < opened < clicked < converted; lower after dropout."""
    u = rng.random(len(alive))
    if whatsapp:
        cuts = np.where(alive[:, None], [0.55, 0.90, 0.90], [0.85, 0.99, 0.99])
        labels = np.array([0, 3, 3, 4])
    else:
        cuts = np.where(alive[:, None], [0.50, 0.80, 0.93], [0.80, 0.97, 1.0])
        labels = np.array([0, 1, 2, 4])
    return coded(OUTCOMES, labels[(u[:, None] >= cuts).sum(axis=1)])


def _tickets(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Complaints after incidents and questions after other orders, inbound."""
    u = rng.random(orders.height)
    incident = orders["incident"].to_numpy()
    chosen = orders.filter(pl.Series((incident & (u < 0.85)) | (~incident & (u < 0.05))))
    n = chosen.height
    complaint = chosen["incident"].to_numpy()
    unresolved_p = np.where(complaint, 0.15, 0.05)
    unresolved_p = np.where(chosen["last_before_drop"].to_numpy(), 0.55, unresolved_p)
    unresolved = rng.random(n) < unresolved_p
    subject = pl.when(pl.Series(complaint))
    subject = subject.then(pick(COMPLAINTS, rng.integers(len(COMPLAINTS), size=n), "s"))
    subject = subject.otherwise(pick(QUESTIONS, rng.integers(len(QUESTIONS), size=n), "q"))
    return chosen.select(
        "customer_id",
        time=pl.col("time") + pl.Series(rng.uniform(0.5, 10.0, n)),
        channel=coded(CHANNELS, rng.choice([1, 3, 2, 0], n, p=[0.3, 0.25, 0.25, 0.2])),
        type=coded(TYPES, np.where(complaint, 3, 1)),
        direction=pl.lit("inbound", dtype=INTERACTION_SCHEMA["direction"]),
        outcome=coded(OUTCOMES, np.where(unresolved, 6, 5)),
        subject=subject.cast(pl.Categorical),
    )


def order_touchpoints(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Tickets after orders and store visits with physical-store orders."""
    in_store = orders.filter(
        (pl.col("sales_channel") == "physical_store") & pl.Series(rng.random(orders.height) < 0.6)
    )
    visits = _label(
        in_store.select("customer_id", "time"), "visit", "sales", "inbound", outcome="converted"
    )
    return pl.concat([canonical(_tickets(orders, rng)), visits])


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The interaction columns in `INTERACTION_SCHEMA`'s order and types (nulls if absent)."""
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in INTERACTION_SCHEMA.items()
    )


def _spread(records: pl.DataFrame, counts: np.ndarray, until: np.ndarray, rng) -> pl.DataFrame:
    """`counts[i]` times uniform in `[created_i, until_i)` for each record."""
    row = np.repeat(np.arange(records.height), counts)
    start = records["created"].to_numpy()[row]
    return pl.DataFrame(
        {
            "customer_id": records["customer_id"].gather(row),
            "time": start + rng.random(len(row)) * np.maximum(until[row] - start, 0),
            "row": row,
        }
    )


def _label(
    frame: pl.DataFrame, channel: str, kind: str, direction: str, **more: Any
) -> pl.DataFrame:
    """Tag rows with channel, type and direction (and more columns); canonical shape."""
    values = {"channel": channel, "type": kind, "direction": direction}
    for name, value in more.items():
        values[name] = value
    columns = {
        name: pl.lit(value, dtype=INTERACTION_SCHEMA[name]) if isinstance(value, str) else value
        for name, value in values.items()
    }
    return canonical(frame.with_columns(**columns))


def _community(records: pl.DataFrame, active_until: np.ndarray, rng) -> pl.DataFrame:
    n = records.height
    posting = ~records["is_lead"].to_numpy() & (rng.random(n) < 0.04)
    posts = _spread(records, np.where(posting, rng.poisson(5, n), 0), active_until, rng)
    subject = pick(POSTS, rng.integers(len(POSTS), size=posts.height), "p")
    return _label(
        posts,
        "community",
        "community_post",
        "inbound",
        outcome="responded",
        subject=subject,
    )


def _manager_calls(records: pl.DataFrame, horizon: float, rng) -> pl.DataFrame:
    n = records.height
    managed = records["account_manager"].is_not_null().to_numpy()
    count = np.where(managed, rng.poisson((horizon - records["created"].to_numpy()) / 45), 0)
    calls = _spread(records, count, np.full(n, horizon), rng)
    row = calls["row"].to_numpy()
    dropped_at = records["dropped_at"].fill_null(np.inf).to_numpy()[row]
    alive = calls["time"].to_numpy() <= dropped_at
    u = rng.random(calls.height)
    while_alive = np.where(u < 0.25, "no_answer", np.where(u < 0.8, "responded", "converted"))
    after = np.where(u < 0.6, "no_answer", "responded")
    return _label(
        calls,
        "phone",
        "sales",
        "outbound",
        outcome=pl.Series(np.where(alive, while_alive, after)),
        owner=records["account_manager"].gather(row),
        subject="Acompanhamento da conta",
    )


def _onboarding(records: pl.DataFrame, horizon: float, rng) -> pl.DataFrame:
    n = records.height
    created = records["created"].to_numpy()
    buyer = ~records["is_lead"].to_numpy()
    welcome = _spread(
        records,
        (rng.random(n) < np.where(buyer, 0.6, 0.3)).astype(int),
        np.minimum(created + 2, horizon),
        rng,
    )
    outcome = engagement(np.ones(welcome.height, bool), rng, whatsapp=False)
    welcome = _label(
        welcome,
        "email",
        "onboarding",
        "outbound",
        outcome=outcome,
        subject="Boas-vindas",
    )
    calls = _spread(
        records,
        (~buyer & (rng.random(n) < 0.3)).astype(int),
        np.minimum(created + 30, horizon),
        rng,
    )
    answered = np.where(rng.random(calls.height) < 0.6, "no_answer", "responded")
    calls = _label(
        calls,
        "phone",
        "sales",
        "outbound",
        outcome=pl.Series(answered),
        subject="Contato comercial",
    )
    return pl.concat([welcome, calls])


def relationship_touchpoints(records: pl.DataFrame, horizon: float, rng) -> pl.DataFrame:
    """Community posts, account-manager calls, onboarding e-mails, calls to leads."""
    active_until = records["dropped_at"].fill_null(horizon).to_numpy()
    active_until = np.minimum(active_until + 60, horizon)
    parts = [
        _community(records, active_until, rng),
        _manager_calls(records, horizon, rng),
        _onboarding(records, horizon, rng),
    ]
    return pl.concat(parts)
