"""Reference lists for the demo: Brazilian names, cities, domains, staff.

Cities carry their state (UF), telephone area code (DDD), the range of the
first five CEP digits that belongs to the city, and a relative weight (roughly
the urban population, millions). CEP ranges follow the Correios allocation
(São Paulo capital 01000–08499, Rio de Janeiro 20000–23799, …), so a CEP is
always consistent with its state.
"""

from __future__ import annotations

# fmt: off
FEMALE = (
    "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
    "Patrícia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia",
    "Luciana", "Vanessa", "Mariana", "Gabriela", "Vitória", "Larissa", "Beatriz", "Sofia",
    "Alice", "Helena", "Laura", "Valentina", "Manuela", "Lívia", "Lúcia", "Cecília", "Débora",
    "Tânia", "Simone", "Cláudia", "Rita", "Luíza", "Isabela", "Raquel", "Natália", "Priscila",
    "Renata", "Tatiane", "Cristiane", "Carolina", "Lorena", "Yasmin", "Giovanna", "Heloísa",
    "Mônica", "Rosângela", "Conceição", "Irene", "Ester",
)
MALE = (
    "João", "José", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
    "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo",
    "Rodrigo", "Matheus", "Gustavo", "Thiago", "André", "Fábio", "Vinícius", "Caio", "Otávio",
    "Sérgio", "Márcio", "Rogério", "Cláudio", "Júlio", "Renato", "Leandro", "Heitor", "Arthur",
    "Davi", "Bernardo", "Enzo", "Miguel", "Samuel", "Benício", "Lorenzo", "Túlio", "Joaquim",
    "Nícolas", "Anderson", "Wellington", "Édson", "Cícero", "Sebastião", "Inácio", "Flávio",
    "Hélio", "Rômulo",
)
SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira",
    "Araújo", "Conceição", "Magalhães", "Simões", "Brandão", "Sampaio", "Guimarães", "Assunção",
    "Falcão", "Romão", "Antunes", "Castro", "Monteiro", "Cavalcanti", "Azevedo", "Pinto",
    "Correia", "Batista", "Campos", "Moura", "Borges", "Pires", "Reis", "Medeiros", "Fonseca",
    "Peixoto", "Aragão", "Queiroz", "Bezerra", "Leão", "Damião", "Brito", "Xavier", "Tavares",
    "Siqueira", "Macêdo",
)
COMPANY_PREFIX = (
    "", "", "Grupo", "Distribuidora", "Comercial", "Casa", "Empório", "Rede",
)
COMPANY_SECTOR = (
    "Comércio", "Alimentos", "Tecnologia", "Serviços", "Materiais de Construção", "Papelaria",
    "Cosméticos", "Confecções", "Logística", "Móveis", "Farmacêutica", "Eventos",
)
COMPANY_SUFFIX = (
    "Ltda", "Ltda", "Ltda", "ME", "EIRELI", "S.A.",
)
COMPANY_MAILBOX = (
    "contato", "compras", "financeiro", "comercial", "suprimentos",
)
EMAIL_DOMAINS = (
    "gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "bol.com.br",
    "terra.com.br", "icloud.com", "live.com", "globo.com",
)
EMAIL_DOMAIN_WEIGHTS = (
    0.45, 0.17, 0.08, 0.07, 0.06, 0.05, 0.03, 0.05, 0.02, 0.02,
)
EMAIL_TYPOS = (
    "gmial.com", "gmail.con", "hotmial.com", "hotmail.com.br", "yaho.com.br", "uol.com",
)
# (city, UF, DDD, first CEP prefix, last CEP prefix, weight)
CITIES = (
    ("São Paulo", "SP", 11, 1000, 8499, 12.3),
    ("Rio de Janeiro", "RJ", 21, 20000, 23799, 6.7),
    ("Brasília", "DF", 61, 70000, 72799, 3.0),
    ("Salvador", "BA", 71, 40000, 42599, 2.9),
    ("Fortaleza", "CE", 85, 60000, 61599, 2.7),
    ("Belo Horizonte", "MG", 31, 30000, 31999, 2.5),
    ("Manaus", "AM", 92, 69000, 69099, 2.2),
    ("Curitiba", "PR", 41, 80000, 82999, 1.9),
    ("Recife", "PE", 81, 50000, 52999, 1.6),
    ("Goiânia", "GO", 62, 74000, 74899, 1.5),
    ("Belém", "PA", 91, 66000, 66999, 1.5),
    ("Porto Alegre", "RS", 51, 90000, 91999, 1.4),
    ("Guarulhos", "SP", 11, 7000, 7399, 1.4),
    ("Campinas", "SP", 19, 13000, 13139, 1.2),
    ("São Luís", "MA", 98, 65000, 65109, 1.1),
    ("Maceió", "AL", 82, 57000, 57099, 1.0),
    ("Natal", "RN", 84, 59000, 59139, 0.9),
    ("Teresina", "PI", 86, 64000, 64099, 0.9),
    ("Campo Grande", "MS", 67, 79000, 79129, 0.9),
    ("João Pessoa", "PB", 83, 58000, 58099, 0.8),
    ("Florianópolis", "SC", 48, 88000, 88099, 0.5),
    ("Santos", "SP", 13, 11000, 11099, 0.4),
    ("Ribeirão Preto", "SP", 16, 14000, 14114, 0.7),
    ("Joinville", "SC", 47, 89200, 89239, 0.6),
    ("Uberlândia", "MG", 34, 38400, 38415, 0.7),
    ("Cuiabá", "MT", 65, 78000, 78109, 0.6),
    ("Aracaju", "SE", 79, 49000, 49099, 0.7),
    ("Niterói", "RJ", 21, 24000, 24399, 0.5),
    ("Londrina", "PR", 43, 86000, 86099, 0.6),
    ("Vitória", "ES", 27, 29000, 29099, 0.4),
    ("Juiz de Fora", "MG", 32, 36000, 36099, 0.6),
    ("Sorocaba", "SP", 15, 18000, 18109, 0.7),
    ("Caxias do Sul", "RS", 54, 95000, 95124, 0.5),
    ("Feira de Santana", "BA", 75, 44000, 44099, 0.6),
    ("Porto Velho", "RO", 69, 76800, 76834, 0.5),
    ("Macapá", "AP", 96, 68900, 68914, 0.5),
    ("Palmas", "TO", 63, 77000, 77270, 0.3),
    ("Boa Vista", "RR", 95, 69300, 69339, 0.4),
    ("Rio Branco", "AC", 68, 69900, 69923, 0.4),
)
ACQUISITION_CHANNELS = (
    "organic_search", "paid_search", "social_ads", "referral", "partner_marketplace", "email",
    "store_walk_in", "events", "direct",
)
ACQUISITION_WEIGHTS_PERSON = (
    0.2, 0.16, 0.18, 0.1, 0.1, 0.05, 0.12, 0.03, 0.06,
)
ACQUISITION_WEIGHTS_COMPANY = (
    0.12, 0.1, 0.05, 0.25, 0.08, 0.05, 0.05, 0.15, 0.15,
)
ACCOUNT_MANAGERS = (
    "Renata Albuquerque", "Marcelo Figueiredo", "Patrícia Nogueira", "Ricardo Vasconcelos",
    "Cristina Barros", "Fernando Caldeira", "Luciana Prado", "Gilberto Sales", "Adriana Meireles",
    "Rafael Quintela", "Sílvia Bittencourt", "Eduardo Paiva",
)
# fmt: on
