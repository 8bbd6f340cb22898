"""vLLM's OpenAI server with our pieces in place before vLLM reads its arguments (what serve/launch.py runs).

    python -m serve.vllm_entry --model M --reasoning-parser nano-r1 ...     (vLLM's own api_server flags)

Why not `--reasoning-parser-plugin FILE`: vLLM 0.26 resolves `--reasoning-parser` in VllmConfig.__post_init__,
before it imports the plugin, and fails with "Reasoning parser 'nano-r1' not found". Importing the parser here
registers it first, in every vLLM version.

The API key (VLLM_API_KEY, never argv) guards every route: vLLM's own check covers only /v1 and a few
prefixes, so /invocations, /tokenize and others answered without it. A middleware added to the app vLLM builds
answers 401 for any request without `Authorization: Bearer KEY`.
"""

from __future__ import annotations

import hmac
import os
import runpy

import serve.reasoning_parser  # noqa: F401  (registers the "nano-r1" reasoning parser)


def guard_every_route() -> None:
    """Wrap every FastAPI app this process builds (vLLM's, whatever its version) in a key check."""
    key = os.environ.get("VLLM_API_KEY")
    if not key:
        return
    import fastapi
    from starlette.responses import JSONResponse

    expected = f"Bearer {key}".encode()
    build = fastapi.FastAPI.build_middleware_stack

    def build_guarded(self):
        inner = build(self)

        async def guarded(scope, receive, send):
            if scope["type"] in ("http", "websocket") and scope.get("method") != "OPTIONS":
                given = dict(scope.get("headers") or []).get(b"authorization", b"")
                if not hmac.compare_digest(given, expected):
                    if scope["type"] == "websocket":
                        await send({"type": "websocket.close", "code": 1008})
                        return
                    await JSONResponse({"error": "Unauthorized: send Authorization: Bearer <key>"},
                                       status_code=401)(scope, receive, send)
                    return
            await inner(scope, receive, send)

        return guarded

    fastapi.FastAPI.build_middleware_stack = build_guarded


if __name__ == "__main__":  # guarded: vLLM's spawned workers import this module again as __mp_main__
    guard_every_route()
    runpy.run_module("vllm.entrypoints.openai.api_server", run_name="__main__", alter_sys=True)
