"""A test per phrase of schemas/phrases.py: each claim, document verb, claim of none, fee
statement and "nothing" word is read from a real-style sentence as what it means, and a
phrase added without an example here fails the coverage tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas import phrases
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.rules.prose import bare, quoted_figures, states_fee

# Claim name -> a sentence as reports write it, and the figure it quotes.
CLAIM_EXAMPLES = {
    "carried_over": ("上年结转政府信息公开申请3件。", 3),
    "carried_forward": ("转下一年度办理答复的有1件。", 1),
    "partially_disclosed": ("部分公开答复0件。", 0),
    "withheld": ("不予公开答复2件。", 2),
    "disclosed": ("所有办结的信息公开申请中同意公开答复9件。", 9),
    "unavailable": ("无法提供4件。", 4),
    "not_handled": ("不予处理1件。", 1),
    "other_handling": ("其他处理2件。", 2),
    "review": ("因政府信息公开被申请行政复议1件。", 1),
    "litigation": ("被提起行政诉讼0件。", 0),
    "received": ("2023年，共收到政府信息公开申请35件。", 35),
    "handled": ("全年办结35件。", 35),
}
DOCUMENT_EXAMPLES = {
    ("regulations", "issued"): "本年制定规章2件。",
    ("normative_documents", "issued"): "本年印发行政规范性文件3件。",
    ("normative_documents", "repealed"): "废止规范性文件5件。",
    ("regulations", "in_force"): "现行有效规章12件。",
}
NONE_EXAMPLES = {
    "no_applications": "2022年未收到依申请公开事宜。",
    "no_review": "本年度未发生政府信息公开行政复议案件。",
    "no_litigation": "未发生因政府信息公开引起的行政复议、行政诉讼。",
}
FEE_EXAMPLES = [
    "本年度未收取信息处理费。",
    "未发生收费情况。",
    "本机关依申请公开政府信息不收取费用。",
    "未产生信息处理费。",
    "2023年度没有收取任何费用。",
    "依申请提供政府信息一律免费。",
]


def test_every_claim_has_an_example():
    assert set(CLAIM_EXAMPLES) == {c.name for c in phrases.CLAIMS}
    assert {v for _, v in DOCUMENT_EXAMPLES} == set(phrases.DOCUMENT_VERBS)
    assert {d for d, _ in DOCUMENT_EXAMPLES} == set(phrases.DOCUMENTS)
    assert set(NONE_EXAMPLES) == {c.name for c in phrases.NONE_CLAIMS}
    assert len(FEE_EXAMPLES) >= len(phrases.FEE_STATEMENTS)


@pytest.mark.parametrize("name", sorted(CLAIM_EXAMPLES))
def test_claim_is_read_as_what_it_counts(name):
    sentence, figure = CLAIM_EXAMPLES[name]
    [quote] = quoted_figures(sentence, NATIONAL)
    assert (quote.name, quote.number) == (name, Decimal(figure))
    assert quote.cells == tuple(NATIONAL.claims[name])


@pytest.mark.parametrize("key", sorted(DOCUMENT_EXAMPLES))
def test_document_claim(key):
    [quote] = quoted_figures(DOCUMENT_EXAMPLES[key], NATIONAL)
    assert quote.name == f"{key[0]}.{key[1]}"


@pytest.mark.parametrize("name", sorted(NONE_EXAMPLES))
def test_claim_of_none(name):
    quotes = [q for q in quoted_figures(NONE_EXAMPLES[name], NATIONAL) if q.none]
    assert name in {q.name for q in quotes} and all(q.number == 0 for q in quotes)


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("其中公开答复1件。", "disclosed"),
        ("部分公开答复0件。", "partially_disclosed"),
        ("不予公开答复2件。", "withheld"),
        ("依申请公开答复35件。", "handled"),  # every answer, not the 予以公开 part
    ],
)
def test_gongkai_dafu_is_the_disclosed_part_unless_qualified(sentence, name):
    [quote] = quoted_figures(sentence, NATIONAL)
    assert quote.name == name


@pytest.mark.parametrize(
    "sentence",
    [
        "共制发政府信息316条，其中，主动公开政府信息121条、依申请公开128条、不予公开67条。",  # items, not applications
        "目前未收到该申请人提交的补正，结转下年度办理。",  # the applicant's correction, not an application
    ],
)
def test_real_sentences_that_claim_nothing_about_the_tables(sentence):
    assert [q for q in quoted_figures(sentence, NATIONAL) if q.name != "carried_forward"] == []


def test_review_caused_by_an_application_is_not_a_claim_of_no_applications():
    quotes = quoted_figures("未发生因政府信息公开申请引起的行政复议。", NATIONAL)
    assert [q.name for q in quotes] == ["no_review"]


@pytest.mark.parametrize("text", FEE_EXAMPLES)
def test_fee_statement(text):
    assert states_fee(text)


def test_no_fee_statement():
    assert not states_fee("本单位认真办理人大代表建议和政协提案。")


@pytest.mark.parametrize("text", ["", "无", "暂无", "没有", "无问题", "不存在", "略", "无。", " 暂无 "])
def test_nothing_words(text):
    assert bare(text) in phrases.NOTHING


@pytest.mark.parametrize(
    "sentence",
    [
        "予以公开和部分公开共20件。",  # two parts in one clause
        "收到并办结申请35件。",  # two totals in one clause
        "较上年增加5件。",  # no claim at all
        "其中自然人申请30件。",  # an applicant, not a verb of receiving
    ],
)
def test_a_figure_that_could_mean_either_is_left_alone(sentence):
    assert quoted_figures(sentence, NATIONAL) == []
