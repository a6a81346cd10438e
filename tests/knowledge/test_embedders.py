"""The embedders: the local model (real), the hashing fallback, and an OpenAI-compatible
endpoint (a scripted server on 127.0.0.1): batching, pacing, failures told apart."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from personae.errors import ProviderError, ProviderUnavailable
from personae.providers.embeddings import HashingEmbedder, label, open_embedder
from personae.providers.embeddings.openai_compat import OpenAIEmbedder
from personae.settings import Settings
from tests.scripted_openai import Script, scripted_openai


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_minilm_embeds_meaning_offline() -> None:
    embedder = open_embedder(Settings(embedder="minilm"))
    assert (label(embedder), embedder.dimensions, embedder.lexical) == (
        "minilm/all-MiniLM-L6-v2",
        384,
        False,
    )
    car, automobile, banana = await embedder.embed(
        ["I drove my car to work.", "She parked the automobile.", "A ripe banana."]
    )
    assert math.isclose(math.sqrt(sum(x * x for x in car)), 1.0, rel_tol=1e-4)
    assert cosine(car, automobile) > cosine(car, banana) + 0.2
    # one text alone (a query) takes a shorter path to the same vector as in a batch
    [alone] = await embedder.embed(["She parked the automobile."])
    assert cosine(alone, automobile) > 0.99999
    # past the model's 256 tokens, both paths cut the text at the same place
    long = " ".join(f"word{i} about cars" for i in range(200))
    [long_alone] = await embedder.embed([long])
    long_in_batch, _ = await embedder.embed([long, "short"])
    assert cosine(long_alone, long_in_batch) > 0.99999


async def test_hashing_is_lexical_deterministic_and_unit_length() -> None:
    embedder = open_embedder(Settings(embedder="hashing"))
    assert isinstance(embedder, HashingEmbedder) and embedder.lexical
    a, again, near, far = await embedder.embed(
        ["tomato soup recipe", "tomato soup recipe", "recipe for tomato soups", "tax return"]
    )
    assert a == again and math.isclose(sum(x * x for x in a), 1.0)
    assert cosine(a, near) > 0.5 > cosine(a, far)


async def test_an_openai_compatible_endpoint_is_batched_paced_and_checked() -> None:
    script = Script()
    async with scripted_openai(script) as base_url:

        def embedder(**options: Any) -> OpenAIEmbedder:
            return OpenAIEmbedder(
                base_url=base_url,
                api_key="sk-test",
                model="scripted",
                dimensions=384,
                max_retries=0,
                **options,
            )

        paced = embedder(batch_size=2, requests_per_minute=600)  # one call per 0.1 s
        started = time.monotonic()
        vectors = await paced.embed([f"text {i}" for i in range(5)])
        assert len(vectors) == 5 and [len(r["input"]) for r in script.requests] == [2, 2, 1]
        assert time.monotonic() - started >= 0.2
        assert vectors[3] == (await HashingEmbedder(384).embed(["text 3"]))[0]

        plain = embedder()
        script.failures = [503]
        with pytest.raises(ProviderUnavailable, match="503"):
            await plain.embed(["x"])
        script.failures = [400]
        with pytest.raises(ProviderError, match="400"):
            await plain.embed(["x"])
        script.dimensions = 768
        with pytest.raises(ProviderError, match="768 dimensions"):
            await plain.embed(["x"])
        await plain.close()

    with pytest.raises(ProviderUnavailable, match="unreachable"):
        await embedder().embed(["the server is gone"])
