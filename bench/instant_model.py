"""An OpenAI-compatible chat endpoint that answers at once, in a process of its own (so
the benchmarks that use it count none of its time as Personae's): `/v1/chat/completions`
on 127.0.0.1, whole or streamed (four chunks, then the usage).

    python bench/instant_model.py PORT
"""

from __future__ import annotations

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WORDS = ["Noted,", " thank", " you", "."]
USAGE = {"prompt_tokens": 100, "completion_tokens": 4, "total_tokens": 104}


def _streamed(model: str) -> str:
    def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta or finish else []
        body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0}
        return f"data: {json.dumps({**body, 'model': model, 'choices': choices, **extra})}\n\n"

    pieces = [chunk({"role": "assistant", "content": ""})]
    pieces += [chunk({"content": word}) for word in WORDS]
    pieces += [chunk({}, "stop"), chunk({}, usage=USAGE), "data: [DONE]\n\n"]
    return "".join(pieces)


async def chat(request: Request) -> Response:
    body = await request.json()
    if body.get("stream"):
        return Response(_streamed(body["model"]), media_type="text/event-stream")
    return JSONResponse(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Noted, thank you."},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    )


app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
