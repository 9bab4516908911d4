"""Orders and line items of the demo, from the simulated purchase process.

Every purchase of `process.PurchaseHistory` becomes one order: `completed`,
or after a refund `refunded` (≈ 1.5 %) / `partially_refunded` (≈ 2.5 %);
refunds are far likelier after an incident. On top of the purchases come
attempts that are *not* purchases: a failed payment minutes before ≈ 2 % of
purchases (the customer retried) and an order cancelled up to two days before
≈ 3 % of them. So the purchase process seen through `order_facts.is_purchase`
is (up to refunds) the BG/NBD process itself. Order ids (`P` + 9 digits)
increase with time.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.demo.params import DemoParams
from crm_core.demo.process import (
    CATEGORIES,
    CATEGORY_WEIGHTS,
    SALES_CHANNEL_WEIGHTS,
    SALES_CHANNELS,
    PurchaseHistory,
)

STATUSES = ("completed", "partially_refunded", "refunded", "cancelled", "failed", "pending")
STATUS = pl.Enum(STATUSES)


def coded(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """`values[codes]` as an Enum series (cheap to sort, filter and write)."""
    return pl.Series(values, dtype=pl.Enum(values))[codes]


# fmt: off
PRODUCTS: dict[str, tuple[str, ...]] = {
    "Eletrônicos": ("Fone Bluetooth", "Smartphone 128 GB", "Carregador USB-C",
                    "Smart TV 50 pol.", "Notebook 15 pol.", "Caixa de som portátil"),
    "Moda": ("Camiseta algodão", "Calça jeans", "Tênis casual", "Vestido midi",
             "Jaqueta corta-vento", "Bolsa de couro"),
    "Casa e Decoração": ("Jogo de cama casal", "Panela antiaderente", "Luminária de mesa",
                         "Tapete sala", "Conjunto de toalhas", "Cafeteira elétrica"),
    "Beleza e Saúde": ("Protetor solar FPS 50", "Perfume 100 ml", "Kit skincare",
                       "Shampoo 400 ml", "Secador de cabelo", "Vitamina C"),
    "Esporte e Lazer": ("Bola de futebol", "Tapete de yoga", "Bicicleta aro 29",
                        "Garrafa térmica", "Halteres 5 kg", "Barraca camping"),
    "Livros e Papelaria": ("Livro de romance", "Caderno universitário", "Kit canetas",
                           "Agenda anual", "Mochila escolar", "Livro infantil"),
    "Mercado": ("Café 500 g", "Azeite extravirgem", "Cesta básica", "Chocolate 1 kg",
                "Sabão líquido 3 l", "Vinho tinto"),
    "Brinquedos e Bebês": ("Fralda tamanho M", "Carrinho de bebê", "Boneca",
                           "Quebra-cabeça 500 peças", "Blocos de montar", "Mordedor"),
}
# fmt: on


def _attempts(real: pl.DataFrame, share: float, status: str, max_days: float, rng) -> pl.DataFrame:
    """Non-purchase attempts placed before some purchases, never before the record's creation."""
    chosen = real.filter(pl.Series(rng.random(real.height) < share))
    delay = pl.Series(rng.uniform(2 / 1440, max_days, size=chosen.height))
    slack = pl.col("time") - pl.col("created")
    return chosen.with_columns(
        time=pl.col("time") - pl.min_horizontal(delay, slack),
        status=pl.lit(status, dtype=STATUS),
        refund_share=pl.lit(0.0),
        incident=pl.lit(False),
        rank=pl.lit(None, dtype=pl.Int64),
    )


def _preferences(person: np.ndarray, n_people: int, rng: np.random.Generator):
    """Sales channel (75 % the person's favourite) and category (60 %) of each order."""
    n = len(person)
    favourite_channel = rng.choice(4, size=n_people, p=SALES_CHANNEL_WEIGHTS)
    favourite_category = rng.choice(len(CATEGORIES), size=n_people, p=CATEGORY_WEIGHTS)
    other_channel = rng.choice(4, size=n, p=SALES_CHANNEL_WEIGHTS)
    other_category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHTS)
    channel = np.where(rng.random(n) < 0.75, favourite_channel[person], other_channel)
    category = np.where(rng.random(n) < 0.6, favourite_category[person], other_category)
    return coded(SALES_CHANNELS, channel), coded(CATEGORIES, category)


def _refunds(incident: np.ndarray, params: DemoParams, rng: np.random.Generator):
    """Status code (0 completed, 1 partially refunded, 2 refunded) and refunded share.

    An order with an incident is refunded with probability 0.12 (partially
    0.12); the rate for the others is set so the overall shares match
    `params.refunded_share` and `params.partial_refund_share`.
    """
    n = len(incident)
    hit = float(incident.mean()) if n else 0.0
    base_full = max(params.refunded_share - 0.12 * hit, 0.0) / max(1.0 - hit, 1e-9)
    base_partial = max(params.partial_refund_share - 0.12 * hit, 0.0) / max(1.0 - hit, 1e-9)
    u = rng.random(n)
    full_p = np.where(incident, 0.12, base_full)
    refunded = u < full_p
    partial = ~refunded & (u < full_p + np.where(incident, 0.12, base_partial))
    share = np.where(refunded, 1.0, np.where(partial, rng.uniform(0.1, 0.6, n), 0.0))
    return np.where(refunded, 2, np.where(partial, 1, 0)), share


def orders_frame(
    history: PurchaseHistory,
    owner: np.ndarray,
    created: np.ndarray,
    params: DemoParams,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One row per order (purchases and attempts), sorted by time, with ids.

    `owner` is the record (customer row) of each purchase, `created` the
    creation time of every record. Columns: order_id, record, person, time
    (local days), gross (BRL), discount, refunded, status, sales_channel,
    category, items, incident, rank (null for attempts).
    """
    person = history.order_person
    channel, category = _preferences(person, len(history.lam), rng)
    status, refund_share = _refunds(history.order_incident, params, rng)
    value = history.order_value
    real = pl.DataFrame(
        {
            "record": owner,
            "person": person,
            "time": history.order_time,
            "created": created[owner],
            "gross": value,
            "status": coded(STATUSES, status),
            "refund_share": refund_share,
            "sales_channel": channel,
            "category": category,
            "items": 1 + rng.poisson(0.5 + np.minimum(value, 6000) / 400),
            "incident": history.order_incident,
            "rank": history.order_rank,
        }
    )
    failed = _attempts(real, params.failed_share, "failed", 30 / 1440, rng)
    cancelled = _attempts(real, params.cancelled_share, "cancelled", 2.0, rng)
    frame = pl.concat([real, failed, cancelled]).sort("time", maintain_order=True)
    discount = np.where(rng.random(frame.height) < 0.25, rng.uniform(0.05, 0.25, frame.height), 0.0)
    number = pl.int_range(1, frame.height + 1).cast(pl.String).str.zfill(9)
    return frame.with_columns(
        order_id=pl.concat_str(pl.lit("P"), number),
        discount=(pl.col("gross") * pl.Series(discount)).round(2),
        refunded=(pl.col("gross") * pl.col("refund_share")).round(2),
    ).drop("refund_share", "created")


def order_items_frame(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Line items: up to 4 lines per order, products of the order's category.

    Line totals split the order's gross amount exactly (the last line takes
    the rounding); `unit_price` is the line total over the quantity, rounded.
    """
    lines = np.minimum(orders["items"].to_numpy(), 4)
    order = np.repeat(np.arange(orders.height), lines)
    line_no = np.arange(len(order)) - np.repeat(np.cumsum(lines) - lines, lines)
    last = line_no == lines[order] - 1
    quantity = np.where(last, orders["items"].to_numpy()[order] - (lines[order] - 1), 1)
    weight = rng.gamma(2.0, size=len(order))
    group_weight = np.bincount(order, weights=weight)[order]
    gross = orders["gross"].to_numpy()[order]
    share = np.round(gross * weight / group_weight, 2)
    before_last = np.bincount(order, weights=np.where(last, 0.0, share))[order]
    line_total = np.where(last, np.round(gross - before_last, 2), share)
    category = orders["category"].to_physical().to_numpy()[order].astype(np.int64)
    pick = rng.integers(6, size=len(order))
    flat = [name for category_name in CATEGORIES for name in PRODUCTS[category_name]]
    sku = pl.Series(category * 100 + pick).cast(pl.String).str.zfill(4)
    return pl.DataFrame(
        {
            "order_id": orders["order_id"].gather(order),
            "line_no": line_no + 1,
            "sku": "SKU-" + sku,
            "product": pl.Series(flat)[category * 6 + pick],
            "category": coded(CATEGORIES, category),
            "quantity": quantity,
            "unit_price": np.round(line_total / quantity, 2),
            "line_total": line_total,
        }
    )
