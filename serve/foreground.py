"""`python -m serve` in the foreground: start, print where to connect (with a client example), echo vLLM's log,
and on Ctrl-C / SIGTERM / SIGHUP stop vLLM and every child process.

    python -m serve --adapter runs/tiny
"""

from __future__ import annotations

import shlex
import signal
import sys
import time
from pathlib import Path

from nano_r1 import apikey
from nano_r1.replyformat import ANSWER_OPEN, REASONING_OPEN
from serve.config import BASE_NAME, KEY_ENV, ServeConfig
from serve.launch import Server, serve_in_background
from serve.process import log_tail
import prompts

QUESTION = "A pen costs 3 dollars. How much do 4 pens cost?"


def key_expression(srv: Server) -> str:
    """Python that yields the key where the user keeps it: the key itself is never printed."""
    source = srv.key_source or ""
    if not srv.api_key:
        return '"EMPTY"'
    if source.startswith("--api-key-file "):
        return f'Path({str(Path(source.split(" ", 1)[1]).expanduser().resolve())!r}).read_text().strip()'
    return f'os.environ["{KEY_ENV}"]'  # $VLLM_API_KEY, or a key given by flag: export it for the client


def key_shell(srv: Server) -> str:
    source = srv.key_source or ""
    if source.startswith("--api-key-file "):
        return f'$(cat {shlex.quote(str(Path(source.split(" ", 1)[1]).expanduser().resolve()))})'
    return f"${KEY_ENV}"


def python_example(srv: Server) -> str:
    urls = ", ".join(f'"{name}": "{srv.url_for(name)}"' for name in srv.names)
    return f'''import os
from pathlib import Path
from openai import OpenAI

system = Path("{prompts.path('system.txt')}").read_text()  # the prompt the model was trained with
for model, url in {{{urls}}}.items():
    client = OpenAI(base_url=url, api_key={key_expression(srv)})
    reply = client.chat.completions.create(model=model, max_tokens=200, messages=[
        {{"role": "system", "content": system}},
        {{"role": "user", "content": "{QUESTION}"}}])
    message = reply.choices[0].message
    print(f"{{model}}: reasoning={{message.reasoning!r}}\\n    content={{message.content!r}}")'''


def curl_example(srv: Server) -> str:
    name = srv.names[-1]
    auth = f' -H "Authorization: Bearer {key_shell(srv)}"' if srv.api_key else ""
    body = (f'{{"model": "{name}", "max_tokens": 200, "messages": [{{"role": "user", "content": '
            f'"What is 7 * 6? Think inside {REASONING_OPEN} tags, then answer inside {ANSWER_OPEN} tags."}}]}}')
    return f"curl {srv.url_for(name)}/chat/completions -H \"Content-Type: application/json\"{auth} -d '{body}'"


def banner(srv: Server) -> str:
    width = max(len(n) for n in srv.names) + 2
    lines = ["nano-r1 serve is ready. Ctrl-C stops it.", ""]
    lines += [f"  {name:<{width}} {srv.url_for(name)}   {srv.describe.get(name, '')}" for name in srv.names]
    lines += [f"  {'logs':<{width}} {', '.join(map(str, srv.log_paths))}"]
    if srv.api_key:
        lines += [f"  {'key':<{width}} {apikey.mask(srv.api_key)} from {srv.key_source}, required on every route"
                  + ("" if (srv.key_source or "").startswith(("--api-key-file", "$")) else
                     f" (the examples read it from ${KEY_ENV}: export it there)")]
    lines += [""]
    if BASE_NAME in srv.names and len(set(srv.urls.values())) > 1:
        lines += ["  (--merged: vLLM serves one model per process, so each name has its own URL)", ""]
    lines += ["# Python (openai client): reasoning and answer come back as separate fields", python_example(srv), "",
              "# curl", curl_example(srv), ""]
    return "\n".join(lines)


def _follow_logs(srv: Server) -> int:
    """Echo new vLLM log lines to stderr until a server exits (returns its code) or a signal arrives."""
    offsets = {p.log_path: p.log_path.stat().st_size for p in srv.procs}
    prefix = len(srv.procs) > 1
    while True:
        for p in srv.procs:
            with open(p.log_path, "rb") as f:
                f.seek(offsets[p.log_path])
                chunk = f.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # print whole lines only
            offsets[p.log_path] += len(complete)
            for line in complete.decode(errors="replace").splitlines():
                print(f"[{p.label}] {line}" if prefix else line, file=sys.stderr, flush=True)
            code = p.exited()
            if code is not None:
                print(f"error: vLLM ({p.label}) exited with code {code}; last lines of {p.log_path}:\n"
                      f"{log_tail(p.log_path)}", file=sys.stderr)
                return 1
        time.sleep(0.5)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run(cfg: ServeConfig) -> int:
    # SIGTERM / SIGHUP take the Ctrl-C path, so the `finally` below stops vLLM's whole process group. SIGINT is
    # set too: a shell without job control starts background commands with SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    srv = serve_in_background(cfg)
    try:
        print(banner(srv), flush=True)
        return _follow_logs(srv)
    except KeyboardInterrupt:
        print("\n[serve] stopping vLLM ...", file=sys.stderr, flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        srv.stop()
        print("[serve] stopped", file=sys.stderr, flush=True)
