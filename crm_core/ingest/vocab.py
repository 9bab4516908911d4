"""Vocabularies: source values (normalised like headers) -> our values.

`orders.status` (schema.py): completed | partially_refunded | refunded |
cancelled | failed | pending. Revenue is defined by the `order_facts` view:
cancelled, failed and pending orders bring none; refunds are subtracted.
"""

from __future__ import annotations

ORDER_STATUS: dict[str, str] = {
    **dict.fromkeys(
        (
            "paid",
            "pago",
            "completed",
            "complete",
            "concluido",
            "aprovado",
            "succeeded",
            "success",
            "closed won",
            "fulfilled",
            "entregue",
            "faturado",
            "finalizado",
            "ok",
        ),
        "completed",
    ),
    **dict.fromkeys(
        ("refunded", "estornado", "reembolsado", "devolvido", "fully refunded"), "refunded"
    ),
    **dict.fromkeys(
        (
            "partially refunded",
            "parcialmente estornado",
            "estorno parcial",
            "parcialmente reembolsado",
        ),
        "partially_refunded",
    ),
    **dict.fromkeys(
        ("cancelled", "canceled", "cancelado", "voided", "void", "closed lost", "perdido"),
        "cancelled",
    ),
    **dict.fromkeys(("failed", "falhou", "recusado", "declined", "negado"), "failed"),
    **dict.fromkeys(
        (
            "pending",
            "pendente",
            "authorized",
            "aguardando pagamento",
            "open",
            "em aberto",
            "prospecting",
            "qualification",
            "negotiation",
            "proposal",
            "uncaptured",
            "requires payment method",
            "partially paid",
            "processando",
            "needs analysis",
            "value proposition",
            "id decision makers",
            "perception analysis",
            "proposal price quote",
            "negotiation review",
        ),
        "pending",
    ),
}

CHANNEL: dict[str, str] = {
    **dict.fromkeys(("email", "e mail", "mail marketing", "newsletter"), "email"),
    **dict.fromkeys(("phone", "telefone", "ligacao", "call", "telefonema"), "phone"),
    **dict.fromkeys(("whatsapp", "whats", "zap", "wpp"), "whatsapp"),
    **dict.fromkeys(("chat", "chat online", "live chat"), "chat"),
    **dict.fromkeys(("sms", "mensagem de texto", "text"), "sms"),
    **dict.fromkeys(("visit", "visita", "loja", "presencial", "in person", "store"), "visit"),
    **dict.fromkeys(("community", "comunidade", "forum"), "community"),
    **dict.fromkeys(("web", "site", "website", "portal", "app"), "web"),
}

DIRECTION: dict[str, str] = {
    **dict.fromkeys(("inbound", "entrada", "recebido", "recebida", "receptivo", "in"), "inbound"),
    **dict.fromkeys(("outbound", "saida", "enviado", "enviada", "ativo", "out"), "outbound"),
}

CATEGORY: dict[str, str] = {
    # interaction types
    "campanha": "campaign",
    "suporte": "support",
    "atendimento": "support",
    "vendas": "sales",
    "venda": "sales",
    "reclamacao": "complaint",
    "boas vindas": "onboarding",
    "onboarding": "onboarding",
    "post na comunidade": "community_post",
    "community post": "community_post",
    # outcomes
    "entregue": "delivered",
    "aberto": "opened",
    "aberta": "opened",
    "clicado": "clicked",
    "clicou": "clicked",
    "respondido": "responded",
    "respondeu": "responded",
    "convertido": "converted",
    "converteu": "converted",
    "resolvido": "resolved",
    "nao resolvido": "unresolved",
    "sem resposta": "no_answer",
    "nao atendeu": "no_answer",
    "no answer": "no_answer",
}

TRUE_WORDS: tuple[str, ...] = (
    "true",
    "yes",
    "y",
    "sim",
    "s",
    "1",
    "x",
    "t",
    "subscribed",
    "opt in",
    "opted in",
    "aceita",
    "aceito",
    "verdadeiro",
)
FALSE_WORDS: tuple[str, ...] = (
    "false",
    "no",
    "n",
    "nao",
    "0",
    "f",
    "unsubscribed",
    "not subscribed",
    "opt out",
    "opted out",
    "recusa",
    "falso",
    "pending",
    "never subscribed",
)

# HubSpot lifecycle stages that are not (yet) customers
LEAD_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "marketing qualified lead",
    "salesqualifiedlead",
    "sales qualified lead",
    "opportunity",
    "other",
    "prospect",
    "assinante",
    "oportunidade",
)
