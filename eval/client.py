"""Async chat client for any OpenAI-compatible server: bounded concurrency, retries with back-off, timeouts,
a progress bar with live throughput, and one-line errors for the usual set-up mistakes.

`check_server` runs before any request: unreachable server, wrong API key and unknown model names fail fast
with a message that says what to do, instead of N retried requests and a traceback. A request the server
refuses on its own merits (400/422, e.g. longer than the context) comes back as a failed reply
({"error": reason, ...}, no `completion`), which the store keeps like any reply (eval/store.py).

Nothing in a reply is trusted: its body is read raw and checked here (`parse_reply`), so a 200 that is not JSON,
empty `choices`, a null `message`, a non-text `content` or a `model` other than the one asked is a failed item
too (error_type "ProtocolError", with its cause), never a traceback that cancels the replies in flight. Many in a
row (MAX_CONSECUTIVE_FAULTS) mean the server, not an item, is broken: the run stops with one line, and what is
stored is kept.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from nano_r1.cliargs import ConfigError
from nano_r1.replyformat import join_reasoning

RETRYABLE = ("APIConnectionError", "APITimeoutError", "RateLimitError", "InternalServerError")
MAX_CONSECUTIVE_FAULTS = 20  # malformed replies in a row before the run stops: a broken server, not one odd item
SNIPPET_CHARS = 80  # of a body that is not what was asked for, quoted in the reason


class ProtocolFault(Exception):
    """The server answered, but not with what the OpenAI API promises; `cause` is its class, for counting."""

    def __init__(self, cause: str, detail: str = ""):
        super().__init__(cause + (f": {detail}" if detail else ""))
        self.cause = cause


class ServerFault(ConfigError):
    """Too many malformed replies in a row: the run stops (stored replies are kept)."""


@dataclass
class Request:
    key: str
    model: str
    messages: list[dict]
    sampling: dict
    payload: dict  # copied into the stored record (suite, item, reference, meta, ...)


def make_client(base_url: str, api_key: str, timeout: float):
    from openai import AsyncOpenAI

    # Retries are ours (below) so that every attempt is visible and bounded; the SDK's are off.
    return AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)


async def check_server(client, base_url: str, models: list[str]) -> list[str]:
    """Served model ids; ConfigError for unreachable server, rejected key, a reply that is no model list or
    unknown model names."""
    import openai

    try:
        raw = await client.models.with_raw_response.list()
    except openai.AuthenticationError:
        raise ConfigError(f"the server at {base_url} rejected the API key (401); pass the key it was started "
                          "with as --api-key (or $OPENAI_API_KEY)") from None
    except openai.PermissionDeniedError:
        raise ConfigError(f"the server at {base_url} refused access (403); check --api-key") from None
    except (openai.APIConnectionError, openai.APITimeoutError):
        raise ConfigError(f"cannot reach an OpenAI-compatible server at {base_url}; is it running? "
                          "(start one with `python -m serve`, or drop --base-url to let eval start it)") from None
    except openai.NotFoundError:
        raise ConfigError(f"{base_url} does not look like an OpenAI-compatible API (GET /models: 404); "
                          "the URL usually ends in /v1") from None
    except openai.APIStatusError as e:
        raise ConfigError(f"the server at {base_url} answered GET /models with HTTP {e.status_code}") from None
    try:
        body = json_body(raw.http_response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data):
            raise ProtocolFault("not a model list", snippet(raw.http_response.text))
    except ProtocolFault as e:
        raise ConfigError(f"{base_url} does not look like an OpenAI-compatible API (GET /models: {e}); "
                          "the URL usually ends in /v1") from None
    served = [m["id"] for m in data]
    missing = [m for m in models if m not in served]
    if missing:
        raise ConfigError(f"model(s) {', '.join(missing)} not served at {base_url}; it serves: "
                          f"{', '.join(served) or 'nothing'} (set --models)")
    return served


def public_url(url: str) -> str:
    """The URL without user:password@ (what reports and the store may show)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])) if "@" in parts.netloc else url


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return repr(text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else ""))


def json_body(response):
    """The decoded JSON body of an httpx response, or ProtocolFault (an HTML error page, a proxy's text)."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content-type").split(";")[0]
        raise ProtocolFault("reply is not JSON", f"{kind} {snippet(response.text)}") from None


def _token_count(usage: dict, name: str) -> int | None:
    n = usage.get(name)
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None  # a count is optional


def parse_reply(response, model: str) -> dict:
    """The fields to store from a chat completion's raw HTTP response; ProtocolFault for a wrong shape."""
    body = json_body(response)
    if not isinstance(body, dict):
        raise ProtocolFault("reply is not a JSON object", snippet(response.text))
    if "error" in body and "choices" not in body:  # an error object under HTTP 200
        raise ProtocolFault("an error under HTTP 200", snippet(json.dumps(body["error"])))
    if body.get("model") != model:
        raise ProtocolFault("reply is for another model", f"asked for {model!r}, answered as {body.get('model')!r}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ProtocolFault("no choices", f"`choices` is {snippet(json.dumps(choices))}")
    choice = choices[0]
    msg = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(msg, dict):
        raise ProtocolFault("no message", f"`choices[0].message` is {snippet(json.dumps(msg))}")
    content = msg.get("content")
    reasoning = msg.get("reasoning") or msg.get("reasoning_content")
    finish = choice.get("finish_reason")
    for name, value in (("content", content), ("reasoning", reasoning), ("finish_reason", finish)):
        if value is not None and not isinstance(value, str):
            raise ProtocolFault(f"{name} is not text", f"`{name}` is {snippet(json.dumps(value))}")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    # a reasoning parser split the reply: keep both parts, grade the whole (nano_r1.grading.join_reasoning)
    return {"completion": join_reasoning(reasoning, content or ""), "content": content or "",
            "reasoning": reasoning, "finish_reason": finish,
            "prompt_tokens": _token_count(usage, "prompt_tokens"),
            "completion_tokens": _token_count(usage, "completion_tokens")}


async def chat(client, req: Request, retries: int) -> dict:
    """One completion with retries on transient failures; returns the fields to store."""
    import openai

    delay = 1.0
    for attempt in range(retries + 1):
        t0 = time.perf_counter()
        try:
            raw = await client.chat.completions.with_raw_response.create(model=req.model, messages=req.messages,
                                                                         **req.sampling)
            timing = {"latency_s": round(time.perf_counter() - t0, 3), "attempts": attempt + 1}
            try:
                return parse_reply(raw.http_response, req.model) | timing
            except ProtocolFault as e:
                # the server's fault, not the item's; asking again at once rarely helps (--retry-failed does)
                return {"error": f"malformed reply: {e}", "error_type": "ProtocolError", "cause": e.cause,
                        "status_code": raw.status_code, **timing}
        except openai.AuthenticationError:
            raise ConfigError("the server rejected the API key (401); pass the right --api-key") from None
        except openai.NotFoundError as e:
            raise ConfigError(f"model {req.model!r} not found on the server (404): {_message(e)}") from None
        except (openai.BadRequestError, openai.UnprocessableEntityError) as e:
            # this request, not the run: e.g. a prompt longer than the context. Asking again gives the same
            # answer, so it is stored as a failed item with the server's reason and the run goes on.
            return {"error": _message(e), "error_type": type(e).__name__, "cause": refusal_cause(e),
                    "status_code": getattr(e, "status_code", None),
                    "latency_s": round(time.perf_counter() - t0, 3), "attempts": attempt + 1}
        except openai.APIError as e:
            if type(e).__name__ not in RETRYABLE or attempt == retries:
                raise ConfigError(f"request for {req.payload.get('item')} failed after {attempt + 1} attempt(s): "
                                  f"{type(e).__name__}: {_message(e)}") from None
        await asyncio.sleep(delay * (1 + random.random()))  # jittered exponential back-off
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")


def refusal_cause(e) -> str:
    code = getattr(e, "status_code", None)
    return f"refused (HTTP {code})" if code else f"refused ({type(e).__name__})"


def _message(e) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body)[:300]
    return str(e).splitlines()[0][:300]


async def run_all(client, requests: list[Request], concurrency: int, retries: int,
                  on_reply: Callable[[Request, dict], Awaitable[None] | None], desc: str = "eval") -> None:
    """Send `requests` with at most `concurrency` in flight; `on_reply` stores each reply as it lands."""
    from tqdm import tqdm

    sem = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(requests), desc=desc, unit="req", file=sys.stderr, dynamic_ncols=True)
    started, tokens, faults = time.perf_counter(), 0, 0

    async def one(req: Request):
        nonlocal tokens, faults
        async with sem:
            reply = await chat(client, req, retries)
        on_reply(req, reply)  # stored first: a fault that stops the run below is kept as a failed item
        faults = faults + 1 if reply.get("error_type") == "ProtocolError" else 0
        if faults >= MAX_CONSECUTIVE_FAULTS:
            server = public_url(str(client.base_url).rstrip("/"))
            raise ServerFault(f"stopped: {faults} malformed replies in a row from the server at {server} (last: "
                              f"{reply['error']}); the replies so far are kept in the store, the malformed ones as "
                              "failed: fix the server, then re-run with --retry-failed")
        tokens += reply.get("completion_tokens") or 0
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix_str(f"{tokens / elapsed:.0f} tok/s", refresh=False)
        bar.update(1)

    tasks = [asyncio.ensure_future(one(r)) for r in requests]
    try:
        for fut in asyncio.as_completed(tasks):
            await fut  # the first failure propagates; replies already stored stay stored
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        bar.close()
