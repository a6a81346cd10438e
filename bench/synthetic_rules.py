"""Synthetic rules for benchmarks: an agent's rule book grown to a size (each rule a
condition and five examples, on twenty everyday topics)."""

from __future__ import annotations

from typing import Any

TOPICS = [
    "insurance claims", "parking permits", "library loans", "gym memberships", "flight",
    "hotel booking", "pet adoption", "tax forms", "school enrolment", "car rental",
    "concert tickets", "phone contract", "electricity bill", "water supply", "recycling",
    "passport renewal", "visa application", "job interview", "apartment lease", "warranty",
]  # fmt: skip
ASKS = [
    "asks how to cancel", "wants to change", "complains about a delay with",
    "asks for the price of", "reports a problem with", "wants a refund for",
    "asks who to contact about", "wants to know the status of", "asks to renew",
    "wants to upgrade",
]  # fmt: skip


def synthetic_rules(count: int) -> list[dict[str, Any]]:
    """`count` rules named `synthetic_<i>`, as the rules import takes them."""
    return [
        {
            "name": f"synthetic_{i}",
            "condition_text": f"the customer {ASKS[i % 10]} {TOPICS[i % 20]} ({i})",
            "examples": [
                f"{ASKS[(i + j) % 10].split(' ', 1)[1]} {TOPICS[i % 20]} please, {j}"
                for j in range(5)
            ],
            "action_config": {"instructions": f"Follow procedure {i}."},
        }
        for i in range(count)
    ]
