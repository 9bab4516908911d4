"""Feedback themes: the lexicon method comment by comment, and the summaries by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from crm_core import feedback_themes as ft
from crm_core.errors import VinculoError
from crm_core.period import Period

CASES = [
    # comment, topic, sentiment
    ("Produto de ótima qualidade, recomendo a todos.", "product_quality", "positive"),
    ("NÃO RECOMENDO ESTE PRODUTO", "product_quality", "negative"),  # case, accents, negation
    ("nao recomendo este produto", "product_quality", "negative"),  # typed without accents
    ("A entrega atrasou mais de uma semana.", "delivery", "negative"),
    ("Entrega sem atraso, chegou antes do prazo", "delivery", "positive"),  # "sem" flips
    ("Atendimento não foi bom.", "service", "negative"),  # two words between is in the window
    ("Não gostei. Ótimo atendimento, porém.", "service", "neutral"),  # a full stop stops "não"
    ("Quero devolver e o estorno não saiu", "returns_refunds", "neutral"),
    ("O preço é caro demais", "price", "negative"),
    ("Preço e entrega", "price", "neutral"),  # a tie goes to the topic listed first
    ("O site travou no pagamento", "app_website", "negative"),
    ("Obrigado!", "other", "neutral"),
    ("Great service, very helpful staff", "service", "positive"),
    ("The package arrived late and damaged", "delivery", "negative"),
    ("Not good, would not recommend", "other", "negative"),
    ("Refund took FOREVER", "returns_refunds", "neutral"),
    ("The app never works", "app_website", "negative"),
    ("Without any problems, fast delivery", "delivery", "positive"),
    ("Too expensive, overpriced", "price", "negative"),
    ("I didn’t like the quality, not great", "product_quality", "negative"),  # curly apostrophe
]


@pytest.mark.parametrize(("comment", "topic", "sentiment"), CASES)
def test_classify(comment: str, topic: str, sentiment: str) -> None:
    row = ft.classify(pl.Series([comment])).row(0, named=True)
    assert (row["topic"], row["sentiment"]) == (topic, sentiment)


def test_blank_and_null_comments_get_no_label() -> None:
    out = ft.classify(pl.Series(["", "   ", None, "bom"]))
    assert out["topic"].to_list() == [None, None, None, "other"]
    assert out["sentiment"].to_list() == [None, None, None, "positive"]


def test_negation_window_is_counted_in_words() -> None:
    narrow = ft.Lexicon(**{**_fields(ft.DEFAULT_LEXICON), "window": 0})
    comment = pl.Series(["não foi bom"])
    assert ft.classify(comment)["sentiment"][0] == "negative"  # one word between: in window 3
    assert ft.classify(comment, narrow)["sentiment"][0] == "positive"  # not within 0 words


def test_topic_order_breaks_ties() -> None:
    lex = ft.DEFAULT_LEXICON
    reordered = ft.Lexicon(**{**_fields(lex), "topics": tuple(reversed(lex.topics))})
    comment = pl.Series(["Preço e entrega"])
    assert ft.classify(comment, reordered)["topic"][0] == "delivery"


def test_prefix_terms_and_whole_words() -> None:
    lex = ft.Lexicon(
        topics=(("delivery", ("entreg*",)), ("price", ("caro",))),
        positive=("bom",), negative=("ruim",), negators=("nao",),
    )  # fmt: skip
    out = ft.classify(pl.Series(["entregue", "carona", "caro"]), lex)
    assert out["topic"].to_list() == ["delivery", "other", "price"]


def test_explain_names_the_matches() -> None:
    row = ft.explain(pl.Series(["Não recomendo: a entrega atrasou!"])).row(0, named=True)
    assert row["normalised"] == "nao recomendo . a entrega atrasou ."
    assert row["topic"] == "delivery"
    assert row["topic_terms"] == ["entrega", "atrasou"]
    assert row["positive_terms"] == ["recomendo"]
    assert row["negative_terms"] == ["atrasou"]
    assert row["negated_terms"] == ["nao recomendo"]
    assert (row["positive"], row["negative"], row["score"]) == (0, 2, -2)


def test_lexicon_round_trips_and_rejects_bad_terms() -> None:
    again = ft.Lexicon.from_json(ft.DEFAULT_LEXICON.to_json())
    assert again == ft.DEFAULT_LEXICON
    with pytest.raises(VinculoError) as bad:
        ft.Lexicon(topics=(("price", ("preço",)),), positive=("bom",), negative=("ruim",),
                   negators=("nao",))  # fmt: skip
    assert bad.value.key == "intimacy.bad_lexicon"
    with pytest.raises(VinculoError):
        ft.Lexicon.from_json("{not json")


def _fields(lex: ft.Lexicon) -> dict:
    return {k: getattr(lex, k) for k in ("topics", "positive", "negative", "negators", "window")}


# ---- summaries of a hand-made set of answers -------------------------------------------------

ANSWERS = [
    # customer, day, csat, nps, comment
    ("A", date(2026, 6, 1), 5, None, "Entrega rápida"),  # delivery, positive
    ("B", date(2026, 6, 2), 1, 3, "A entrega atrasou"),  # delivery, negative
    ("C", date(2026, 6, 3), 4, 10, "Ótimo atendimento"),  # service, positive
    ("D", date(2026, 6, 3), 3, None, None),  # no comment
    ("E", date(2026, 7, 1), None, 9, "Obrigado"),  # other, neutral
    ("F", date(2026, 6, 20), None, None, "A entrega atrasou"),  # same comment, same label
]


@pytest.fixture
def classified() -> pl.DataFrame:
    schema = {"customer_id": pl.String, "day": pl.Date, "csat": pl.Int32, "nps": pl.Int32,
              "comment": pl.String}  # fmt: skip
    frame = pl.DataFrame(ANSWERS, schema=schema, orient="row")
    frame = frame.with_columns(survey=pl.lit("s"), channel=pl.lit("email"))
    return ft.classify_feedback(frame)


def test_classify_feedback_labels_every_copy(classified: pl.DataFrame) -> None:
    assert classified["customer_id"].to_list() == ["A", "B", "C", "D", "E", "F"]
    assert classified["topic"].to_list() == [
        "delivery", "delivery", "service", None, "other", "delivery",
    ]  # fmt: skip
    assert classified["sentiment"].to_list()[4:] == ["neutral", "negative"]


def test_theme_summary(classified: pl.DataFrame) -> None:
    out = {r["topic"]: r for r in ft.theme_summary(classified).iter_rows(named=True)}
    assert list(out) == list(ft.TOPIC_LABELS)
    d = out["delivery"]
    assert (d["comments"], d["positive"], d["neutral"], d["negative"]) == (3, 1, 0, 2)
    assert d["share"] == pytest.approx(3 / 5)
    assert d["negative_share"] == pytest.approx(2 / 3)
    assert d["net_sentiment"] == pytest.approx((1 - 2) / 3)
    assert (d["csat_mean"], d["csat_answers"]) == (3.0, 2)  # (5 + 1) / 2; F gave no CSAT
    assert (d["nps"], d["nps_answers"]) == (-100.0, 1)  # one detractor
    assert out["service"]["nps"] == 100.0
    assert out["other"]["csat_mean"] is None
    assert out["price"]["comments"] == 0 and out["price"]["negative_share"] is None
    assert ft.other_share(classified) == pytest.approx(1 / 5)


def test_theme_trend(classified: pl.DataFrame) -> None:
    out = ft.theme_trend(classified)
    rows = out.iter_rows(named=True)
    got = {(r["month"], r["topic"]): (r["comments"], r["negative_share"]) for r in rows}
    assert got == {
        (date(2026, 6, 1), "delivery"): (3, pytest.approx(2 / 3)),
        (date(2026, 6, 1), "service"): (1, 0.0),
        (date(2026, 7, 1), "other"): (1, 0.0),
    }


def test_sample_comments(classified: pl.DataFrame) -> None:
    out = ft.sample_comments(classified, "delivery")
    assert out["comment"].to_list() == ["A entrega atrasou", "Entrega rápida"]
    assert out["answers"].to_list() == [2, 1]
    assert out["last_day"][0] == date(2026, 6, 20)
    assert ft.sample_comments(classified, "delivery", "positive")["comment"].to_list() == [
        "Entrega rápida"
    ]


def test_feedback_changes(classified: pl.DataFrame) -> None:
    july = Period(date(2026, 7, 1), date(2026, 7, 31))  # the previous period is June
    got = {m: (v, prev, ch) for m, v, prev, ch in ft.feedback_changes(classified, july)}
    assert got["answers"] == (1, 5, -4)
    value, previous, change = got["negative_share"]
    assert (value, previous) == (0.0, pytest.approx(2 / 4))  # June: 2 of 4 comments negative
    assert change == pytest.approx(-0.5)
    assert got["csat_mean"] == (None, pytest.approx(13 / 4), None)  # (5 + 1 + 4 + 3) / 4
    assert got["nps"] == (100.0, 0.0, 100.0)  # June: one detractor, one promoter


def test_empty_answers() -> None:
    empty = pl.DataFrame(schema={"customer_id": pl.String, "day": pl.Date, "csat": pl.Int32,
                                 "nps": pl.Int32, "comment": pl.String})  # fmt: skip
    classified = ft.classify_feedback(empty)
    summary = ft.theme_summary(classified)
    assert summary.height == len(ft.TOPIC_LABELS) and summary["comments"].sum() == 0
    assert ft.other_share(classified) is None
    assert ft.theme_trend(classified).height == 0
