"""Run suites against served models: build requests, skip what the store holds, ask, store, then report.

With no --base-url, starts `python -m serve` (serve.launch.serve_in_background) on a free 127.0.0.1 port
with a fresh random API key (or the one given), and stops it afterwards; `--serve.KEY VALUE` and the vLLM
flags after `--` reach that server (eval/config.py checks them against ServeConfig).

Every file is read and checked before a server starts. The requests are built once and the store is opened once;
the same two feed the asking, the judge and the report. A request the server refuses (400: e.g. longer than the
context) or answers with a malformed reply (eval/client.py) is stored as failed with its cause and the run goes
on: a warning counts them per cause, the report lists them, and only when every request of the run failed is it
an error (nothing was measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import time
from pathlib import Path

from eval.client import Request, check_server, make_client, public_url, run_all
from eval.config import EvalConfig
from eval.requests import build_requests
from eval.store import Store
from nano_r1.tasks import Task, get_task
from nano_r1.cliargs import ConfigError
from nano_r1.files import write_atomic


def unanswered(cfg: EvalConfig, requests: list[Request], store: Store) -> list[Request]:
    """The requests the store has no reply for (failed ones too, with --retry-failed)."""
    done = store.keys(include_failed=not cfg.retry_failed)
    return [r for r in requests if r.key not in done]


async def generate(cfg: EvalConfig, base_url: str, api_key: str, suites: list[Task],
                   requests: list[Request] | None = None, store: Store | None = None) -> tuple[int, list[dict]]:
    """Ask for what the store lacks; returns (requests asked, the failed replies as {what, cause}).
    `requests` and `store` are the run's own (main); built and opened here when not given (bench/eval_overhead)."""
    requests = build_requests(cfg, suites) if requests is None else requests
    store = Store(cfg.output_dir) if store is None else store
    todo = unanswered(cfg, requests, store)
    errors: list[dict] = []
    server = public_url(base_url)
    client = make_client(base_url, api_key, cfg.timeout)
    try:
        await check_server(client, base_url, cfg.models + ([cfg.judge_model] if cfg.judge_model else []))
        print(f"[eval] {len(requests)} replies wanted, {len(requests) - len(todo)} already stored, "
              f"{len(todo)} to ask for at {base_url}", file=sys.stderr)
        if todo:
            def on_reply(req: Request, reply: dict) -> None:
                store.append({"key": req.key, "model": req.model, **req.payload, "messages": req.messages,
                              "sampling": req.sampling, **reply, "server": server,
                              "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
                if "error" in reply:
                    errors.append({"what": f"{req.model}/{req.payload['item']}: {reply['error']}",
                                   "cause": reply.get("cause") or reply.get("error_type")})

            t0 = time.perf_counter()
            await run_all(client, todo, cfg.concurrency, cfg.retries, on_reply)
            print(f"[eval] {len(todo)} replies in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        if cfg.judge_model:
            from eval.judge import judge_stored

            await judge_stored(client, store, cfg, {s.name for s in suites if s.uses_refusal()})
    finally:
        store.sync()
        await client.close()
    return len(todo), errors


@contextlib.contextmanager
def server_for(cfg: EvalConfig):
    """(base_url, api_key): the given server, or one we start and always stop."""
    if cfg.base_url:
        yield cfg.base_url.rstrip("/"), cfg.resolved_api_key()
        return
    model, adapter = cfg.served_model_and_adapter()
    if not model and not adapter:
        raise ConfigError("no server: give --base-url URL, or --run runs/NAME / --model M (and --adapter) to start one")
    try:
        from serve.config import ServeConfig
        from serve.launch import serve_in_background
    except ImportError as e:
        raise ConfigError(f"cannot start a server: `serve` is not importable ({e}); pass --base-url") from None
    # "auto" lets serve take the adapter's own base model
    serve_cfg = ServeConfig(model=model or "auto", adapter=adapter, port=0, **cfg.serve, extra_args=cfg.vllm_args,
                            api_key=cfg.given_api_key() or secrets.token_hex(16))
    served = {"base"} | ({serve_cfg.adapter_name} if adapter else set())
    unknown = [m for m in cfg.models if m not in served]
    if unknown:
        raise ConfigError(f"--models {','.join(unknown)}: the server we start serves only {', '.join(sorted(served))}"
                          + ("" if adapter else " (give --adapter or --run for nano-r1)"))
    print(f"[eval] starting python -m serve for {model or 'auto'}" + (f" + {adapter}" if adapter else ""),
          file=sys.stderr)
    try:
        srv = serve_in_background(serve_cfg)
    except ConfigError:
        raise
    except Exception as e:  # serve's own start-up failures (ServeError): one line, the log path is in it
        raise ConfigError(f"could not start the server: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    with srv:
        yield srv.base_url.rstrip("/"), srv.api_key


# The settings that go into a reply's store key (eval/requests.py): different ones ask for different replies.
KEYED = ("models", "suite", "limit", "samples", "max_tokens", "temperature", "top_p", "seed", "system_prompt",
         "base_system_prompt", "one_shot", "run")


def check_report_only(cfg: EvalConfig, requests: list[Request], store: Store) -> None:
    """--report-only draws what the store holds for these settings; none of it held is a mistake, not a report
    of zeros (the usual cause: flags other than the run's, e.g. --max-tokens)."""
    have = store.keys()
    if not have:
        raise ConfigError(f"--report-only: nothing is stored in {store.path} yet; run without --report-only first")
    if any(r.key in have for r in requests):
        return
    saved = store.path.parent / "config.json"
    try:
        was = json.loads(saved.read_text())
    except (OSError, ValueError):
        was = {}
    now = cfg.to_dict()
    differ = [f"--{k.replace('_', '-')} {was[k]!r} there, {now[k]!r} here" for k in KEYED
              if k in was and was[k] != now.get(k)]
    raise ConfigError(f"--report-only: {store.path} holds {len(have)} replies, none asked for with these settings"
                      + (f" ({'; '.join(differ)}, per {saved.name})" if differ else "")
                      + "; pass the flags of the run that wrote it")


def main(cfg: EvalConfig) -> Path:
    # every file is read and checked before any server starts: suites, data, the system prompt, the --run
    suites = [get_task(name) for name in cfg.suite]
    names = [s.name for s in suites]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice:  # their items would share item ids and one section of the report
        given = [name for name, s in zip(cfg.suite, suites) if s.name == twice]
        raise ConfigError(f"--suite lists {twice} twice" if len(set(given)) == 1 else
                          f"--suite: {' and '.join(given)} are both named {twice!r} (a file suite is named after its "
                          "file): rename one")
    for s in suites:
        s.load(cfg.data_dir)
    for model in cfg.models:
        cfg.prompting_for(model)
    out = Path(cfg.output_dir)
    store = Store(out)  # the one store of this run: asked, judged and reported through it
    if not cfg.report_only:  # one eval writes a store: a second one is refused before it changes anything
        store.lock()
    store.set_aside(store.scan()[1])  # torn / incomplete lines: reported now, asked again below
    requests = build_requests(cfg, suites)  # once: what to ask for and what the report keeps
    asked, errors = 0, []
    if cfg.report_only:
        check_report_only(cfg, requests, store)
    elif not cfg.base_url and not cfg.judge_model and not unanswered(cfg, requests, store):
        # every reply is stored: starting a server (minutes on a CPU) would ask nothing
        print(f"[eval] {len(requests)} replies wanted, all already stored: no server started", file=sys.stderr)
    else:  # a failed start leaves the store as it was (a new folder holds only store.lock)
        with server_for(cfg) as (base_url, api_key):
            asked, errors = asyncio.run(generate(cfg, base_url, api_key, suites, requests, store))
    out.mkdir(parents=True, exist_ok=True)
    if not cfg.report_only:  # config.json records how the replies were asked for: a redraw does not ask
        write_atomic(out / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n")
    from eval.report import write_report

    report = write_report(cfg, suites, requests, store)
    print(f"[eval] report: {report}", file=sys.stderr)
    if errors and len(errors) == asked:  # nothing was measured: that is an error, not a result
        raise ConfigError(f"{failed_text(errors, 'all ')} (first: {errors[0]['what']}); they are stored as "
                          "failed: fix the cause, then re-run with --retry-failed")
    if errors:
        print(f"warning: {failed_text(errors, '', asked)} (first: {errors[0]['what']}); stored as failed, left "
              "out of every metric and counted in the report (re-ask with --retry-failed)", file=sys.stderr)
    return report


def failed_text(errors: list[dict], all_: str, asked: int | None = None) -> str:
    """'the server refused 2 of 8 request(s)' or, with malformed replies among them, the count per cause."""
    of = f" of {asked}" if asked is not None else ""
    causes: dict[str, int] = {}
    for e in errors:
        causes[e["cause"]] = causes.get(e["cause"], 0) + 1
    if all(str(c).startswith("refused") for c in causes):
        return f"the server refused {all_}{len(errors)}{of} request(s)"
    return (f"{all_}{len(errors)}{of} request(s) failed (" + ", ".join(f"{c} {n}" for c, n in causes.items())
            + ")")
