"""vLLM's OpenAI server with our pieces in place before vLLM reads its arguments (what serve/launch.py runs).

    python -m serve.vllm_entry --model M --reasoning-parser nano-r1 ...     (vLLM's own api_server flags)

Why not `--reasoning-parser-plugin FILE`: vLLM 0.26 resolves `--reasoning-parser` in VllmConfig.__post_init__,
before it imports the plugin, and fails with "Reasoning parser 'nano-r1' not found". Importing the parser here
registers it first, in every vLLM version.

The API key (VLLM_API_KEY, never argv) guards every route: vLLM's own check covers only /v1 and a few
prefixes, so /invocations, /tokenize and others answered without it. A middleware added to the app vLLM builds
answers 401 for any request without `Authorization: Bearer KEY`.

Per-request caps (MAX_N_ENV, MAX_TOKENS_ENV, set by serve/launch.py from --max-n / --max-request-tokens): vLLM
has no per-request limit on `n` (VLLM_MAX_N_SEQUENCES is 16384; --max-num-seqs bounds the batch, not a request)
and silently cuts max_tokens to the context, so one request with n=1000 held a CPU server for minutes. A request
asking for more gets a 400 in OpenAI's error shape before vLLM sees it.

The access log (uvicorn's) writes each request's URL: a key sent as `?api_key=...` was refused but written to the
log. Query strings, and the key wherever it appears, are cut from access-log lines.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import runpy

import serve.reasoning_parser  # noqa: F401  (registers the "nano-r1" reasoning parser)
from serve.config import MAX_N_ENV, MAX_TOKENS_ENV
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")  # completions, chat, responses


class RedactAccessLog(logging.Filter):
    """uvicorn.access records are ('%s - "%s %s HTTP/%s" %d', client, method, path?query, version, status)."""

    def __init__(self, key: str | None):
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) if isinstance(a, str) else a for a in record.args)
        if self.key and isinstance(record.msg, str):
            record.msg = record.msg.replace(self.key, "[key]")
        return True

    def _clean(self, text: str) -> str:
        if "?" in text:
            text = text.split("?", 1)[0] + "?[query redacted]"
        return text.replace(self.key, "[key]") if self.key else text


def too_much(body: bytes, max_n: int | None, max_tokens: int | None) -> str | None:
    """Why a request body asks for more than one request may, or None (vLLM judges everything else)."""
    try:
        request = json.loads(body) if body else None
    except ValueError:
        return None  # not JSON: vLLM answers it
    if not isinstance(request, dict):
        return None
    number = lambda v: isinstance(v, int) and not isinstance(v, bool)
    n = request.get("n")
    if max_n and number(n) and n > max_n:
        return (f"n={n} is above this server's limit of {max_n} choices per request "
                "(python -m serve --max-n); send several requests instead")
    for name in TOKEN_FIELDS:
        value = request.get(name)
        if max_tokens and number(value) and value > max_tokens:
            return (f"{name}={value} is above this server's limit of {max_tokens} tokens per request "
                    "(the context length, or python -m serve --max-request-tokens)")
    return None


def capped(inner, max_n: int | None, max_tokens: int | None):
    """ASGI wrapper: read a POST body once, refuse it with a 400 if it asks too much, else replay it to vLLM."""
    from starlette.responses import JSONResponse

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await inner(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        reason = too_much(body, max_n, max_tokens)
        if reason:
            error = {"message": reason, "type": "BadRequestError", "param": None, "code": 400}
            return await JSONResponse({"error": error}, status_code=400)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await inner(scope, replay, send)

    return app


def env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def guard_every_route() -> None:
    """Wrap every FastAPI app this process builds (vLLM's, whatever its version) in a key check and the caps."""
    key = os.environ.get("VLLM_API_KEY")
    max_n, max_tokens = env_int(MAX_N_ENV), env_int(MAX_TOKENS_ENV)
    logging.getLogger("uvicorn.access").addFilter(RedactAccessLog(key))  # survives uvicorn's dictConfig
    if not key and not max_n and not max_tokens:
        return
    import fastapi
    from starlette.responses import JSONResponse

    expected = f"Bearer {key}".encode()
    build = fastapi.FastAPI.build_middleware_stack

    def build_guarded(self):
        inner = capped(build(self), max_n, max_tokens) if max_n or max_tokens else build(self)
        if not key:
            return inner

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
