"""Rules: matching a message to the rules that apply, on BANKING77 intents as rules.

`../shared/data/rules-banking77/` (see its README): 77 rules with a condition and five
examples; 1,890 messages, 350 of which no rule applies to. One agent holds the 77 rules
as conditions only (zero-shot), another with their examples; each message is matched as a
fresh turn's would be (`behavior.matching`: candidates, scores, the agent's default
selection), with the installation's embedder (MiniLM when installed), no model call:
- `top1_*`: the first matched rule is the message's; `recall3_*`: it is among the first
  three matched; `false_activation_*`: share of no-rule messages that match any rule.
- the plain-cosine baseline in the same run (`cosine_top1_*`): the rule of the nearest
  phrasing (condition, or condition and examples), no threshold.
- latency: a turn's whole rule decision (`applying.decide`: the candidates' statement,
  the agent's variables and templates; the message's vector given) at 77 rules and at
  1,000 (923 synthetic rules added, five examples each) vs the bare nearest-neighbour
  query over the same phrasings on the driver; p50 / p95 and the ratio; the candidates'
  statement alone as `candidates_p95_ms_*`.
Last line: one JSON object.

    python bench/rules.py [--latency-queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from personae.behavior import applying, matching, rules
from personae.db.engine import DatabaseUrls, create_engine, sessionmaker
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.personas.models import Agent
from personae.providers.embeddings import Embedders, label
from personae.retrieval.hybrid import vector_literal
from personae.settings import Settings
from synthetic_rules import synthetic_rules
from throwaway import measure_and_report, new_tenant

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rules-banking77"
SYNTHETIC = 923


def _quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return round(statistics.median(samples), 3), round(cuts[94], 3)


async def _agent(sessions: Any, tenant: uuid.UUID, name: str) -> uuid.UUID:
    async with tenant_session(sessions, tenant) as session:
        agent = Agent(tenant_id=tenant, name=name)
        session.add(agent)
        await session.flush()
        return agent.id


async def run(urls: DatabaseUrls, args: argparse.Namespace) -> dict[str, Any]:
    given = json.loads((DATA / "rules.json").read_text())
    messages = [json.loads(line) for line in (DATA / "dev.jsonl").read_text().splitlines()]
    settings = Settings(pool_size=2)
    embedders = Embedders(settings)
    embedder = embedders.default
    engine = create_engine(urls.app, settings)
    sessions = sessionmaker(engine)
    tenant = (await new_tenant(urls, "Rules bench", f"{uuid.uuid4().hex[:8]}@example.com")).tenant
    principal = Principal.system(tenant.id)
    figures: dict[str, Any] = {"embedder": label(embedder), "rules": len(given)}

    def as_rule(rule: dict[str, Any], examples: bool) -> dict[str, Any]:
        return {
            "name": rule["name"],
            "condition_text": rule["condition"],
            "action_type": "INSTRUCT",
            "examples": rule["examples"] if examples else [],
        }

    agents = {}
    for setup, examples in (("zero_shot", False), ("examples", True)):
        agents[setup] = await _agent(sessions, tenant.id, f"Banking {setup}")
        async with tenant_session(sessions, tenant.id) as session:
            await rules.put_all(
                session,
                principal,
                embedders,
                agents[setup],
                [as_rule(r, examples) for r in given],
            )
    vectors = await embedder.embed([m["text"] for m in messages])
    model = label(embedder)
    selection = matching.Selection()
    owner = await asyncpg.connect(urls.owner.replace("postgresql+asyncpg://", "postgresql://"))
    names = await owner.fetch("SELECT id, name FROM rules WHERE tenant_id = $1", tenant.id)
    name_of = {row["id"]: row["name"] for row in names}
    nearest = (
        "SELECT rule_id FROM rule_phrasings WHERE agent_id = $1 "
        "ORDER BY embedding <=> $2::vector LIMIT 1"
    )
    for setup, agent_id in agents.items():
        top1, recall3, cosine, fired = [], [], [], []
        async with tenant_session(sessions, tenant.id, ef_search=settings.turn_search_ef) as s:
            for message, vector in zip(messages, vectors, strict=True):
                found = await matching.candidates(s, agent_id, message["text"], vector, model)
                kept = [m.name for m in matching.select(found, selection) if m.kept]
                plain = await owner.fetchval(nearest, agent_id, vector_literal(vector))
                if message["rule"] is None:
                    fired.append(bool(kept))
                    continue
                top1.append(kept[:1] == [message["rule"]])
                recall3.append(message["rule"] in kept[:3])
                cosine.append(name_of[plain] == message["rule"])
        figures |= {
            f"top1_{setup}": round(statistics.mean(top1), 4),
            f"recall3_{setup}": round(statistics.mean(recall3), 4),
            f"false_activation_{setup}": round(statistics.mean(fired), 4),
            f"cosine_top1_{setup}": round(statistics.mean(cosine), 4),
        }
    figures |= await _latency(sessions, owner, tenant.id, principal, embedders, agents, args)
    figures["targets"] = {
        "top1_examples": 0.85,
        "recall3_examples": 0.95,
        "top1_zero_shot": 0.72,
        "false_activation": 0.10,
        "match_p95_ms_1000": 10,
    }
    await owner.close()
    await engine.dispose()
    await embedders.close()
    return figures


async def _latency(
    sessions: Any,
    owner: asyncpg.Connection,
    tenant: uuid.UUID,
    principal: Principal,
    embedders: Embedders,
    agents: dict[str, uuid.UUID],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Matching at 77 rules (the agent with examples), then at 1,000."""
    rng = random.Random(7)
    messages = [json.loads(line) for line in (DATA / "dev.jsonl").read_text().splitlines()]
    asked = rng.sample([m["text"] for m in messages], args.latency_queries)
    vectors = await embedders.default.embed(asked)
    model = label(embedders.default)
    agent_id = agents["examples"]
    figures: dict[str, Any] = {}
    for size in (77, 1000):
        if size == 1000:
            synthetic = synthetic_rules(SYNTHETIC)
            async with tenant_session(sessions, tenant) as session:
                await rules.put_all(session, principal, embedders, agent_id, synthetic)
        # right after the import (which refreshes the phrasings' statistics itself)
        ours: list[float] = []
        alone: list[float] = []
        raw: list[float] = []
        bare = (
            "SELECT rule_id FROM rule_phrasings WHERE agent_id = $1 "
            f"ORDER BY embedding <=> $2::vector LIMIT {matching.NEAR}"
        )
        async with tenant_session(sessions, tenant, ef_search=100) as session:
            for text, vector in zip(asked, vectors, strict=True):
                started = time.perf_counter()
                await applying.decide(
                    session, agent_id, {}, text, vector, model, matching.Situation(), {}, None
                )
                ours.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await matching.candidates(session, agent_id, text, vector, model)
                alone.append((time.perf_counter() - started) * 1000)
                literal = vector_literal(vector)
                started = time.perf_counter()
                await owner.fetch(bare, agent_id, literal)
                raw.append((time.perf_counter() - started) * 1000)
        p50, p95 = _quantiles(ours)
        raw_p50, raw_p95 = _quantiles(raw)
        figures |= {
            f"match_p50_ms_{size}": p50,
            f"match_p95_ms_{size}": p95,
            f"raw_p50_ms_{size}": raw_p50,
            f"raw_p95_ms_{size}": raw_p95,
            f"match_ratio_{size}": round(p95 / raw_p95, 2),
            f"candidates_p95_ms_{size}": _quantiles(alone)[1],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-queries", type=int, default=200)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args))


if __name__ == "__main__":
    main()
