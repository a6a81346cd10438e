"""Chat models behind one interface (`ChatModel`): OpenAI-compatible endpoints and
Anthropic's Messages API."""

from __future__ import annotations

from personae.providers.chat.anthropic import AnthropicChat
from personae.providers.chat.base import (
    ChatModel,
    Completion,
    Message,
    Prices,
    Request,
    ToolCall,
    spent,
)
from personae.providers.chat.openai_compat import OpenAIChat

__all__ = [
    "AnthropicChat",
    "ChatModel",
    "Completion",
    "Message",
    "OpenAIChat",
    "Prices",
    "Request",
    "ToolCall",
    "spent",
]
