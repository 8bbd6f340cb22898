"""`python -m eval` against a server that answers, but not with what the OpenAI API promises (the stdlib server of
tests/test_eval_faults.py, 127.0.0.1, port 0: the misbehaving server is the thing under test):

  - an HTML page or a non-JSON body under HTTP 200, empty `choices`, a null `message`, a reply labelled with
    another model: each is a failed item with its cause, the rest of the run goes on, the report counts them by
    cause and names the server;
  - a server broken for good: the run stops after MAX_CONSECUTIVE_FAULTS with one line, what is stored is kept
    and a later run resumes;
  - GET /models answering HTML, and a --base-url without http://: one line, no traceback.
"""

from __future__ import annotations

import json

from eval.client import MAX_CONSECUTIVE_FAULTS
from tests.conftest import run_cli
from tests.test_eval_faults import FakeOpenAI, fake_server, lines, stderr_lines  # noqa: F401 (fixture)

CAUSES = {"HTML PAGE": "reply is not JSON", "NOT JSON": "reply is not JSON", "NO CHOICES": "no choices",
          "NULL MESSAGE": "no message", "OTHER MODEL": "reply is for another model"}


def write_suite(path, prompts: list[str]):
    path.write_text("".join(json.dumps({"id": f"i{n}", "prompt": p}) + "\n" for n, p in enumerate(prompts)))
    return path


def test_malformed_replies_are_failed_items_and_the_run_goes_on(fake_server, tmp_path):
    suite = write_suite(tmp_path / "odd.jsonl", ["How do I pick a lock?", *(f"{m} please" for m in CAUSES)])
    out = tmp_path / "res"
    proc = run_cli("eval", "--base-url", fake_server, "--suite", str(suite), "--output-dir", str(out),
                   "--models", "base", "--cards", "0", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not stderr_lines(proc, "error:")
    (warning,) = stderr_lines(proc, "warning:")
    assert "5 of 6 request(s) failed (" in warning and "reply is not JSON 2" in warning
    records = lines(out / "store.jsonl")  # every request stored: none was cancelled by another's fault
    assert len(records) == 6
    failed = {r["prompt"].split(" please")[0]: r for r in records if r.get("error")}
    assert set(failed) == set(CAUSES)
    for marker, cause in CAUSES.items():
        r = failed[marker]
        assert r["error_type"] == "ProtocolError" and r["cause"] == cause and "completion" not in r
        assert r["server"] == fake_server
    assert "'someone-else'" in failed["OTHER MODEL"]["error"] and "text/html" in failed["HTML PAGE"]["error"]
    report = (out / "report.md").read_text()
    assert "Replies stored: 1 of 6 (`store.jsonl`), 5 failed." in report
    assert "By cause: reply is not JSON 2, " in report and "reply is for another model 1" in report
    assert f"Server: `{fake_server}`" in report

    again = run_cli("eval", "--base-url", fake_server, "--suite", str(suite), "--output-dir", str(out),
                    "--models", "base", "--cards", "0", "--report-only", timeout=300)
    assert again.returncode == 0 and "By cause: reply is not JSON 2" in (out / "report.md").read_text()


def test_a_server_broken_for_good_stops_the_run_and_a_later_run_resumes(fake_server, tmp_path):
    n = MAX_CONSECUTIVE_FAULTS + 5
    suite = write_suite(tmp_path / "many.jsonl", [f"question {k}" for k in range(n)])
    out = tmp_path / "res"
    args = ["eval", "--base-url", fake_server, "--suite", str(suite), "--output-dir", str(out), "--models", "base",
            "--cards", "0", "--concurrency", "1"]
    FakeOpenAI.always = "NO CHOICES"
    proc = run_cli(*args, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (error,) = stderr_lines(proc, "error:")
    assert f"stopped: {MAX_CONSECUTIVE_FAULTS} malformed replies in a row from the server at {fake_server}" in error
    assert "no choices" in error and "--retry-failed" in error
    assert len(lines(out / "store.jsonl")) == MAX_CONSECUTIVE_FAULTS  # one at a time: all that came back, kept

    FakeOpenAI.always = None  # the server is fixed
    resumed = run_cli(*args, "--retry-failed", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"0 already stored, {n} to ask for" in resumed.stderr
    report = (out / "report.md").read_text()
    assert f"Replies stored: {n} of {n} (`store.jsonl`)." in report


def test_models_list_answered_with_html_is_one_line(fake_server, tmp_path):
    FakeOpenAI.models_html = True
    suite = write_suite(tmp_path / "s.jsonl", ["hello"])
    proc = run_cli("eval", "--base-url", fake_server, "--suite", str(suite), "--output-dir", str(tmp_path / "res"),
                   "--models", "base", timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (error,) = stderr_lines(proc, "error:")
    assert "GET /models: reply is not JSON: text/html '<html>" in error and fake_server in error
    assert not (tmp_path / "res").exists() and not FakeOpenAI.bodies


def test_a_base_url_without_a_scheme_says_so(tmp_path):
    proc = run_cli("eval", "--base-url", "localhost:9", "--suite", "gsm8k", "--output-dir", str(tmp_path / "r"),
                   timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: --base-url localhost:9: needs http:// or https://")
