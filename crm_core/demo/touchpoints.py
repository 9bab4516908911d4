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

import numpy as np
import polars as pl

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
_MONTHS = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


def consents_frame(records: pl.DataFrame, horizon: float, rng: np.random.Generator) -> pl.DataFrame:
    """Consent rows: `customer_id, channel, granted, time, source` (+ `withdrawn_at` helper)."""
    n = records.height
    web = pl.Series(np.where(rng.random(n) < 0.7, "cadastro_site", "app"))
    source = records["acquisition_channel"].replace_strict(
        _SOURCE_BY_ACQUISITION, default=web, return_dtype=pl.String
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
                    "channel": channel,
                    "granted": granted,
                    "time": at,
                    "source": source,
                    "withdrawn_at": np.where(withdrawn, later, np.nan),
                }
            )
        )
    first = pl.concat(frames)
    withdrawals = first.filter(pl.col("withdrawn_at").is_not_nan()).with_columns(
        granted=pl.lit(False), time=pl.col("withdrawn_at"), source=pl.lit("central_preferencias")
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
    granted = granted.filter(pl.col("time") == pl.col("time").min().over("customer_id"))
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
    pick_ = np.repeat(first, count) + (rng.random(len(row)) * span).astype(np.int64)
    sends = pl.DataFrame(
        {
            "customer_id": window["customer_id"].gather(row),
            "time": times[pick_],
            "campaign": calendar["campaign"].gather(pick_),
        }
    )
    return sends.unique(["customer_id", "campaign"], maintain_order=True).with_columns(
        channel=pl.lit(channel), type=pl.lit("campaign"), direction=pl.lit("outbound")
    )


def engagement(alive: np.ndarray, rng: np.random.Generator, whatsapp: bool) -> np.ndarray:
    """Campaign outcome: delivered < opened < clicked < converted; lower after dropout."""
    u = rng.random(len(alive))
    if whatsapp:
        cuts = np.where(alive[:, None], [0.55, 0.90, 0.90], [0.85, 0.99, 0.99])
        labels = np.array(["delivered", "responded", "responded", "converted"])
    else:
        cuts = np.where(alive[:, None], [0.50, 0.80, 0.93], [0.80, 0.97, 1.0])
        labels = np.array(["delivered", "opened", "clicked", "converted"])
    return labels[(u[:, None] >= cuts).sum(axis=1)]


def _ticket_outcomes(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Complaints after incidents and questions after other orders, inbound."""
    n = orders.height
    u = rng.random(n)
    complaint = orders["incident"].to_numpy() & (u < 0.85)
    question = ~orders["incident"].to_numpy() & (u < 0.05)
    last_before_drop = orders["last_before_drop"].to_numpy()
    unresolved = rng.random(n) < np.where(last_before_drop, 0.55, np.where(complaint, 0.15, 0.05))
    channel = np.array(["phone", "chat", "whatsapp", "email"])[
        rng.choice(4, n, p=[0.3, 0.25, 0.25, 0.2])
    ]
    tickets = orders.select("customer_id", "time").with_columns(
        time=pl.col("time") + pl.Series(rng.uniform(0.5, 10.0, n)),
        channel=pl.Series(channel),
        type=pl.Series(np.where(complaint, "complaint", "support")),
        direction=pl.lit("inbound"),
        outcome=pl.Series(np.where(unresolved, "unresolved", "resolved")),
        subject=pl.when(pl.Series(complaint))
        .then(pick(COMPLAINTS, rng.integers(len(COMPLAINTS), size=n), "s"))
        .otherwise(pick(QUESTIONS, rng.integers(len(QUESTIONS), size=n), "q")),
    )
    return tickets.filter(pl.Series(complaint | question))


def order_touchpoints(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Tickets after orders and store visits with physical-store orders."""
    tickets = _ticket_outcomes(orders, rng)
    in_store = orders.filter(
        (pl.col("sales_channel") == "physical_store") & pl.Series(rng.random(orders.height) < 0.6)
    )
    visits = in_store.select("customer_id", "time").with_columns(
        time=pl.col("time") - 0.01,
        channel=pl.lit("visit"),
        type=pl.lit("sales"),
        direction=pl.lit("inbound"),
        outcome=pl.lit("converted"),
    )
    return pl.concat([tickets, visits], how="diagonal")


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


def _label(frame: pl.DataFrame, channel: str, kind: str, direction: str, **more) -> pl.DataFrame:
    return frame.with_columns(
        channel=pl.lit(channel), type=pl.lit(kind), direction=pl.lit(direction), **more
    )


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
        outcome=pl.lit("responded"),
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
        subject=pl.lit("Acompanhamento da conta"),
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
        outcome=pl.Series(outcome),
        subject=pl.lit("Boas-vindas"),
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
        subject=pl.lit("Contato comercial"),
    )
    return pl.concat([welcome, calls], how="diagonal")


def relationship_touchpoints(records: pl.DataFrame, horizon: float, rng) -> pl.DataFrame:
    """Community posts, account-manager calls, onboarding e-mails, calls to leads."""
    active_until = records["dropped_at"].fill_null(horizon).to_numpy()
    active_until = np.minimum(active_until + 60, horizon)
    parts = [
        _community(records, active_until, rng),
        _manager_calls(records, horizon, rng),
        _onboarding(records, horizon, rng),
    ]
    return pl.concat(parts, how="diagonal").drop("row")
