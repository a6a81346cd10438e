"""Summaries of a group of texts: by a chat model when there is one, else extractive (the
group's most central sentences, in their order). Knowledge's curator summarises chunks
with it, memory its windows of episodes."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from personae.errors import ProviderError, ProviderUnavailable
from personae.providers.chat import ChatModel, Message
from personae.retrieval.chunking import SENTENCE_END, count_tokens

log = logging.getLogger(__name__)
WORD = re.compile(r"[^\W\d_]{3,}")
HEADING_LINE = re.compile(r"^#{1,6}\s.*$", re.MULTILINE)
EXTRACTIVE = "extractive"
PROMPT = (
    "Summarise the passages you are given in a few sentences, keeping names, numbers and "
    "dates. Answer with the summary only."
)


def extractive_summary(texts: Sequence[str], max_tokens: int) -> str:
    """The sentences of `texts` that share the most words with the rest (none that shares
    none), in their order, up to `max_tokens` tokens."""
    sentences = [
        sentence.strip()
        for text in texts
        for sentence in SENTENCE_END.split(HEADING_LINE.sub("", text))
        if WORD.search(sentence)
    ]
    if not sentences:
        return ""
    words = [set(w.lower() for w in WORD.findall(s)) for s in sentences]
    frequency = Counter(w for ws in words for w in ws)
    scores = [
        sum(math.log(frequency[w]) for w in ws if frequency[w] > 1) / math.sqrt(len(ws) + 1)
        for ws in words
    ]
    chosen: set[int] = set()
    budget = max_tokens
    central = [i for i in range(len(sentences)) if scores[i] > 0] or [0]
    for index in sorted(central, key=lambda i: (-scores[i], i)):
        cost = count_tokens(sentences[index])
        if cost <= budget:
            chosen.add(index)
            budget -= cost
    return " ".join(sentences[i] for i in sorted(chosen))


@dataclass(frozen=True)
class Summary:
    text: str
    usage: dict[str, Any]
    """How it was written: `curated` (`llm` or `extractive`), and the model's name and
    tokens when a model wrote it."""


async def summarize(
    model: ChatModel | None, texts: Sequence[str], max_tokens: int, *, final_attempt: bool
) -> Summary:
    """A summary of `texts` by `model`, or an extractive one when there is no model, it
    answers wrongly, or it stays unavailable on the job's last attempt."""
    if model is not None:
        asked = [Message("system", PROMPT), Message("user", "\n\n---\n\n".join(texts))]
        try:
            done = await model.complete(asked, max_tokens=max_tokens)
        except ProviderUnavailable:
            if not final_attempt:
                raise
            log.warning("%s stayed unavailable: an extractive summary instead", model.model)
        except ProviderError as error:
            log.warning("%s: an extractive summary instead (%s)", model.model, error.detail)
        else:
            if done.text.strip():
                return Summary(done.text.strip(), {"curated": "llm", **done.usage()})
    return Summary(extractive_summary(texts, max_tokens), {"curated": EXTRACTIVE})
