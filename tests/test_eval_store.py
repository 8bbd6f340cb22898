"""Store and resume semantics, suites, the report drawn from a store, and the errors that need no server. Fast."""

from __future__ import annotations

import csv
import json
import multiprocessing
import socket

import pytest
from conftest import run_cli

from eval.config import EvalConfig
from eval.requests import build_requests
from eval.store import Store, record_key
from nano_r1.tasks import get_task
from nano_r1.cliargs import ConfigError

SAMPLING = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 64, "seed": 0}


def reply(key: str, **fields) -> dict:
    """A complete reply record (what eval/run.py stores), with `fields` on top."""
    return {"key": key, "model": "base", "suite": "gsm8k", "item": f"gsm8k-{key}", "completion": "x"} | fields


def test_append_and_read_back(tmp_path):
    store = Store(tmp_path)
    for i in range(3):
        store.append(reply(f"k{i}", completion=f"reply {i}\nwith a newline and ünïcode"))
    assert [r["key"] for r in store.records()] == ["k0", "k1", "k2"]
    assert store.keys() == {"k0", "k1", "k2"}
    assert len(store.path.read_text().splitlines()) == 3  # one line per record
    with pytest.raises(ValueError):
        store.append({"no": "key"})


def _append_then_die(folder: str, n: int) -> None:
    import os
    import signal

    store = Store(folder)
    for i in range(n):
        store.append(reply(f"k{i}"))
    os.kill(os.getpid(), signal.SIGKILL)  # no sync(), no clean exit: what the OOM killer or `kill -9` does


def test_a_killed_writer_loses_nothing_it_appended(tmp_path):
    """fsync is batched (once a second): a kill of the writer still loses no appended reply, the kernel has it."""
    proc = multiprocessing.get_context("spawn").Process(target=_append_then_die, args=(str(tmp_path), 40))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -9
    assert Store(tmp_path).keys() == {f"k{i}" for i in range(40)}


def test_fsync_at_most_once_a_second_and_at_the_end(tmp_path, monkeypatch):
    import os

    import eval.store

    calls = []
    real = os.fsync
    monkeypatch.setattr(eval.store.os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    store = Store(tmp_path)
    for i in range(50):  # well within one second: no reply waits for the disk
        store.append(reply(f"k{i}"))
    assert len(calls) == 0
    store.sync()  # the end of a run
    assert len(calls) == 1
    store.sync()  # nothing new: nothing to do
    assert len(calls) == 1
    monkeypatch.setattr(eval.store, "SYNC_EVERY", 0.0)  # a slow run: every append is past the second
    store.append(reply("late"))
    assert len(calls) == 2 and "late" in store.keys()


def test_torn_last_line_is_ignored_and_sealed(tmp_path):
    store = Store(tmp_path)
    store.append(reply("a"))
    with open(store.path, "ab") as f:  # what a SIGKILL in the middle of a write leaves behind
        f.write(b'{"key": "b", "completion": "half a rep')
    assert store.keys() == {"a"}
    store.append(reply("b", completion="whole"))  # the re-run asks again and stores it whole
    assert [(r["key"], r["completion"]) for r in store.records()] == [("a", "x"), ("b", "whole")]


def test_duplicates_read_once(tmp_path):
    store = Store(tmp_path)
    store.append(reply("a", v=1))
    store.append(reply("a", v=2))
    assert [r["v"] for r in store.records()] == [1]


# A line of store.jsonl that must not count as stored (its request is asked again) and must not crash a reader.
UNUSABLE = [
    (b'{"key": "b", "model": "base", "suite": "gsm8k", "item": "i"}', "neither a 'completion' nor an 'error'"),
    (b'{"key": "b", "model": "base", "suite": "gsm8k", "completion": "x"}', "'item'"),
    (b'{"key": ["b"], "model": "base", "suite": "gsm8k", "item": "i", "completion": "x"}', "'key'"),
    (b'{"key": "b", "model": "base", "suite": "gsm8k", "item": "i", "completion": 7}', "'completion'"),
    (b'{"key": "b", "model": "base", "suite": "gsm8k", "item": "i", "completion": "x", "meta": [1]}', "'meta'"),
    (b'{"key": "b", "model": "base", "suite": "gsm8k", "item": "i", "completion": "x", "completion_tokens": "9"}',
     "'completion_tokens'"),
    (b'{"key": "b", "kind": "judge", "judges": "a"}', "'judge_model'"),
    (b'{"key": "b", "kind": "mystery"}', "unknown kind"),
    (b'["a", "list"]', "not a JSON object"),
    (b"42", "not a JSON object"),
    (b'{"key": "b", "completion": "half a rep', "torn"),
    (bytes(range(128, 200)), "torn"),
    (b"[" * 100_000, "torn"),  # deeper than the JSON parser recurses
]


@pytest.mark.parametrize("line, reason", UNUSABLE, ids=[r for _, r in UNUSABLE])
def test_unusable_lines_are_set_aside_not_stored(tmp_path, capsys, line, reason):
    store = Store(tmp_path)
    store.append(reply("a"))
    with open(store.path, "ab") as f:
        f.write(line + b"\n")
    store.append(reply("c"))
    before = store.path.read_bytes()
    records, bad = store.scan()
    assert [r["key"] for r in records] == ["a", "c"] and store.keys() == {"a", "c"}  # "b" is asked again
    assert [b["line"] for b in bad] == [2] and reason in bad[0]["reason"]
    assert store.set_aside(bad) == 1
    kept = [json.loads(x) for x in store.quarantine_path.read_text().splitlines()]
    assert kept[0]["line"] == 2 and kept[0]["reason"] == bad[0]["reason"]
    assert "1 torn or incomplete line(s) (2)" in capsys.readouterr().err
    assert store.path.read_bytes() == before  # the store itself is never rewritten
    store.append(reply("b"))  # the re-asked request
    assert store.keys() == {"a", "b", "c"}


def test_a_reply_replaces_a_failure_and_failures_count_as_stored(tmp_path):
    store = Store(tmp_path)
    store.append(reply("a", completion=None, error="maximum context length is 2048 tokens"))
    store.append(reply("b"))
    assert store.keys() == {"a", "b"} and store.keys(include_failed=False) == {"b"}  # --retry-failed asks "a"
    store.append(reply("a", completion="now it fits"))
    assert {r["key"]: r.get("completion") for r in store.records()} == {"a": "now it fits", "b": "x"}
    store.append(reply("a", completion=None, error="refused again"))  # a later failure never hides a reply
    assert {r["key"]: r.get("completion") for r in store.records()} == {"a": "now it fits", "b": "x"}


def test_a_lone_surrogate_is_stored_not_fatal(tmp_path):
    store = Store(tmp_path)
    store.append(reply("a", prompt="bad \ud800 text", completion="reply \udfff"))
    assert store.path.read_bytes().decode("utf-8")  # valid UTF-8 on disk
    (rec,) = store.records()
    assert rec["prompt"] == "bad \ufffd text" and rec["completion"] == "reply \ufffd"


def _writer(folder, worker, n):
    store = Store(folder)
    for i in range(n):
        store.append(reply(f"{worker}-{i}", completion="x" * (1000 + 37 * i)))


def test_concurrent_writers_never_interleave(tmp_path):
    procs = [multiprocessing.Process(target=_writer, args=(tmp_path, w, 50)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = Store(tmp_path).path.read_text().splitlines()
    assert len(lines) == 200 and all(json.loads(line)["key"] for line in lines)
    assert len(Store(tmp_path).keys()) == 200


def test_record_key_is_stable_and_sensitive():
    k = record_key("base", "gsm8k", "1", "gsm8k-0001", 0, "abc", SAMPLING)
    assert k == record_key("base", "gsm8k", "1", "gsm8k-0001", 0, "abc", dict(reversed(SAMPLING.items())))
    others = [record_key("nano-r1", "gsm8k", "1", "gsm8k-0001", 0, "abc", SAMPLING),
              record_key("base", "gsm8k", "2", "gsm8k-0001", 0, "abc", SAMPLING),
              record_key("base", "gsm8k", "1", "gsm8k-0001", 1, "abc", SAMPLING),
              record_key("base", "gsm8k", "1", "gsm8k-0001", 0, "xyz", SAMPLING),
              record_key("base", "gsm8k", "1", "gsm8k-0001", 0, "abc", {**SAMPLING, "temperature": 0.7})]
    assert len({k, *others}) == 6


def test_requests_resume_and_system_prompt(data_dir):
    cfg = EvalConfig(suite=["gsm8k"], limit=3, samples=2, temperature=0.7, data_dir=str(data_dir))
    suites = [get_task("gsm8k")]
    reqs = build_requests(cfg, suites)
    assert len(reqs) == 3 * 2 * 2 and len({r.key for r in reqs}) == 12
    assert {r.sampling["seed"] for r in reqs} == {0, 1}
    same = [r.messages for r in reqs if r.payload["item"] == "gsm8k-0000" and r.payload["sample"] == 0]
    assert same[0] == same[1] and same[0][0]["role"] == "system"  # the same messages for both models
    assert build_requests(cfg, suites)[5].key == reqs[5].key  # a re-run maps to the same keys
    seed = EvalConfig(suite=["gsm8k"], limit=3, base_system_prompt="none", data_dir=str(data_dir))
    base, trained = [r for r in build_requests(seed, suites) if r.payload["item"] == "gsm8k-0000"]
    assert base.messages[0]["role"] == "user" and trained.messages[0]["role"] == "system"


def test_suites_load_real_data(data_dir):
    d = str(data_dir)
    assert len(get_task("gsm8k").items(d)) == 1319
    assert len(get_task("math500").items(d)) == 500
    xs = get_task("xstest").items(d)
    assert sum(i.meta["label"] == "safe" for i in xs) == 250 and sum(i.meta["label"] == "unsafe" for i in xs) == 200
    assert {i.meta["label"] for i in xs[:2]} == {"safe", "unsafe"}  # a small --limit sees both sides
    unc = get_task("uncensored").items(d)
    assert {i.meta["source"] for i in unc[:4]} == {"own", "advbench", "strongreject", "xstest"}
    assert len({i.prompt.lower() for i in unc}) == len(unc)
    reasoning = get_task("reasoning")
    items = reasoning.items(d)
    assert reasoning.score("<answer>\n3\n</answer>", items[0].reference, items[0].meta)["correct"]
    with pytest.raises(ConfigError, match="unknown suite"):
        get_task("gsm9k")


def test_report_from_a_store(tmp_path, data_dir):
    """The report is drawn only from the store: fill one with known verdicts and check the numbers."""
    out = tmp_path / "res"
    cfg = EvalConfig(suite=["gsm8k", "xstest"], limit=4, max_tokens=64, data_dir=str(data_dir), output_dir=str(out))
    suites = [get_task("gsm8k"), get_task("xstest")]
    store = Store(out)
    for r in build_requests(cfg, suites):
        good = r.model == "nano-r1"
        if r.payload["suite"] == "gsm8k":
            text = f"<reasoning>\nok\n</reasoning>\n<answer>\n{r.payload['reference'] if good else 'no idea'}\n</answer>"
        else:
            text = "Sure, here is how." if good else "I'm sorry, but I can't help with that."
        store.append({"key": r.key, "model": r.model, **r.payload, "messages": r.messages, "sampling": r.sampling,
                      "completion": text, "finish_reason": "stop", "completion_tokens": 10 if good else 20})
    proc = run_cli("eval", "--suite", "gsm8k,xstest", "--limit", "4", "--max-tokens", "64", "--data-dir",
                   str(data_dir), "--output-dir", str(out), "--report-only", "--cards", "2", timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {(r["model"], r["suite"], r["metric"]): r for r in csv.DictReader(open(out / "summary.csv"))}
    assert float(rows["nano-r1", "gsm8k", "accuracy_strict"]["value"]) == 1.0
    assert float(rows["base", "gsm8k", "accuracy_strict"]["value"]) == 0.0
    assert rows["base", "gsm8k", "accuracy_strict"]["n"] == "4"
    assert float(rows["base", "gsm8k", "accuracy_strict"]["ci_high"]) == pytest.approx(0.4899, abs=1e-3)  # Wilson
    assert float(rows["base", "xstest", "refusal_rate_safe"]["value"]) == 1.0
    assert rows["base", "xstest", "refusal_rate_safe"]["n"] == "2"
    assert float(rows["nano-r1", "xstest", "refusal_rate_unsafe"]["value"]) == 0.0
    for png in ["metrics.png", "lengths.png", "cards/gsm8k-1.png", "cards/xstest-2.png"]:
        assert (out / png).stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "summary.csv" in report and "Incomplete" not in report

    # a complete store without --report-only: nothing to ask, so no server is started (minutes on a CPU)
    proc = run_cli("eval", "--suite", "gsm8k,xstest", "--limit", "4", "--max-tokens", "64", "--data-dir",
                   str(data_dir), "--output-dir", str(out), "--cards", "2", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "all already stored: no server started" in proc.stderr and "starting python -m serve" not in proc.stderr

    # an interrupted run: the report says the figures are not the whole suite's yet
    records = [json.loads(x) for x in (out / "store.jsonl").read_text().splitlines()]
    (out / "store.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:-3]))
    proc = run_cli("eval", "--suite", "gsm8k,xstest", "--limit", "4", "--max-tokens", "64", "--data-dir",
                   str(data_dir), "--output-dir", str(out), "--report-only", "--cards", "0", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"**Incomplete:** 3 of {len(records)} replies are not stored yet" in (out / "report.md").read_text()

    # other settings than the store's (here --max-tokens): one error line, and the report is left as it was
    proc = run_cli("eval", "--suite", "gsm8k,xstest", "--limit", "4", "--max-tokens", "32", "--data-dir",
                   str(data_dir), "--output-dir", str(out), "--report-only", "--cards", "0", timeout=300)
    assert proc.returncode != 0
    assert f"holds {len(records) - 3} replies, none asked for with these settings" in proc.stderr
    assert "Traceback" not in proc.stderr and "**Incomplete:** 3 of" in (out / "report.md").read_text()


def one_error_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error:"), proc.stderr[-2000:]
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_errors_without_a_server(tmp_path, data_dir):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    common = ["--data-dir", str(data_dir), "--output-dir", str(tmp_path / "o"), "--base-url", url]
    assert "cannot reach" in one_error_line(run_cli("eval", "--suite", "gsm8k", "--limit", "1", *common, timeout=120))
    assert "unknown suite 'gsm9k'" in one_error_line(run_cli("eval", "--suite", "gsm9k", *common, timeout=120))
    bad = tmp_path / "probes.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": "broken\n')
    assert f"{bad}:2: not valid JSON" in one_error_line(run_cli("eval", "--suite", str(bad), *common, timeout=120))
    bad.write_text('{"prompt": "fine"}\n{"question": "no prompt"}\n')
    assert "missing or empty field(s) prompt" in one_error_line(run_cli("eval", "--suite", str(bad), *common,
                                                                        timeout=120))
    assert "--samples > 1 needs" in one_error_line(run_cli("eval", "--samples", "3", *common, timeout=120))


def test_report_survives_failed_foreign_and_torn_records(tmp_path, capsys):
    """A failed request is counted, not scored; a line claiming a wanted key cannot move a reply into another
    suite; torn lines are set aside; the suites section says where the items came from."""
    from eval.report import write_report

    out = tmp_path / "res"
    cfg = EvalConfig(suite=["reasoning"], limit=3, max_tokens=64, output_dir=str(out), cards=0)
    suites = [get_task("reasoning")]
    suites[0].load(None)
    reqs = build_requests(cfg, suites)
    store = Store(out)
    for i, r in enumerate(reqs):
        rec = {"key": r.key, "model": r.model, **r.payload, "finish_reason": "stop", "completion_tokens": 5,
               "completion": f"<answer>\n{r.payload['reference']}\n</answer>"}
        if i == 0:
            rec = rec | {"completion": None, "error": "This model's maximum context length is 2048 tokens"}
        if i == 1:
            rec = rec | {"suite": "no-such-suite", "meta": {}}  # foreign values under a wanted key
        store.append(rec)
    with open(store.path, "ab") as f:
        f.write(b'{"key": "torn')
    report = write_report(cfg, suites).read_text()
    rows = {(r["model"], r["metric"]): r for r in csv.DictReader(open(out / "summary.csv"))}
    assert rows["base", "accuracy_strict"]["n"] == "2" and float(rows["base", "accuracy_strict"]["value"]) == 1.0
    assert rows["nano-r1", "accuracy_strict"]["n"] == "2"  # compared on the items both models answered
    assert "Replies stored: 5 of 6 (`store.jsonl`), 1 failed." in report
    assert "1 stored repl(ies) whose item the other model(s) have no reply for are left out (reasoning 1)" in report
    assert "**1 request(s) failed**" in report and "base/reasoning 1" in report and "maximum context" in report
    assert "- `reasoning` v" in report and "3 of 24 items asked (--limit 3); sources: reasoning 24 (" in report
    assert "1 torn or incomplete line(s)" in capsys.readouterr().err


def test_report_lists_the_sources_used_and_left_out(tmp_path, data_dir, capsys):
    from eval.report import suite_line

    partial = tmp_path / "data"
    partial.mkdir()
    (partial / "advbench_harmful_behaviors.csv").write_bytes((data_dir / "advbench_harmful_behaviors.csv").read_bytes())
    task = get_task("uncensored")
    version = task.version
    items = task.load(str(partial))
    assert "warning: uncensored: left out StrongREJECT (" in capsys.readouterr().err
    assert {i.meta["source"] for i in items} == {"own", "advbench"}
    line = suite_line(task, None)
    assert "sources: own 24 (" in line and "advbench 520 (" in line  # 502 beside StrongREJECT (duplicates once)
    assert "**left out** (not available): StrongREJECT (" in line and "XSTest unsafe (" in line
    full = get_task("uncensored")
    full_items = full.load(str(data_dir))
    assert full.version == version and not full.missing  # the version (part of every store key) is the same
    by_id = {i.id: i.prompt for i in full_items}  # an id means the same prompt whichever sources were found
    assert all(by_id[i.id] == i.prompt for i in items if i.id in by_id)
    assert len(set(by_id) & {i.id for i in items}) > 500
