"""Async chat client for any OpenAI-compatible server: bounded concurrency, retries with back-off, timeouts,
a progress bar with live throughput, and one-line errors for the usual set-up mistakes.

`check_server` runs before any request: unreachable server, wrong API key and unknown model names fail fast
with a message that says what to do, instead of N retried requests and a traceback. A request the server
refuses on its own merits (400/422, e.g. longer than the context) comes back as a failed reply
({"error": reason, ...}, no `completion`), which the store keeps like any reply (eval/store.py).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from nano_r1.cliargs import ConfigError
from nano_r1.replyformat import join_reasoning

RETRYABLE = ("APIConnectionError", "APITimeoutError", "RateLimitError", "InternalServerError")


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
    """Served model ids; ConfigError for unreachable server, rejected key or unknown model names."""
    import openai

    try:
        served = [m.id async for m in client.models.list()]
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
    missing = [m for m in models if m not in served]
    if missing:
        raise ConfigError(f"model(s) {', '.join(missing)} not served at {base_url}; it serves: "
                          f"{', '.join(served) or 'nothing'} (set --models)")
    return served


async def chat(client, req: Request, retries: int) -> dict:
    """One completion with retries on transient failures; returns the fields to store."""
    import openai

    delay = 1.0
    for attempt in range(retries + 1):
        t0 = time.perf_counter()
        try:
            resp = await client.chat.completions.create(model=req.model, messages=req.messages, **req.sampling)
            choice = resp.choices[0]
            usage = resp.usage
            msg = choice.message
            extra = getattr(msg, "model_extra", None) or {}
            reasoning = getattr(msg, "reasoning", None) or extra.get("reasoning") or extra.get("reasoning_content")
            # a reasoning parser split the reply: keep both parts, grade the whole (nano_r1.replyformat.join_reasoning)
            return {"completion": join_reasoning(reasoning, msg.content or ""), "content": msg.content or "",
                    "reasoning": reasoning, "finish_reason": choice.finish_reason,
                    "prompt_tokens": getattr(usage, "prompt_tokens", None),
                    "completion_tokens": getattr(usage, "completion_tokens", None),
                    "latency_s": round(time.perf_counter() - t0, 3), "attempts": attempt + 1}
        except openai.AuthenticationError:
            raise ConfigError("the server rejected the API key (401); pass the right --api-key") from None
        except openai.NotFoundError as e:
            raise ConfigError(f"model {req.model!r} not found on the server (404): {_message(e)}") from None
        except (openai.BadRequestError, openai.UnprocessableEntityError) as e:
            # this request, not the run: e.g. a prompt longer than the context. Asking again gives the same
            # answer, so it is stored as a failed item with the server's reason and the run goes on.
            return {"error": _message(e), "error_type": type(e).__name__,
                    "status_code": getattr(e, "status_code", None),
                    "latency_s": round(time.perf_counter() - t0, 3), "attempts": attempt + 1}
        except openai.APIError as e:
            if type(e).__name__ not in RETRYABLE or attempt == retries:
                raise ConfigError(f"request for {req.payload.get('item')} failed after {attempt + 1} attempt(s): "
                                  f"{type(e).__name__}: {_message(e)}") from None
        await asyncio.sleep(delay * (1 + random.random()))  # jittered exponential back-off
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")


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
    started, tokens = time.perf_counter(), 0

    async def one(req: Request):
        nonlocal tokens
        async with sem:
            reply = await chat(client, req, retries)
        on_reply(req, reply)
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
