"""Chunks: sized in tokens, overlapping, cut at headings, paragraphs and sentences."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.retrieval.chunking import TOKEN, count_tokens, split
from personae.retrieval.summaries import extractive_summary


def test_a_heading_starts_a_chunk_and_is_remembered_by_the_chunks_below_it() -> None:
    text = "# Guide\n\nIntro words.\n\n## Setup\n\nInstall it.\n\n## Use\n\nRun it."
    pieces = split(text, size=50, overlap=5)
    assert [p.headings for p in pieces] == [("Guide",), ("Guide", "Setup"), ("Guide", "Use")]
    assert pieces[1].text == "## Setup\n\nInstall it."


def test_long_text_is_cut_at_sentences_within_the_size_with_the_overlap_repeated() -> None:
    sentences = [f"Sentence {i} says something distinct." for i in range(200)]
    pieces = split(" ".join(sentences), size=60, overlap=12)
    assert len(pieces) > 10
    assert all(p.tokens <= 60 and p.tokens == count_tokens(p.text) for p in pieces)
    for before, after in itertools.pairwise(pieces):
        tail = before.text.split()[-4:]
        assert " ".join(tail) in after.text  # the overlap carries the end of the last chunk
    assert all(f"Sentence {i} says" in " ".join(p.text for p in pieces) for i in range(200))


def test_a_sentence_longer_than_a_chunk_is_cut_into_windows() -> None:
    pieces = split("word " * 1000, size=100, overlap=0)
    assert [p.tokens for p in pieces] == [100] * 10


def test_the_overlap_must_be_smaller_than_the_size() -> None:
    with pytest.raises(ValueError, match="overlap"):
        split("text", size=10, overlap=10)


@given(st.text(max_size=3000), st.integers(20, 200), st.integers(0, 19))
def test_no_token_is_lost_and_no_chunk_is_oversized(text: str, size: int, overlap: int) -> None:
    pieces = split(text, size=size, overlap=overlap)
    assert all(p.tokens <= size for p in pieces)
    assert set(TOKEN.findall(text)) == {t for p in pieces for t in TOKEN.findall(p.text)}
    without_overlap = split(text, size=size, overlap=0)
    assert TOKEN.findall(text) == [t for p in without_overlap for t in TOKEN.findall(p.text)]


def test_an_extractive_summary_keeps_the_central_sentences_in_order_within_budget() -> None:
    texts = [
        "# Notes\n\nThe river floods in spring. Farmers move the cattle uphill.",
        "Random aside about teapots. The river floods the lower fields in spring.",
        "Spring floods bring silt; the river feeds the fields.",
    ]
    summary = extractive_summary(texts, max_tokens=30)
    assert count_tokens(summary) <= 30
    assert "teapots" not in summary and "#" not in summary
    assert summary.index("The river floods in spring.") < summary.index("river feeds")
