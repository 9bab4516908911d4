"""Feedback themes (Buttle's value chain, stage 2 — customer intimacy): what survey comments
talk about and how they feel, with a transparent keyword method.

Method (a dictionary method in the spirit of LIWC: the lexicon *is* the model)
- A comment is first **normalised**: Unicode NFD with the combining marks removed (so "não"
  and "nao", "preço" and "preco" are the same word), lower-cased, typographic apostrophes made
  plain, and every run of punctuation turned into a " . " barrier (a negation never reaches
  across a comma or a full stop).
- A lexicon **term** is one word or a phrase of words separated by single spaces, written
  normalised. A term ending in `*` matches any word *starting* with it (`entreg*` matches
  "entrega", "entregue"); otherwise it matches whole words only.
- **Topic**: each topic of `TOPICS` has its terms; a comment's hits for a topic are how many
  times its terms occur. The topic is the one with most hits; a tie goes to the topic listed
  first in the lexicon; no hit at all is `OTHER`.
- **Sentiment**: `positive` and `negative` terms are counted. A sentiment term preceded by a
  negator (`negators`, e.g. "não", "nunca", "not", "never") with at most `window` words in
  between counts for the *opposite* side ("não recomendo" is negative, "sem problemas" is
  positive). English "no" is not a negator: in Portuguese it means "in the" ("no geral,
  bom"). Score = positive hits − negative hits; > 0 is positive, < 0 negative, 0 (or no
  sentiment term at all) neutral.
- Vectorised: one regular expression per topic and per sentiment list (`str.count_matches`
  over the column), run once per *distinct* comment and joined back, so a million answers
  repeating a few thousand comments cost a few thousand classifications.

Summaries (`theme_summary`, `theme_trend`): CSAT mean is the mean of the 1–5 answers; NPS is
% promoters (9–10) − % detractors (0–6) among the 0–10 answers (Reichheld 2003), −100…100, as
in `crm_core.kpi_defs`. Answers without a comment are counted apart (`with_comment`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.kpi_query import Grain, midnight, registered, run
from crm_core.period import Period

TOPICS: tuple[str, ...] = (
    "returns_refunds", "product_quality", "price", "delivery", "service", "app_website",
)  # fmt: skip
"""Topics in tie-break order (a comment hitting two topics equally goes to the first)."""
OTHER = "other"
TOPIC_LABELS: tuple[str, ...] = (*TOPICS, OTHER)
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
FEEDBACK_COLUMNS: tuple[str, ...] = (
    "customer_id", "day", "csat", "nps", "comment", "survey", "channel",
)  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """The whole classifier as data: terms per topic (in tie-break order), sentiment terms,
    negators and the negation window (words allowed between a negator and its term)."""

    topics: tuple[tuple[str, tuple[str, ...]], ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    negators: tuple[str, ...]
    window: int = 3

    def __post_init__(self) -> None:
        if not self.topics or not self.positive or not self.negative or not self.negators:
            raise VinculoError("intimacy.bad_lexicon", detail="empty list")
        if not 0 <= self.window <= 10:
            raise VinculoError("intimacy.bad_lexicon", detail=f"window {self.window}")
        for term in self.all_terms():
            if not re.fullmatch(r"[a-z0-9']+( [a-z0-9']+)*\*?", term):
                raise VinculoError("intimacy.bad_lexicon", detail=repr(term))

    @property
    def topic_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.topics)

    def terms_of(self, topic: str) -> tuple[str, ...]:
        return dict(self.topics)[topic]

    def all_terms(self) -> list[str]:
        topic_terms = [t for _, terms in self.topics for t in terms]
        return [*topic_terms, *self.positive, *self.negative, *self.negators]

    def to_json(self) -> str:
        body = asdict(self)
        body["topics"] = {name: list(terms) for name, terms in self.topics}
        return json.dumps(body, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Lexicon:
        try:
            body = json.loads(text)
            return cls(
                topics=tuple((k, tuple(v)) for k, v in body["topics"].items()),
                positive=tuple(body["positive"]), negative=tuple(body["negative"]),
                negators=tuple(body["negators"]), window=int(body.get("window", 3)),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VinculoError("intimacy.bad_lexicon", detail=str(exc)) from exc


DEFAULT_LEXICON = Lexicon(
    topics=(
        ("returns_refunds", (
            "devolu*", "devolv*", "reembols*", "estorn*", "troca*", "trocar", "ressarc*",
            "return*", "refund*", "exchange*", "money back", "chargeback",
        )),
        ("product_quality", (
            "produto*", "qualidade*", "defeit*", "quebrad*", "estragad*", "material*",
            "tamanho*", "durab*", "mercadoria*", "product*", "quality", "defect*", "broken",
            "faulty", "item", "items", "size", "durable",
        )),
        ("price", (
            "preco*", "caro", "caros", "carissim*", "barat*", "valor*", "custo*", "promoca*",
            "desconto*", "cupo*", "vale a pena", "vale muito a pena", "price*", "pricing",
            "expensive", "cheap*", "cost*", "overpriced", "discount*", "coupon*", "worth",
            "value for money",
        )),
        ("delivery", (
            "entreg*", "frete*", "prazo*", "chegou", "chegar*", "chegada", "atras*",
            "transportad*", "correio*", "rastre*", "embalage*", "envio*", "enviad*",
            "deliver*", "shipping", "shipped", "shipment", "arriv*", "late", "courier*",
            "package*", "parcel*", "tracking", "packaging",
        )),
        ("service", (
            "atendiment*", "atendente*", "suporte*", "sac", "ligar", "liguei", "ligaca*",
            "telefone*", "chat", "vendedor*", "vendedora*", "funcionari*", "equipe*",
            "service", "support", "staff", "agent*", "call", "called", "representative*",
            "seller*",
        )),
        ("app_website", (
            "app", "apps", "aplicativo*", "site*", "website*", "pagina*", "busca*", "login",
            "senha*", "checkout", "carrinho*", "trav*", "bug*", "online", "crash*", "page",
            "search", "password", "cart",
        )),
    ),
    positive=(
        "otim*", "excelent*", "bom", "boa", "bons", "boas", "maravilh*", "perfeit*", "adorei",
        "amei", "gostei", "satisfeit*", "recomendo", "recomendaria", "rapid*", "pratic*",
        "facil", "faceis", "atencios*", "educad*", "eficien*", "funciona", "dentro do prazo",
        "antes do prazo", "vale a pena", "vale muito a pena", "custo beneficio", "gratis",
        "parabens", "great", "good", "excellent", "amazing", "awesome", "love*", "perfect*",
        "happy", "satisfied", "recommend*", "fast", "quick*", "easy", "helpful", "friendly",
        "works", "on time", "worth it", "nice", "best",
    ),
    negative=(
        "ruim", "ruins", "pessim*", "horrivel", "terrivel", "pior", "lent*", "demor*",
        "atras*", "defeit*", "quebrad*", "estragad*", "amassad*", "danificad*", "confus*",
        "dificil", "trav*", "erro", "erros", "falha*", "perdi", "caro", "caros", "preco alto",
        "precos altos", "abaixo do esperado", "deixa a desejar", "deixou a desejar",
        "poderia ser melhor", "poderia ser mais", "decepcion*", "insatisfeit*", "reclama*",
        "problema*", "absurd*", "nunca mais", "nao chegou", "nao recebi", "descaso", "bad",
        "poor*", "terrible", "awful", "horrible", "worst", "slow*", "late", "delay*",
        "broken", "damaged", "defect*", "faulty", "crash*", "confusing", "difficult", "rude",
        "expensive", "overpriced", "disappoint*", "unhappy", "problem*", "never arrived",
        "never again", "could be better", "waste of money",
    ),
    negators=(
        "nao", "nunca", "nem", "jamais", "sem", "nenhum", "nenhuma", "not", "never",
        "without", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't",
        "can't", "cannot", "dont", "doesnt", "didnt", "isnt", "wasnt",
    ),
)  # fmt: skip
"""The lexicon the page uses (Portuguese and English, normalised spelling)."""


# ---- the method -------------------------------------------------------------------------------


def normalise(text: pl.Expr) -> pl.Expr:
    """`text` normalised as the module docstring says (accents, case, punctuation barriers)."""
    return (
        text.str.normalize("NFD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"[’‘´`]", "'")
        .str.replace_all(r"[^\w\s']+", " . ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _term(term: str) -> str:
    """Regex of one term: words joined by spaces, a trailing `*` = any word ending."""
    if term.endswith("*"):
        return r"\b" + re.escape(term[:-1]).replace(r"\ ", r"\s+") + r"\w*"
    return r"\b" + re.escape(term).replace(r"\ ", r"\s+") + r"\b"


def terms_regex(terms: tuple[str, ...] | list[str]) -> str:
    """One regex matching any of `terms` (longest first, so a phrase beats its first word)."""
    ordered = sorted(terms, key=len, reverse=True)
    return "(?:" + "|".join(_term(t) for t in ordered) + ")"


def negated_regex(lexicon: Lexicon, terms: tuple[str, ...]) -> str:
    """Regex of a `terms` occurrence preceded by a negator within `lexicon.window` words."""
    negator = terms_regex(lexicon.negators)
    return rf"{negator}(?:\s+[\w']+){{0,{lexicon.window}}}?\s+{terms_regex(terms)}"


def _sentiment_exprs(text: pl.Expr, lexicon: Lexicon) -> tuple[pl.Expr, pl.Expr]:
    """Effective positive and negative hits (negated terms moved to the other side)."""
    pos = text.str.count_matches(terms_regex(lexicon.positive))
    neg = text.str.count_matches(terms_regex(lexicon.negative))
    pos_negated = text.str.count_matches(negated_regex(lexicon, lexicon.positive))
    neg_negated = text.str.count_matches(negated_regex(lexicon, lexicon.negative))
    return pos - pos_negated + neg_negated, neg - neg_negated + pos_negated


def classify(comments: pl.Series, lexicon: Lexicon = DEFAULT_LEXICON) -> pl.DataFrame:
    """Topic and sentiment of each comment (method in the module docstring).

    Columns: `comment` (as given), `topic` (Enum of the lexicon's topics + `OTHER`),
    `sentiment` (Enum `SENTIMENTS`), `score` (positive − negative hits), `positive`,
    `negative` (effective hits) and `hits_<topic>` per topic. Null or blank comments get null
    topic and sentiment. One row per input row, in order.
    """
    names = lexicon.topic_names
    labels = pl.Enum([*names, OTHER])
    frame = comments.cast(pl.String).alias("comment").to_frame()
    text = pl.col("_text")
    frame = frame.with_columns(_text=normalise(pl.col("comment")))
    pos, neg = _sentiment_exprs(text, lexicon)
    hits = {f"hits_{n}": text.str.count_matches(terms_regex(terms)) for n, terms in lexicon.topics}
    frame = frame.with_columns(positive=pos, negative=neg, **hits)
    hit_list = pl.concat_list([pl.col(h) for h in hits])
    best = hit_list.list.arg_max().replace_strict(dict(enumerate(names)), return_dtype=pl.String)
    blank = text.fill_null("") == ""
    score = pl.col("positive").cast(pl.Int32) - pl.col("negative").cast(pl.Int32)
    mood = pl.when(score > 0).then(pl.lit("positive")).when(score < 0).then(pl.lit("negative"))
    return frame.select(
        "comment",
        topic=pl.when(blank).then(None)
        .when(hit_list.list.max() == 0).then(pl.lit(OTHER))
        .otherwise(best).cast(labels),
        sentiment=pl.when(blank).then(None).otherwise(mood.otherwise(pl.lit("neutral")))
        .cast(pl.Enum(SENTIMENTS)),
        score=score, positive="positive", negative="negative", **{h: h for h in hits},
    )  # fmt: skip


def explain(comments: pl.Series, lexicon: Lexicon = DEFAULT_LEXICON) -> pl.DataFrame:
    """Why each comment got its labels: `classify`'s columns plus `normalised` (the text the
    terms are matched against) and the matched text per list — `topic_terms` (matches of the
    chosen topic's terms), `positive_terms`, `negative_terms`, `negated_terms` (sentiment
    terms a negator flipped, with the negator), each a list of strings."""
    frame = classify(comments, lexicon).with_columns(normalised=normalise(pl.col("comment")))
    flipped = "(?:" + "|".join(
        (negated_regex(lexicon, lexicon.positive), negated_regex(lexicon, lexicon.negative))
    ) + ")"  # fmt: skip
    topic_terms = [
        pl.when(pl.col("topic") == name).then(
            pl.col("normalised").str.extract_all(terms_regex(terms))
        )
        for name, terms in lexicon.topics
    ]
    return frame.with_columns(
        topic_terms=pl.coalesce(topic_terms),
        positive_terms=pl.col("normalised").str.extract_all(terms_regex(lexicon.positive)),
        negative_terms=pl.col("normalised").str.extract_all(terms_regex(lexicon.negative)),
        negated_terms=pl.col("normalised").str.extract_all(flipped),
    )


# ---- the answers and their themes ---------------------------------------------------------------

_FEEDBACK_SQL = """
SELECT t.customer_id, t.answered_at::DATE AS day, t.csat::INTEGER AS csat,
       t.nps::INTEGER AS nps, t.comment, t.survey, t.channel
FROM feedback_facts t
SEMI JOIN (SELECT customer_id FROM golden_customers WHERE erased_at IS NULL) g
    ON g.customer_id = t.customer_id
{scope}
WHERE t.answered_at < {until}
"""


def load_feedback(
    con: duckdb.DuckDBPyConnection, as_of: date, customers: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Survey answers up to `as_of` (local day, included) of non-erased golden customers,
    optionally only those of `customers` (a frame with `customer_id`: the global filters).
    Columns `FEEDBACK_COLUMNS`; `day` is the local day of `answered_at`."""
    with registered(con, Grain.single(Period(as_of, as_of)), customers=customers) as q:
        scope = f"SEMI JOIN {q.scope} s ON s.customer_id = t.customer_id" if q.scope else ""
        sql = _FEEDBACK_SQL.format(scope=scope, until=midnight(as_of + timedelta(days=1)))
        return run(con, sql)


def classify_feedback(feedback: pl.DataFrame, lexicon: Lexicon = DEFAULT_LEXICON) -> pl.DataFrame:
    """`feedback` with `topic` and `sentiment` of its comment (null without a comment),
    classifying each distinct comment once."""
    distinct = feedback["comment"].drop_nulls().unique()
    labels = classify(distinct, lexicon).select("comment", "topic", "sentiment")
    return feedback.join(labels, on="comment", how="left", maintain_order="left")


def _nps(score: pl.Expr) -> pl.Expr:
    answered = score.is_not_null().sum()
    net = (score >= 9).sum().cast(pl.Int64) - (score <= 6).sum().cast(pl.Int64)
    return pl.when(answered > 0).then(100.0 * net / answered)


def _theme_aggs() -> list[pl.Expr]:
    return [
        pl.len().alias("comments"),
        *((pl.col("sentiment") == s).sum().alias(s) for s in SENTIMENTS),
        pl.col("csat").mean().alias("csat_mean"),
        pl.col("csat").count().alias("csat_answers"),
        _nps(pl.col("nps")).alias("nps"),
        pl.col("nps").count().alias("nps_answers"),
    ]


def theme_summary(classified: pl.DataFrame) -> pl.DataFrame:
    """One row per topic (every topic, `OTHER` last) over the commented answers of
    `classified`: `topic`, `comments`, `share` (of all comments, 0–1), `positive`, `neutral`,
    `negative` (counts), `negative_share` (0–1), `net_sentiment` ((positive − negative) /
    comments, −1…1), `csat_mean` (1–5), `csat_answers`, `nps` (−100…100), `nps_answers`."""
    commented = classified.filter(pl.col("topic").is_not_null())
    dtype = classified.schema["topic"]
    topics = pl.DataFrame({"topic": pl.Series(dtype.categories, dtype=dtype)})
    per = commented.group_by("topic").agg(_theme_aggs())
    out = topics.join(per, on="topic", how="left", maintain_order="left").with_columns(
        pl.col("comments", *SENTIMENTS, "csat_answers", "nps_answers").fill_null(0).cast(pl.UInt32)
    )
    total = max(commented.height, 1)
    said = pl.col("comments") > 0
    return out.with_columns(
        share=pl.col("comments") / total,
        negative_share=pl.when(said).then(pl.col("negative") / pl.col("comments")),
        net_sentiment=pl.when(said).then(
            (pl.col("positive").cast(pl.Int64) - pl.col("negative")) / pl.col("comments")
        ),
    ).select("topic", "comments", "share", *SENTIMENTS, "negative_share", "net_sentiment",
             "csat_mean", "csat_answers", "nps", "nps_answers")  # fmt: skip


def theme_trend(classified: pl.DataFrame) -> pl.DataFrame:
    """Commented answers per calendar month and topic: `month` (first day), `topic`,
    `comments`, `positive`, `neutral`, `negative`, `negative_share` (0–1); months without a
    comment of a topic have no row."""
    commented = classified.filter(pl.col("topic").is_not_null())
    return (
        commented.group_by(pl.col("day").dt.truncate("1mo").alias("month"), "topic")
        .agg(pl.len().alias("comments"), *((pl.col("sentiment") == s).sum().alias(s)
                                          for s in SENTIMENTS))
        .with_columns(negative_share=pl.col("negative") / pl.col("comments"))
        .sort("month", "topic")
    )  # fmt: skip


def sample_comments(
    classified: pl.DataFrame, topic: str, sentiment: str | None = None, n: int = 20
) -> pl.DataFrame:
    """Distinct comments of `topic` (and `sentiment` when given), most repeated first, then
    most recent: `comment`, `sentiment`, `answers` (how many answers carry it), `csat_mean`,
    `last_day`."""
    keep = pl.col("topic") == topic
    if sentiment:
        keep &= pl.col("sentiment") == sentiment
    return (
        classified.filter(keep)
        .group_by("comment")
        .agg(pl.col("sentiment").first(), pl.len().alias("answers"),
             pl.col("csat").mean().alias("csat_mean"), pl.col("day").max().alias("last_day"))
        .sort(["answers", "last_day", "comment"], descending=[True, True, False])
        .head(n)
    )  # fmt: skip


def other_share(classified: pl.DataFrame) -> float | None:
    """Share of the commented answers whose topic is `OTHER` (0–1; None without comments)."""
    topic = classified["topic"].drop_nulls()
    return None if topic.len() == 0 else float((topic == OTHER).mean())  # type: ignore[arg-type]


def lexicon_table(lexicon: Lexicon = DEFAULT_LEXICON) -> pl.DataFrame:
    """The lexicon as rows for display: `list` (a topic name, `positive`, `negative` or
    `negators`) and `terms` (comma-separated, in the lexicon's order)."""
    rows = [(name, ", ".join(terms)) for name, terms in lexicon.topics]
    rows += [(k, ", ".join(getattr(lexicon, k))) for k in ("positive", "negative", "negators")]
    return pl.DataFrame(rows, schema={"list": pl.String, "terms": pl.String}, orient="row")


def feedback_changes(classified: pl.DataFrame, period: Period) -> list[tuple]:
    """(measure, value, previous, change) for `period` and `period.previous()`: `answers`
    (survey answers), `negative_share` (share of the commented answers classified negative,
    0–1), `csat_mean` (1–5) and `nps` (−100…100). Ratios are None without answers."""
    commented = pl.col("sentiment").is_not_null().sum()
    values: dict[str, list] = {}
    for p in (period, period.previous()):
        row = (
            classified.filter(pl.col("day").is_between(p.start, p.end))
            .select(
                answers=pl.len(),
                negative_share=pl.when(commented > 0).then(
                    (pl.col("sentiment") == "negative").sum() / commented
                ),
                csat_mean=pl.col("csat").mean(),
                nps=_nps(pl.col("nps")),
            )
            .row(0, named=True)
        )
        for measure, value in row.items():
            values.setdefault(measure, []).append(value)
    return [
        (m, v, prev, None if v is None or prev is None else v - prev)
        for m, (v, prev) in values.items()
    ]
