"""Brazilian spreadsheets with Portuguese headers (dd/mm/yyyy, decimal comma)."""

from crm_core.ingest.profiles.base import Profile

PLANILHA_VENDAS = Profile(
    name="planilha_vendas",
    kind="orders",
    columns={
        "Número do Pedido": "order_id",
        "Código do Cliente": "customer_id",
        "E-mail": "customer_email",
        "Data da Venda": "ordered_at",
        "Valor Total (R$)": "gross_amount",
        "Desconto (R$)": "discount_amount",
        "Valor Estornado (R$)": "refunded_amount",
        "Status": "status",
        "Canal": "sales_channel",
        "Categoria": "category",
        "Produto": "product",
        "Quantidade": "quantity",
    },
    signature=("Número do Pedido", "Data da Venda"),
    date_order="dmy",
    decimal=",",
    source="planilha",
)

PLANILHA_CLIENTES = Profile(
    name="planilha_clientes",
    kind="customers",
    columns={
        "Código do Cliente": "customer_id",
        "Nome": "name",
        "E-mail": "email",
        "Telefone": "phone",
        "CPF/CNPJ": "document",
        "Cidade": "city",
        "UF": "state",
        "CEP": "zip",
        "Data de Nascimento": "birth_date",
        "Data de Cadastro": "created_at",
        "Canal de Aquisição": "acquisition_channel",
        "Aceita E-mail": "email_consent",
        "Aceita WhatsApp": "whatsapp_consent",
    },
    signature=("Código do Cliente", "Nome"),
    date_order="dmy",
    decimal=",",
    source="planilha",
)
