"""A dependency-free embedder: a hashed bag of words, word pairs and character trigrams.

Vectors from it only see shared spellings, never meaning, so it is always recorded as
lexical. It exists for minimal installs and tests; `minilm` is the default local model."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import zlib
from collections.abc import Sequence

WORD = re.compile(r"\w+")
INLINE_CHARS = 20_000
"""Up to this many characters a batch is hashed at once (a few milliseconds)."""
FEATURES = (("w", 1.0), ("p", 0.5), ("c", 0.35))
"""Feature kinds and weights: words, adjacent word pairs, trigrams of `<word>`."""


class HashingEmbedder:
    provider = "hashing"
    lexical = True

    def __init__(self, dimensions: int, batch_size: int = 256) -> None:
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.model = f"ngrams-{dimensions}"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The vectors of `texts`; long inputs are hashed in a thread, so the event loop
        (a server's requests) keeps turning meanwhile."""
        if sum(len(text) for text in texts) <= INLINE_CHARS:
            return [self.vector(text) for text in texts]
        return await asyncio.to_thread(lambda: [self.vector(text) for text in texts])

    def vector(self, text: str) -> list[float]:
        values = [0.0] * self.dimensions
        for feature, weight in _features(text):
            digest = zlib.crc32(feature.encode())
            sign = 1.0 if digest & 0x8000_0000 else -1.0
            values[digest % self.dimensions] += sign * weight
        norm = math.hypot(*values)
        return [v / norm for v in values] if norm else values

    async def close(self) -> None:
        return None


def _features(text: str) -> list[tuple[str, float]]:
    words = WORD.findall(text.lower())
    (w, word_weight), (p, pair_weight), (c, gram_weight) = FEATURES
    features = [(f"{w}:{word}", word_weight) for word in words]
    features += [(f"{p}:{a} {b}", pair_weight) for a, b in itertools.pairwise(words)]
    for word in words:
        marked = f"<{word}>"
        features += [(f"{c}:{marked[i : i + 3]}", gram_weight) for i in range(len(marked) - 2)]
    return features
