"""Hybrid search in one SQL statement, for any table searched the same way (a `Corpus`):
nearest vectors (pgvector, HNSW, cosine), full text (`websearch_to_tsquery`, then any of
its words ranked by BM25, rarity reckoned among the rows found), or both fused by
reciprocal rank fusion. Knowledge
searches chunks with it, memory searches episodes, facts and entities.

Every cut is a total order (equal scores or distances ordered by id: an incremental sort
over the index scan), so a search over the same rows gives the same results.

Tenant filtering and other filters make an approximate index scan return fewer rows than
asked; every connection runs with pgvector's iterative index scans on (see
`db.engine`), which keep scanning until `k` rows pass the filters, and the planner takes
an exact scan when the filters leave few rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Mode = Literal["vector", "text", "hybrid"]
RRF_K = 60
"""Reciprocal rank fusion's constant: a hit at rank r scores 1 / (RRF_K + r) per list."""
CANDIDATES = 2
"""Each list takes `CANDIDATES * k` hits (at least 20): the k best of a wider net, and
more to fuse."""
TEXT_CONFIG = "english"


@dataclass(frozen=True)
class Corpus:
    """A table searched the same way: its text, full-text and vector columns, and what a
    result shows. SQL names `c` the table's rows."""

    table: str
    text: str
    tsv: str
    model: str
    live: str
    shown: str
    joins: str = ""
    weight: str = "1"
    """SQL: a factor of each row's fused score (curated chunks', recent memories'…)."""
    vector: str = "embedding"
    text_rows: str = "c.{model} = :model"
    ranking: Literal["bm25", "density"] = "bm25"
    """How the text lane orders the rows holding a query word (`TEXT_HITS`, `DENSITY_HITS`)."""
    """SQL: the rows full text searches (those of the model: other models' are copies)."""

    def where(self, clauses: Sequence[str] = ()) -> str:
        """SQL: the live rows (of `c`) passing `clauses`."""
        return " AND ".join([self.live, *clauses])


VECTOR_HITS = """
vector_hits AS MATERIALIZED (
  SELECT id, weight, similarity, row_number() OVER (ORDER BY distance, id) AS vector_rank
  FROM (
    SELECT c.id, {weight} AS weight, c.{vector} <=> (SELECT CAST(:vector AS vector)) AS distance,
           1 - (c.{vector} <=> (SELECT CAST(:vector AS vector))) AS similarity
    FROM {table} AS c
    WHERE {where} AND c.{model} = :model
    ORDER BY c.{vector} <=> (SELECT CAST(:vector AS vector)), c.id
    LIMIT :candidates
  ) AS nearest
  WHERE CAST(:floor AS float8) IS NULL OR similarity >= CAST(:floor AS float8)
)"""

TEXT_HITS = """
text_query AS MATERIALIZED (
  SELECT websearch_to_tsquery('{config}', :query) AS whole,
         CAST(nullif(array_to_string(words, ' | '), '') AS tsquery) AS any_term,
         CAST(words AS tsquery[]) AS terms
  FROM (
    SELECT ARRAY(
      SELECT quote_literal(lexeme)
      FROM unnest(tsvector_to_array(to_tsvector('{config}', :query))) AS lexeme
    ) AS words
  ) AS w
),
text_held AS MATERIALIZED (
  SELECT c.id, t.i, c.{tsv} @@ q.whole AS whole, length(c.{tsv}) AS length
  FROM {table} AS c, text_query AS q, unnest(q.terms) WITH ORDINALITY AS t (term, i)
  WHERE {where} AND {text_rows} AND c.{tsv} @@ q.any_term AND c.{tsv} @@ t.term
),
text_rows AS MATERIALIZED (
  SELECT id, bool_or(whole) AS whole, max(length) AS length FROM text_held GROUP BY id
),
text_rarity AS MATERIALIZED (
  SELECT h.i, ln(1 + (n.rows - count(*) + 0.5) / (count(*) + 0.5)) AS idf
  FROM text_held AS h, (SELECT count(*) AS rows FROM text_rows) AS n
  GROUP BY h.i, n.rows
),
text_ranked AS MATERIALIZED (
  SELECT r.id, r.whole,
         sum(w.idf) * (1 + :bm25_k1)
           / (1 + :bm25_k1 * (1 - :bm25_b + :bm25_b * r.length / l.mean)) AS text_score
  FROM text_rows AS r
  JOIN text_held AS h ON h.id = r.id
  JOIN text_rarity AS w ON w.i = h.i
  CROSS JOIN (SELECT greatest(avg(length), 1) AS mean FROM text_rows) AS l
  GROUP BY r.id, r.whole, r.length, l.mean
  ORDER BY r.whole DESC, text_score DESC, r.id
  LIMIT :candidates
),
text_hits AS MATERIALIZED (
  SELECT r.id, {weight} AS weight, r.text_score,
         row_number() OVER (ORDER BY r.whole DESC, r.text_score DESC, r.id) AS text_rank
  FROM text_ranked AS r
  JOIN {table} AS c ON c.id = r.id
)"""
"""Rows with any of the query's words, those matching the whole query (web search
syntax: quotes, `or`, `-`) first, then by BM25 (each word held counts by its rarity among
the rows holding any of them, less in longer rows); only the best are weighed."""
DENSITY_HITS = """
text_hits AS MATERIALIZED (
  SELECT id, weight, text_score,
         row_number() OVER (ORDER BY whole DESC, text_score DESC, id) AS text_rank
  FROM (
    SELECT c.id, {weight} AS weight, c.{tsv} @@ q.whole AS whole,
           ts_rank_cd(c.{tsv}, q.any_term) AS text_score
    FROM {table} AS c, (
      SELECT (SELECT websearch_to_tsquery('{config}', :query)) AS whole,
             (SELECT CAST(nullif(array_to_string(ARRAY(
               SELECT quote_literal(lexeme)
               FROM unnest(tsvector_to_array(to_tsvector('{config}', :query))) AS lexeme
             ), ' | '), '') AS tsquery)) AS any_term
    ) AS q
    WHERE {where} AND {text_rows} AND c.{tsv} @@ q.any_term
    ORDER BY whole DESC, text_score DESC, c.id
    LIMIT :candidates
  ) AS matched
)"""
"""Rows with any of the query's words, those matching the whole query first, then by
cover density of the words they hold: cheaper than BM25 on long rows (knowledge chunks:
p95 9.0 vs 12.4 ms at 100,000 chunks), for recall@10 0.666 vs 0.715 on LoCoMo dev."""

BM25_K1 = 1.2
BM25_B = 0.75
"""BM25's usual constants: how soon a word's weight saturates in a row (a word counts once
here: a row's words are a set), and how much a long row is discounted."""

FUSED = {
    "vector": "SELECT id, weight, 1.0 / (:rrf_k + vector_rank) AS fused, similarity, "
    "NULL::real AS text_score, vector_rank, NULL::bigint AS text_rank FROM vector_hits",
    "text": "SELECT id, weight, 1.0 / (:rrf_k + text_rank) AS fused, "
    "NULL::float8 AS similarity, text_score, NULL::bigint AS vector_rank, text_rank "
    "FROM text_hits",
    "hybrid": "SELECT coalesce(v.id, t.id) AS id, coalesce(v.weight, t.weight), "
    "coalesce(1.0 / (:rrf_k + v.vector_rank), 0) + coalesce(1.0 / (:rrf_k + t.text_rank), 0) "
    "AS fused, v.similarity, t.text_score, v.vector_rank, t.text_rank "
    "FROM vector_hits AS v FULL JOIN text_hits AS t ON t.id = v.id",
}

RESULTS = """,
best AS MATERIALIZED (
  SELECT id, similarity, text_score, vector_rank, text_rank,
         fused * weight AS score
  FROM ({fused}) AS f (id, weight, fused, similarity, text_score, vector_rank, text_rank)
  ORDER BY score DESC, id
  LIMIT :k
)
SELECT {shown}, b.score, b.similarity, b.text_score, b.vector_rank, b.text_rank,
       {highlight} AS highlight
FROM best AS b
JOIN {table} AS c ON c.id = b.id
{joins}
ORDER BY b.score DESC, c.id"""
"""The `k` best are chosen from the hits alone; only they are read in full."""

HIGHLIGHT = (
    "ts_headline('{config}', left(c.{text}, {reach}), "
    "(SELECT websearch_to_tsquery('{config}', :query)), "
    "'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=10')"
)
HIGHLIGHT_REACH = 20_000
"""Characters of a result its highlight looks through (its cost grows with the text)."""


def corpus_statement(
    corpus: Corpus, mode: Mode, clauses: Sequence[str] = (), *, prelude: Sequence[str] = ()
) -> str:
    """The one SQL statement of a search of `corpus` in `mode`, rows passing `clauses`;
    `prelude`: common table expressions its weight or clauses read.

    Binds `:query`, `:k`, `:candidates`, `:rrf_k`, `:bm25_k1`, `:bm25_b`, `:curated_boost`,
    `:model` (rows of other models are another copy of the same texts), and unless `mode`
    is text, `:vector` and `:floor`."""
    where = corpus.where(clauses)
    names = {
        "table": corpus.table,
        "tsv": corpus.tsv,
        "model": corpus.model,
        "weight": corpus.weight,
        "vector": corpus.vector,
        "where": where,
        "text_rows": corpus.text_rows.format(model=corpus.model),
        "config": TEXT_CONFIG,
    }
    parts = []
    if mode != "text":
        parts.append(VECTOR_HITS.format(**names))
    if mode != "vector":
        parts.append((TEXT_HITS if corpus.ranking == "bm25" else DENSITY_HITS).format(**names))
    highlight = (
        "NULL"
        if mode == "vector"
        else HIGHLIGHT.format(config=TEXT_CONFIG, text=corpus.text, reach=HIGHLIGHT_REACH)
    )
    results = RESULTS.format(
        fused=FUSED[mode],
        highlight=highlight,
        shown=corpus.shown,
        table=corpus.table,
        joins=corpus.joins,
    )
    return "WITH" + ",".join([*prelude, *parts]) + results


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form (a turn's searches share one query vector: formatted once)."""
    return _literal(tuple(vector))


@lru_cache(maxsize=64)
def _literal(vector: tuple[float, ...]) -> str:
    return json.dumps(list(map(float, vector)), separators=(",", ":"))


def bound(
    query: str,
    mode: Mode,
    k: int,
    model: str,
    vector: Sequence[float] | None,
    *,
    min_similarity: float | None = None,
    boost: float = 1.0,
) -> dict[str, Any]:
    """The parameters every `corpus_statement` binds."""
    params: dict[str, Any] = {
        "query": query,
        "k": k,
        "candidates": max(20, CANDIDATES * k),
        "rrf_k": RRF_K,
        "bm25_k1": BM25_K1,
        "bm25_b": BM25_B,
        "curated_boost": boost,
        "model": model,
    }
    if mode != "text":
        assert vector is not None, "vector and hybrid searches need the query's vector"
        params |= {"vector": vector_literal(vector), "floor": min_similarity}
    return params
