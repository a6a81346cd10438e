"""Chat models behind one interface (`ChatModel`): OpenAI-compatible endpoints,
Anthropic's Messages API, and the offline `echo` model for first steps."""

from __future__ import annotations

from personae.providers.chat.anthropic import AnthropicChat
from personae.providers.chat.base import (
    ChatModel,
    Completion,
    Endpoint,
    Message,
    Prices,
    Request,
    ToolCall,
    spent,
)
from personae.providers.chat.echo import EchoChat
from personae.providers.chat.openai_compat import OpenAIChat

__all__ = [
    "AnthropicChat",
    "ChatModel",
    "Completion",
    "EchoChat",
    "Endpoint",
    "Message",
    "OpenAIChat",
    "Prices",
    "Request",
    "ToolCall",
    "spent",
]
