"""Our target fields per upload kind: their type, whether they are required,
and the synonyms by which a spreadsheet may name them.

A *field* is a column of our schema (or a source column we derive one from,
such as `first_name` or `financial_status`). Its `type` decides how the raw
text is converted (see `convert.py`):

- `id`, `text`: trimmed text; `email`: trimmed and lower-cased;
- `money`: decimal, two places, in the order's currency (per-column decimal
  comma/point decision); `int`: whole number; `score`: whole number in a range;
- `timestamp`: instant (per-column date-format decision; naive values are in
  the business time zone); `date`: calendar day;
- `bool`: yes/no in Portuguese or English; `status`, `category`: text mapped
  through a vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("customers", "orders", "interactions", "feedback")


@dataclass(frozen=True)
class Field:
    """One target field: name, conversion type and synonyms (normalised headers)."""

    name: str
    type: str
    synonyms: tuple[str, ...] = ()


def normalise_header(text: str) -> str:
    """Header key for matching: no accents, lower case, words joined by one space."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", " ", plain.lower()).strip()


_CUSTOMER_REF = (
    Field("customer_id", "id", ("id do cliente", "codigo do cliente", "cod cliente", "cliente id")),
    Field("customer_email", "email", ("email do cliente", "e mail do cliente", "customer email")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "customers": (
        Field("customer_id", "id", ("id", "codigo", "codigo do cliente", "id do cliente")),
        Field("name", "text", ("nome", "nome completo", "full name", "cliente", "razao social")),
        Field("first_name", "text", ("primeiro nome", "first name")),
        Field("last_name", "text", ("sobrenome", "ultimo nome", "last name")),
        Field("email", "email", ("e mail", "email address", "endereco de e mail")),
        Field("phone", "text", ("telefone", "celular", "phone number", "fone", "whatsapp")),
        Field("document", "text", ("cpf", "cnpj", "cpf cnpj", "documento")),
        Field("birth_date", "date", ("data de nascimento", "nascimento", "birthday")),
        Field("gender", "text", ("genero", "sexo")),
        Field("city", "text", ("cidade", "municipio")),
        Field("state", "text", ("uf", "estado", "province", "state code")),
        Field("zip", "text", ("cep", "zip code", "postal code")),
        Field("country", "text", ("pais",)),
        Field("acquisition_channel", "text", ("canal de aquisicao", "origem", "source")),
        Field("account_manager", "text", ("gerente de conta", "responsavel", "owner")),
        Field("created_at", "timestamp", ("data de cadastro", "cadastro", "created", "created at")),
        Field("is_lead", "bool", ("lead",)),
        Field("lifecycle_stage", "text", ("estagio", "lifecycle stage")),
        Field("email_consent", "bool", ("aceita e mail", "aceita email", "opt in email")),
        Field("sms_consent", "bool", ("aceita sms", "opt in sms")),
        Field("whatsapp_consent", "bool", ("aceita whatsapp", "opt in whatsapp")),
        Field("email_opt_out", "bool", ("descadastrado", "email opt out")),
    ),
    "orders": (
        Field("order_id", "id", ("pedido", "numero do pedido", "n do pedido", "id do pedido")),
        *_CUSTOMER_REF,
        Field("ordered_at", "timestamp", ("data", "data do pedido", "data da venda", "order date")),
        Field(
            "gross_amount", "money", ("valor", "valor total", "total", "amount", "valor total r")
        ),
        Field("discount_amount", "money", ("desconto", "discount")),
        Field("refunded_amount", "money", ("valor estornado", "estorno", "refunded")),
        Field("status", "status", ("situacao", "status do pedido", "order status")),
        Field("cancelled_at", "timestamp", ("cancelado em", "data de cancelamento")),
        Field("captured", "bool", ("capturado",)),
        Field("currency", "text", ("moeda",)),
        Field("sales_channel", "text", ("canal", "canal de venda", "channel")),
        Field("category", "text", ("categoria",)),
        Field("items", "int", ("itens", "quantidade de itens")),
        Field("sku", "text", ("codigo do produto", "sku do produto")),
        Field("product", "text", ("produto", "descricao do produto", "item")),
        Field("quantity", "int", ("quantidade", "qtd", "qtde", "qty")),
        Field("unit_price", "money", ("preco unitario", "valor unitario", "price")),
    ),
    "interactions": (
        Field("interaction_id", "id", ("id", "id da interacao", "protocolo")),
        *_CUSTOMER_REF,
        Field("occurred_at", "timestamp", ("data", "data hora", "quando", "timestamp", "date")),
        Field("channel", "channel", ("canal", "meio")),
        Field("type", "category", ("tipo", "motivo")),
        Field("direction", "direction", ("direcao", "sentido")),
        Field("outcome", "category", ("resultado", "desfecho", "result")),
        Field("campaign", "text", ("campanha",)),
        Field("owner", "text", ("responsavel", "atendente", "agent")),
        Field("subject", "text", ("assunto", "titulo")),
    ),
    "feedback": (
        Field("feedback_id", "id", ("id", "id da resposta", "response id")),
        *_CUSTOMER_REF,
        Field("answered_at", "timestamp", ("data", "data da resposta", "respondido em", "date")),
        Field("csat", "csat", ("satisfacao", "nota csat", "csat score")),
        Field("nps", "nps", ("nota", "nota nps", "nps score", "recomendacao")),
        Field("comment", "text", ("comentario", "comentarios", "observacao", "comments")),
        Field("survey", "text", ("pesquisa", "questionario")),
        Field("channel", "text", ("canal",)),
    ),
}

REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: at least one of these fields must be mapped
    "customers": (("customer_id", "email"),),
    "orders": (
        ("order_id",),
        ("customer_id", "customer_email"),
        ("ordered_at",),
        ("gross_amount",),
    ),
    "interactions": (("customer_id", "customer_email"), ("occurred_at",), ("channel",)),
    "feedback": (("customer_id", "customer_email"), ("answered_at",), ("csat", "nps")),
}

ITEM_FIELDS: tuple[str, ...] = ("sku", "product", "quantity", "unit_price")


def field_map(kind: str) -> dict[str, Field]:
    """The kind's fields by name."""
    return {field.name: field for field in FIELDS[kind]}


def synonym_index(kind: str) -> dict[str, str]:
    """Normalised header -> field name, from field names and their synonyms."""
    index: dict[str, str] = {}
    for field in FIELDS[kind]:
        for key in (field.name, *field.synonyms):
            index.setdefault(normalise_header(key), field.name)
    return index


def missing_required(kind: str, mapped: set[str]) -> list[str]:
    """Required fields (or alternatives, joined by '|') that no column maps to."""
    return ["|".join(group) for group in REQUIRED[kind] if not mapped.intersection(group)]
