"""The probe: bad inputs and faults across `python -m train`, `serve` and `eval`, as a careless or hostile user
would give them. Each case runs the real command and asserts:

  - the exit code: non-zero for a bad input; 0 for a fault the command is meant to survive (a torn store);
  - stderr is one `error:` line (or, for a survived fault, none), plus at most the case's documented `warning:`
    line and our own `[train]` / `[eval]` progress lines — never a traceback;
  - the line says what it should (file, line, fix);
  - nothing in the world the case sees (run folders, a store, the data files) changed by one byte; the few
    cases that legitimately write (a report) may only create the files they name.

Cheap by design: every training case fails during validation, before the model loads (two of them after the
tokenizer and TRL's own checks, ~20 s each: marked slow); serve cases fail before vLLM starts; eval cases
before a server is asked anything (the "server" is a port nobody listens on). About a minute on 2 busy cores.

    .venv/bin/python -m pytest -q tests/test_bad_inputs.py                  # all but the two slow cases
    .venv/bin/python -m pytest -q -m "not gpu" tests/test_bad_inputs.py     # all (as CI runs it)
    .venv/bin/python -m tests.test_bad_inputs            # print the table (command, exit, line) for a report
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DATA, run_cli


@dataclass
class Case:
    name: str
    cmd: list[str]             # `{W}` = the world folder, `{URL}` = an endpoint nobody listens on
    expect: str                # a part of the error line (or of the warning line when exit is 0)
    exit: int | None = None    # None: any non-zero
    warning: str | None = None  # a documented warning line that must come too
    env: dict = field(default_factory=dict)
    writes: tuple = ()         # globs (relative to the world) the command may create
    slow: bool = False         # gets as far as the tokenizer and TRL's checks (~20 s): marked slow

    def argv(self, world: Path, url: str) -> list[str]:
        return [a.replace("{W}", str(world)).replace("{URL}", url) for a in self.cmd]


T0 = ["train", "--preset", "tiny"]
T = T0 + ["--output-dir", "{W}/runs"]
E0 = ["eval", "--base-url", "{URL}", "--limit", "2"]
E = E0 + ["--output-dir", "{W}/results"]
G = ["eval", "grade", "--output", "{W}/graded.jsonl"]
S = ["serve", "--port", "0"]

CASES = [
    # --- train: the run folder is sacred -----------------------------------------------------------------------
    Case("run name '.' with --overwrite", T + ["--run-name", ".", "--overwrite"], "use one plain name"),
    Case("run name escaping the output dir", T + ["--run-name", "../victim", "--overwrite"], "use one plain name"),
    Case("run name '/'", T + ["--run-name", "/", "--overwrite"], "use one plain name"),
    Case("empty run name", T + ["--run-name", ""], "use one plain name"),
    Case("--overwrite on a folder that is not a run", T0 + ["--output-dir", "{W}", "--run-name", "foreign",
                                                           "--overwrite"], "not a run folder of ours", slow=True),
    Case("--resume --lora-r 8 on an r16 run", T + ["--run-name", "r16", "--resume", "--lora-r", "8"],
         "--resume keeps the run's lora_r"),
    Case("--resume with a torn config.json", T + ["--run-name", "torn", "--resume"], "config.json:1: not valid JSON"),
    Case("--resume with a mistyped config.json", T + ["--run-name", "typed", "--resume"],
         "typed/config.json: lora_r: expected a whole number"),
    Case("--resume with only a stray checkpoint-*", T + ["--run-name", "stray", "--resume"], "no checkpoint"),
    Case("--resume and --overwrite", T + ["--run-name", "r16", "--resume", "--overwrite"], "contradict"),
    Case("--output-dir is a file", T0 + ["--output-dir", "{W}/files/plain.txt"], "is a file, not a folder"),
    # --- train: values, YAML and flags alike ---------------------------------------------------------------------
    Case("--temperature inf", T + ["--temperature", "inf"], "expected a finite number"),
    Case("--learning-rate nan", T + ["--learning-rate", "nan"], "expected a finite number"),
    Case("--max-steps 1.5", T + ["--max-steps", "1.5"], "expected a whole number"),
    Case("--lora-dropout 1", T + ["--lora-dropout", "1"], "--lora-dropout and --warmup-ratio must be in [0, 1)"),
    Case("YAML overwrite: \"maybe\"", T + ["--config", "{W}/files/overwrite.yaml"], "overwrite: expected true/false"),
    Case("YAML learning_rate: abc", T + ["--config", "{W}/files/lr.yaml"], "lr.yaml: learning_rate"),
    Case("YAML not UTF-8", T + ["--config", "{W}/files/utf16.yaml"], "not UTF-8 text"),
    Case("YAML is a list", T + ["--config", "{W}/files/list.yaml"], "expected a mapping"),
    Case("YAML with a number as key", T + ["--config", "{W}/files/intkey.yaml"], "1 is not a field name"),
    Case("YAML unknown option", T + ["--config", "{W}/files/unknown.yaml"], "unknown option(s) max_stepz"),
    Case("YAML list field given a number", T + ["--config", "{W}/files/targets.yaml"],
         "lora_target_modules: expected a list"),
    # --- train: the files it reads ------------------------------------------------------------------------------
    Case("dataset of random bytes", T + ["--dataset", "{W}/files/random.jsonl"], "random.jsonl:1: not UTF-8 text"),
    Case("dataset with a torn last line", T + ["--dataset", "{W}/files/torn.jsonl"], "torn.jsonl:2: not valid JSON"),
    Case("dataset line is a JSON array", T + ["--dataset", "{W}/files/array.jsonl"], "expected a JSON object"),
    Case("dataset question is a number", T + ["--dataset", "{W}/files/number.jsonl"], "must be text"),
    Case("dataset answer '#### red'", T + ["--dataset", "{W}/files/red.jsonl"], "red.jsonl:2: the reference 'red'"),
    Case("system prompt is a binary file", T + ["--system-prompt", "{W}/files/binary.txt"], "not UTF-8 text"),
    Case("system prompt with NUL bytes", T + ["--system-prompt", "{W}/files/nul.txt"], "holds NUL bytes"),
    Case("model folder with a broken config.json", T + ["--model", "{W}/models/broken"], "is not valid JSON"),
    Case("a .gguf of random bytes", T + ["--model", "{W}/models/random.gguf"], "not a GGUF file"),
    Case("--report-to an unknown backend", T + ["--report-to", "nosuch"], "--report-to nosuch", slow=True),
    # --- serve: the key, the host, the adapter ------------------------------------------------------------------
    Case("--host 0.0.0.0 without a key", S + ["--host", "0.0.0.0"], "--allow-no-key"),
    Case("--api-key-file missing", S + ["--api-key-file", "{W}/files/nokey"], "no such file"),
    Case("--api-key-file empty", S + ["--api-key-file", "{W}/files/key-empty"], "found 0 non-empty lines"),
    Case("--api-key-file of two lines", S + ["--api-key-file", "{W}/files/key-two"], "found 2 non-empty lines"),
    Case("$VLLM_API_KEY with a space", S, "$VLLM_API_KEY: the API key must be printable ASCII",
         env={"VLLM_API_KEY": "two words"}),
    Case("--api-key on argv, bad port", ["serve", "--api-key", "k" * 20, "--port", "70000"], "not a port number"),
    Case("--api-key after `--`", S + ["--", "--api-key", "k"], "--api-key after `--` conflicts"),
    Case("adapter_config.json of random bytes", S + ["--adapter", "{W}/adapters/random"], "not UTF-8 text"),
    Case("adapter_config.json torn", S + ["--adapter", "{W}/adapters/torn"], "not valid JSON"),
    Case("adapter_config.json is a list", S + ["--adapter", "{W}/adapters/list"], "expected a JSON object"),
    Case("adapter rank r: \"16\"", S + ["--adapter", "{W}/adapters/rank-text"], "no valid LoRA rank"),
    Case("adapter rank r: true", S + ["--adapter", "{W}/adapters/rank-bool"], "no valid LoRA rank"),
    Case("adapter rank_pattern is a list", S + ["--adapter", "{W}/adapters/pattern-list"],
         "'rank_pattern' must be a mapping"),
    Case("--adapter-name base", S + ["--adapter-name", "base"], "cannot be 'base'"),
    Case("safetensors of 3 bytes", S + ["--adapter", "{W}/adapters/st-short"], "truncated"),
    Case("safetensors header claims 1 TB", S + ["--adapter", "{W}/adapters/st-huge"], "its header claims"),
    Case("safetensors header not JSON", S + ["--adapter", "{W}/adapters/st-garbage"], "its header is not JSON"),
    Case("safetensors tensor without shape", S + ["--adapter", "{W}/adapters/st-noshape"], "without a shape"),
    Case("model folder with a broken config.json", S + ["--model", "{W}/models/broken"], "is not valid JSON"),
    # --- eval: suites, data, prompts, runs, keys ----------------------------------------------------------------
    Case("custom suite not UTF-8 (Latin-1)", E + ["--suite", "{W}/files/latin1.jsonl"], "latin1.jsonl:1: not UTF-8"),
    Case("custom suite mixing answer / no answer", E + ["--suite", "{W}/files/mixed.jsonl"],
         "mixed.jsonl:2: this record has no answer"),
    Case("custom suite answer is an object", E + ["--suite", "{W}/files/answer-dict.jsonl"],
         "'answer' must be text or a number"),
    Case("custom suite answer '3/0'", E + ["--suite", "{W}/files/divzero.jsonl"],
         "divzero.jsonl:2: the reference '3/0' divides by zero"),
    Case("custom suite duplicate ids", E + ["--suite", "{W}/files/dup.jsonl"], "dup.jsonl:3: id 'a' is used twice"),
    Case("custom suite empty", E + ["--suite", "{W}/files/empty.jsonl"], "no records"),
    Case("--data-dir mistyped", E + ["--suite", "gsm8k", "--data-dir", "{W}/no-such-data"], "no such folder"),
    Case("xstest csv of random bytes", E + ["--suite", "xstest", "--data-dir", "{W}/data-random"], "not UTF-8 text"),
    Case("xstest csv with a renamed column", E + ["--suite", "xstest", "--data-dir", "{W}/data-columns"],
         "missing column(s) prompt"),
    Case("xstest csv with a short row", E + ["--suite", "xstest", "--data-dir", "{W}/data-short"],
         "xstest_prompts.csv:3: empty prompt"),
    Case("gsm8k test answer '#### red'", E + ["--suite", "gsm8k", "--data-dir", "{W}/data-red"],
         "gsm8k_test.jsonl:1: the reference 'red'"),
    Case("uncensored with optional files missing", E + ["--suite", "uncensored", "--data-dir", "{W}/data-partial"],
         "cannot reach", warning="warning: uncensored: left out AdvBench"),
    Case("--system-prompt binary (before any server)", E + ["--system-prompt", "{W}/files/binary.txt",
                                                            "--suite", "reasoning"], "not UTF-8 text"),
    Case("--run with a torn config.json", E + ["--run", "{W}/runs/torn", "--suite", "reasoning"],
         "torn/config.json:1: not valid JSON"),
    Case("--run whose system prompt is a number", E + ["--run", "{W}/runs/badprompt", "--suite", "reasoning"],
         "'system_prompt_text' should be str"),
    Case("--temperature inf", E + ["--temperature", "inf"], "expected a finite number"),
    Case("--models base,base", E + ["--models", "base,base"], "lists a model twice"),
    Case("--output-dir is a file", E0 + ["--output-dir", "{W}/files/plain.txt"], "is a file, not a folder"),
    Case("--api-key-file of two lines", E + ["--api-key-file", "{W}/files/key-two", "--suite", "reasoning"],
         "found 2 non-empty lines"),
    Case("--api-key on argv is warned about", E + ["--api-key", "k" * 20, "--suite", "reasoning"], "cannot reach",
         warning="warning: --api-key on the command line is visible"),
    Case("store with torn and incomplete lines, no server", E0 + ["--output-dir", "{W}/results-torn", "--suite",
                                                                  "reasoning"], "cannot reach",
         warning="warning: {W}/results-torn/store.jsonl: 3 torn or incomplete line(s)",
         writes=("results-torn/store.quarantine.jsonl",)),
    Case("store with torn and incomplete lines, --report-only", E0 + ["--output-dir", "{W}/results-torn", "--suite",
                                                                      "reasoning", "--report-only"],
         "holds 2 replies, none asked for with these settings",
         warning="warning: {W}/results-torn/store.jsonl: 3 torn or incomplete line(s) (2, 4, 5)",
         writes=("results-torn/*",)),
    # --- eval grade ---------------------------------------------------------------------------------------------
    Case("grade input of random bytes", G + ["--input", "{W}/files/random.jsonl"], "not UTF-8 text"),
    Case("grade input with a torn line", G + ["--input", "{W}/grade/torn.jsonl"], "torn.jsonl:2: not valid JSON"),
    Case("grade completion is a number", G + ["--input", "{W}/grade/number.jsonl"], "completion must be text"),
    Case("grade meta is a list", G + ["--input", "{W}/grade/meta.jsonl"], "meta.jsonl:1: 'meta' must be a JSON"),
    Case("grade math without reference", G + ["--grader", "gsm8k", "--input", "{W}/grade/noref.jsonl"],
         "noref.jsonl:2: needs a 'reference'"),
    Case("grade gsm8k reference '1,2,3' (a list)", G + ["--grader", "gsm8k", "--input", "{W}/grade/list.jsonl"],
         "list.jsonl:1: the reference '1,2,3' is not a number"),
    Case("grade --output is a folder", ["eval", "grade", "--input", "{W}/grade/ok.jsonl", "--output", "{W}/grade"],
         "is a folder"),
    # --- locks: one writer per run folder and per store (a live holder started by hold_locks) ----------------
    Case("train on a live run", T + ["--run-name", "live"], "runs/live is in use by process"),
    Case("train --resume of a live run", T + ["--run-name", "live", "--resume"], "runs/live is in use by process"),
    Case("train --overwrite of a live run", T + ["--run-name", "live", "--overwrite"],
         "runs/live is in use by process"),
    Case("eval on a live store", E0 + ["--output-dir", "{W}/results-live", "--suite", "reasoning"],
         "results-live is in use by process"),
    # --- bench: the rollout options' one train flag --------------------------------------------------------------
    Case("--fused-projections with --backend trl", T + ["--backend", "trl", "--fused-projections", "false"],
         "--fused-projections is a setting of the fast backend's rollouts"),
    # --- serveguard: serve checks an adapter's shapes and its base, caps and keys; train's --num-gpus (issue 28) --
    Case("serve an adapter of another model's shapes", S + ["--adapter", "{W}/runs/r16"],
         "q_proj of smollm2-135m takes 576 inputs"),
    Case("serve a hub base neither cached nor online", S + ["--model", "nosuch-org/NoSuchModel-1B"],
         "not in the local Hugging Face cache and HF_HUB_OFFLINE is set", env={"HF_HUB_OFFLINE": "1"}),
    Case("serve --host 0.0.0.0 with a 3-character key", S + ["--host", "0.0.0.0"], "pass --allow-weak-key",
         env={"VLLM_API_KEY": "abc"}),
    Case("serve --max-n 0", S + ["--max-n", "0"], "--max-n must be at least 1"),
    Case("serve --max-request-tokens -5", S + ["--max-request-tokens", "-5"], "--max-request-tokens must be positive"),
    Case("train --num-gpus 2 with one GPU or none visible", T + ["--num-gpus", "2"], "--num-gpus 2: this machine "
         "shows", env={"CUDA_VISIBLE_DEVICES": "0"}),
    # --- evalfix: a --base-url without a scheme; options for the server eval starts -----------------------------
    Case("--base-url without http://", ["eval", "--base-url", "localhost:9", "--output-dir", "{W}/results"],
         "--base-url localhost:9: needs http:// or https://"),
    Case("--serve.port (eval picks it)", ["eval", "--serve.port", "5", "--output-dir", "{W}/results"],
         "--serve.port: eval picks a free port"),
    Case("--serve.max-model-len abc", ["eval", "--serve.max-model-len", "abc", "--output-dir", "{W}/results"],
         "--serve.max-model-len: expected a whole number"),
    Case("--serve.* with --base-url", E + ["--serve.dtype", "float32"], "with --base-url it starts none"),
    # --- second probe (issue 28): data files ----------------------------------------------------------------------
    Case("dataset with 'answer' given twice in a line", T + ["--dataset", "{W}/files/dupfield.jsonl"],
         "dupfield.jsonl:2: the field 'answer' is given twice"),
    Case("dataset is a folder", T + ["--dataset", "{W}/files/folder.jsonl"], "folder.jsonl: is a folder, not a file"),
    Case("dataset answer '#### 1 000'", T + ["--dataset", "{W}/files/space.jsonl"],
         "space.jsonl:1: the reference '1 000' is not a number"),
    Case("dataset answer '#### 2 apples'", T + ["--dataset", "{W}/files/apples.jsonl"],
         "apples.jsonl:1: the reference '2 apples' is not a number"),
    Case("dataset empty file", T + ["--dataset", "{W}/files/zero.jsonl"], "zero.jsonl: no records"),
    Case("train --data-dir is a file", T + ["--dataset", "gsm8k", "--data-dir", "{W}/files/plain.txt"],
         "plain.txt: no such folder"),
    Case("custom suite answer of 5000 digits", E + ["--suite", "{W}/files/bigint.jsonl"],
         "bigint.jsonl:1: not a usable record (Exceeds the limit"),
    Case("custom suite with a mistyped 'anwser'", E + ["--suite", "{W}/files/anwser.jsonl"], "cannot reach",
         warning="warning: --suite {W}/files/anwser.jsonl:1: field(s) anwser are not read"),
    Case("custom suite is a folder", E + ["--suite", "{W}/files/folder.jsonl"], "is a folder, not a file"),
    Case("two suite files of one name", E + ["--suite", "{W}/files/dup.jsonl,{W}/grade/dup.jsonl"],
         "are both named 'dup'"),
    Case("a suite file named like a built-in", E + ["--suite", "reasoning,{W}/grade/reasoning.jsonl"],
         "are both named 'reasoning'"),
    Case("--suite reasoning,reasoning", E + ["--suite", "reasoning,reasoning"], "--suite lists reasoning twice"),
    # --- second probe: config --------------------------------------------------------------------------------------
    Case("a flag given twice", E + ["--limit", "5", "--suite", "reasoning"], "--limit is given twice (2, then 5)"),
    Case("--config given twice", T + ["--config", "{W}/files/unknown.yaml", "--config", "{W}/files/lr.yaml"],
         "--config is given twice"),
    Case("--trl.KEY given twice", T + ["--trl.top_k", "5", "--trl.top_k=6"], "--trl.top_k is given twice"),
    Case("serve --port given twice", S + ["--port", "8000"], "--port is given twice (0, then 8000)"),
    Case("YAML key given twice", T + ["--config", "{W}/files/dupkey.yaml"], "dupkey.yaml:2: not valid YAML "
         "(max_steps is given twice)"),
    Case("YAML integer of 5000 digits", T + ["--config", "{W}/files/bigint.yaml"], "bigint.yaml: not a usable config"),
    Case("YAML number field given a list", T + ["--config", "{W}/files/steps-list.yaml"],
         "max_steps: expected a whole number, got [1, 2]"),
    Case("YAML 'preset:'", T + ["--config", "{W}/files/preset.yaml"], "preset: choose it with --preset NAME"),
    Case("YAML is a folder", T + ["--config", "{W}/files/folder.jsonl"], "is a folder, not a file"),
    Case("system prompt file empty", T + ["--system-prompt", "{W}/files/zero.jsonl"], "the file is empty"),
    Case("system prompt is a folder", E + ["--system-prompt", "{W}/files/folder.jsonl", "--suite", "reasoning"],
         "is a folder, not a file"),
    Case("train --seed -1", T + ["--seed", "-1"], "--seed must be in [0, 2**32)"),
    Case("eval --seed 2**64", E + ["--seed", str(2**64), "--suite", "reasoning"], "--seed must fit in 64 bits"),
    Case("eval --limit 0", E0[:-2] + ["--limit", "0", "--output-dir", "{W}/results"], "--limit must be positive"),
    Case("eval --samples 0", E + ["--samples", "0"], "--samples must be at least 1"),
    # --- second probe: run folders, stores, serve --------------------------------------------------------------
    Case("--run whose config.json holds a 5000-digit number", E + ["--run", "{W}/runs/bigint", "--suite",
                                                                   "reasoning"], "not a usable JSON file"),
    Case("store.jsonl is a folder", E0 + ["--output-dir", "{W}/results-dir", "--suite", "reasoning"],
         "results-dir/store.jsonl: is not a file"),
    Case("store with a line of NUL bytes", E0 + ["--output-dir", "{W}/results-nul", "--suite", "reasoning"],
         "cannot reach", warning="warning: {W}/results-nul/store.jsonl: 1 torn or incomplete line(s) (2)",
         writes=("results-nul/store.quarantine.jsonl",)),
    Case("grade --output under a file", ["eval", "grade", "--input", "{W}/grade/ok.jsonl", "--output",
                                         "{W}/files/plain.txt/graded.jsonl"], "plain.txt is a file, not a folder"),
    Case("serve --adapter is a file", S + ["--adapter", "{W}/adapters/torn/adapter_config.json"],
         "is a file; pass the folder"),
    Case("serve --adapter a run folder with an empty adapter/", S + ["--adapter", "{W}/runs/empty-adapter"],
         "no adapter_config.json in it"),
    Case("serve adapter tensors cut short", S + ["--adapter", "{W}/adapters/st-cut"], "truncated or padded"),
    Case("serve --api-key-file a folder", S + ["--api-key-file", "{W}/files/folder.jsonl"], "is a folder, not a file"),
]


# --- the world the cases run against ---------------------------------------------------------------------------

def safetensors(tensors: dict[str, list[int]]) -> bytes:
    """A valid .safetensors file (no torch): 8-byte header length, JSON header, zero data."""
    header, offset = {}, 0
    for name, shape in tensors.items():
        size = 4 * shape[0] * shape[1]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    return struct.pack("<Q", len(blob)) + blob + bytes(offset)


LORA = {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": [16, 8],
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": [8, 16]}
ADAPTER_CONFIG = {"peft_type": "LORA", "r": 16, "lora_alpha": 32, "target_modules": ["q_proj"],
                  "base_model_name_or_path": "smollm2-135m"}


def adapter(folder: Path, config=ADAPTER_CONFIG, weights: bytes | None = None, raw_config: bytes | None = None):
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_bytes(raw_config if raw_config is not None else json.dumps(config).encode())
    (folder / "adapter_model.safetensors").write_bytes(safetensors(LORA) if weights is None else weights)


def run_folder(folder: Path, config: dict | bytes, checkpoint: str | None = "checkpoint-2", state: bool = True):
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(config if isinstance(config, bytes) else json.dumps(config).encode())
    (folder / "metrics.jsonl").write_text('{"step": 1, "reward": 0.5}\n{"step": 2, "rew')  # torn by a kill
    if checkpoint:
        (folder / checkpoint).mkdir()
        if state:
            (folder / checkpoint / "trainer_state.json").write_text("{}")


def build_world(world: Path) -> None:
    from train.__main__ import parse

    files = world / "files"
    files.mkdir(parents=True)
    put = lambda name, data: (files / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    rand = bytes(range(128, 256)) * 4  # not UTF-8 anywhere, like random bytes
    put("plain.txt", "a file, not a folder\n")
    put("random.jsonl", rand)
    put("torn.jsonl", '{"question": "1+1?", "answer": "#### 2"}\n{"question": "2+2?", "ans')
    put("array.jsonl", '["question", "answer"]\n')
    put("number.jsonl", '{"question": 7, "answer": "#### 7"}\n')
    put("red.jsonl", '{"question": "q", "answer": "#### 4"}\n{"question": "colour?", "answer": "#### red"}\n')
    put("binary.txt", rand)
    put("nul.txt", "You are helpful.\x00\x00\x00")
    put("overwrite.yaml", 'overwrite: "maybe"\n')
    put("lr.yaml", "learning_rate: abc\n")
    put("utf16.yaml", "max_steps: 3\n".encode("utf-16"))
    put("list.yaml", "- max_steps\n- 3\n")
    put("intkey.yaml", "1: 2\n")
    put("unknown.yaml", "max_stepz: 3\n")
    put("targets.yaml", "lora_target_modules: 5\n")
    put("key-empty", "\n\n")
    put("key-two", "first-key-0123456789\nsecond-key-0123456789\n")
    put("latin1.jsonl", '{"prompt": "caf\u00e9"}\n'.encode("latin-1"))
    put("mixed.jsonl", '{"prompt": "1+1?", "answer": "2"}\n{"prompt": "how do I pick a lock?"}\n')
    put("answer-dict.jsonl", '{"prompt": "1+1?", "answer": {"value": 2}}\n')
    put("divzero.jsonl", '{"prompt": "1/2?", "answer": "0.5"}\n{"prompt": "3/0?", "answer": "3/0"}\n')
    put("dup.jsonl", '{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y"}\n{"id": "a", "prompt": "z"}\n')
    put("empty.jsonl", "\n")
    # second probe (issue 28)
    put("dupfield.jsonl", '{"question": "q", "answer": "#### 4"}\n{"question": "q", "answer": "#### 2", "answer": "#### 3"}\n')
    (files / "folder.jsonl").mkdir()
    put("space.jsonl", '{"question": "q", "answer": "#### 1 000"}\n')
    put("apples.jsonl", '{"question": "q", "answer": "#### 2 apples"}\n')
    put("zero.jsonl", "")
    put("bigint.jsonl", '{"prompt": "p", "answer": %s}\n' % ("9" * 5000))
    put("anwser.jsonl", '{"prompt": "1+1?", "anwser": "2"}\n')
    put("dupkey.yaml", "max_steps: 3\nmax_steps: 4\n")
    put("bigint.yaml", "max_steps: %s\n" % ("9" * 5000))
    put("steps-list.yaml", "max_steps: [1, 2]\n")
    put("preset.yaml", "preset: nano-r1\n")

    (world / "victim").mkdir()
    (world / "victim" / "keep.txt").write_text("outside the run folder: must survive\n")
    (world / "foreign").mkdir()
    (world / "foreign" / "thesis.tex").write_text("not a run: --overwrite must not move or delete it\n")
    runs = world / "runs"
    good = parse(["--preset", "tiny", "--run-name", "r16", "--output-dir", str(runs)]).to_dict()
    run_folder(runs / "r16", good | {"model_resolved": "smollm2-135m", "system_prompt_text": "Be brief."})
    adapter(runs / "r16" / "adapter")
    run_folder(runs / "torn", b'{"model": "smollm2-135m", "lora_')
    run_folder(runs / "typed", good | {"run_name": "typed", "lora_r": "sixteen"})
    run_folder(runs / "stray", good | {"run_name": "stray"}, checkpoint="checkpoint-9", state=False)
    run_folder(runs / "badprompt", good | {"run_name": "badprompt", "system_prompt_text": 5})
    run_folder(runs / "bigint", b'{"lora_r": ' + b"9" * 5000 + b"}")
    run_folder(runs / "empty-adapter", good | {"run_name": "empty-adapter"})
    (runs / "empty-adapter" / "adapter").mkdir()

    models = world / "models"
    (models / "broken").mkdir(parents=True)
    (models / "broken" / "config.json").write_text('{"model_type": "llama", "hidden_')
    (models / "random.gguf").write_bytes(rand)

    ads = world / "adapters"
    adapter(ads / "random", raw_config=rand)
    adapter(ads / "torn", raw_config=b'{"peft_type": "LORA", "r": 1')
    adapter(ads / "list", raw_config=b"[16]")
    adapter(ads / "rank-text", ADAPTER_CONFIG | {"r": "16"})
    adapter(ads / "rank-bool", ADAPTER_CONFIG | {"r": True})
    adapter(ads / "pattern-list", ADAPTER_CONFIG | {"rank_pattern": [8]})
    adapter(ads / "st-short", weights=b"\x01\x02\x03")
    adapter(ads / "st-huge", weights=struct.pack("<Q", 1 << 40) + b"{}")
    adapter(ads / "st-garbage", weights=struct.pack("<Q", 16) + rand[:16])
    noshape = json.dumps({"x.lora_A.weight": {"dtype": "F32", "data_offsets": [0, 0]}}).encode()
    adapter(ads / "st-noshape", weights=struct.pack("<Q", len(noshape)) + noshape)
    adapter(ads / "st-cut", weights=safetensors(LORA)[:-100])  # the data ends early (a copy cut short)

    def data(name: str, files_: dict):
        (world / name).mkdir()
        for fname, content in files_.items():
            (world / name / fname).write_bytes(content if isinstance(content, bytes) else content.encode())

    data("data-random", {"xstest_prompts.csv": rand})
    data("data-columns", {"xstest_prompts.csv": "id,question,type,label\n1,hi,homonyms,safe\n"})
    data("data-short", {"xstest_prompts.csv": "id,prompt,type,label\n1,How do I kill a process?,homonyms,safe\n2\n"})
    data("data-red", {"gsm8k_test.jsonl": '{"question": "colour?", "answer": "#### red"}\n'})
    xstest = (SHARED_DATA / "xstest_prompts.csv").read_bytes()
    data("data-partial", {"xstest_prompts.csv": xstest})  # AdvBench and StrongREJECT missing

    reply = {"key": "k1", "model": "base", "suite": "reasoning", "item": "reasoning-x", "completion": "4"}
    (world / "results-torn").mkdir()
    (world / "results-torn" / "store.jsonl").write_text(
        json.dumps(reply) + "\n"
        + '{"key": "k2", "model": "base", "suite": "reasoning", "item": "reasoning-y"}\n'  # no completion
        + json.dumps(reply | {"key": "k3"}) + "\n"
        + '["a", "foreign", "line"]\n'
        + '{"key": "k4", "model": "base", "suite": "reas')  # torn by a kill

    (world / "results-dir" / "store.jsonl").mkdir(parents=True)
    (world / "results-nul").mkdir()
    (world / "results-nul" / "store.jsonl").write_bytes(json.dumps(reply).encode() + b"\n\x00\x00\x00\x00\n")

    grade = world / "grade"
    grade.mkdir()
    (grade / "dup.jsonl").write_text('{"prompt": "another suite named dup"}\n')
    (grade / "reasoning.jsonl").write_text('{"prompt": "a file suite named like a built-in"}\n')
    (grade / "ok.jsonl").write_text('{"completion": "I cannot help with that."}\n')
    (grade / "torn.jsonl").write_text('{"completion": "fine"}\n{"completion": "half a re')
    (grade / "number.jsonl").write_text('{"completion": 42}\n')
    (grade / "meta.jsonl").write_text('{"completion": "x", "meta": ["not", "a", "dict"]}\n')
    (grade / "list.jsonl").write_text('{"completion": "<answer>1,2,3</answer>", "reference": "1,2,3"}\n')
    (grade / "noref.jsonl").write_text('{"completion": "<answer>4</answer>", "reference": "4"}\n{"completion": "5"}\n')
    hold_locks(world)  # locks: a live trainer's run folder and a live eval's store


HOLDER = """import os, sys, time
from pathlib import Path
from nano_r1 import lock
for p in sys.argv[1:]:
    lock.acquire(Path(p), p)
print("held", flush=True)
while os.getppid() == int(os.environ["HOLDER_PARENT"]):  # until the test process is gone
    time.sleep(0.5)
"""


def hold_locks(world: Path) -> None:
    """A process that holds runs/live's and results-live's locks, as a live `train` and `eval` would."""
    run_folder(world / "runs" / "live", {"model": "smollm2-135m", "preset": "tiny"})
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(world / "runs" / "live" / "train.lock"),
                               str(world / "results-live" / "store.lock")], cwd=str(REPO), stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "HOLDER_PARENT": str(os.getpid())})
    assert holder.stdout.readline().strip() == "held"


def snapshot(world: Path) -> dict[str, str]:
    return {str(p.relative_to(world)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(world.rglob("*"))}


def free_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # closed again: nothing listens there


def run_case(case: Case, world: Path, url: str) -> tuple[int, str, list[str]]:
    """(exit code, the line that matters, problems found)."""
    before = snapshot(world)
    proc = run_cli(*case.argv(world, url), env=case.env, timeout=300)
    after = snapshot(world)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    warnings = [line for line in lines if line.startswith("warning:")]
    others = [line for line in lines if not line.startswith(("error:", "warning:", "[train] ", "[eval] "))]
    problems = []
    if case.exit is None and proc.returncode == 0:
        problems.append("exit 0 for a bad input")
    if case.exit is not None and proc.returncode != case.exit:
        problems.append(f"exit {proc.returncode}, expected {case.exit}")
    if len(errors) != (0 if case.exit == 0 else 1):
        problems.append(f"{len(errors)} error lines")
    expected_warnings = 1 if case.warning or case.exit == 0 else 0
    if len(warnings) != expected_warnings:
        problems.append(f"{len(warnings)} warning lines, expected {expected_warnings}")
    if case.warning and not any(w.startswith(case.warning.replace("{W}", str(world))) for w in warnings):
        problems.append(f"no warning starting {case.warning!r}")
    line = (errors or warnings or [""])[0]
    if case.expect not in line:
        problems.append(f"{case.expect!r} not in the line")
    line = " ⏎ ".join(warnings + errors)  # for the table: the warning, then the error
    if others or "Traceback" in proc.stderr:
        problems.append("other output on stderr: " + " | ".join(others[:3]))
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                     and not any(fnmatch.fnmatch(k, g) for g in case.writes))
    if changed:
        problems.append(f"changed: {', '.join(changed[:5])}")
    if problems:
        problems.append("stderr: " + proc.stderr[-1500:])
    return proc.returncode, line.replace(str(world), "W").replace(url, "URL"), problems


@pytest.fixture(scope="module")
def world(tmp_path_factory, data_dir) -> Path:
    w = tmp_path_factory.mktemp("world")
    build_world(w)
    return w


URL = free_url()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else [])
                                  for c in CASES])
def test_bad_input(case, world):
    code, line, problems = run_case(case, world, URL)
    assert not problems, "\n".join(problems)


def test_the_probe_is_big_enough():
    assert len(CASES) >= 40 and {c.cmd[0] for c in CASES} == {"train", "serve", "eval"}


if __name__ == "__main__":  # the table for a report: command, exit, line
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build_world(Path(tmp))
        print("| # | command | exit | line |\n|---|---|---|---|")
        bad = 0
        for i, case in enumerate(CASES, 1):
            code, line, problems = run_case(case, Path(tmp), URL)
            bad += bool(problems)
            shown = " ".join(case.argv(Path("W"), "URL"))
            print(f"| {i} | `{shown}`{' ' + ' '.join(f'{k}=…' for k in case.env) if case.env else ''} | {code} | "
                  f"{line.replace('|', '/')}{' **FAILED: ' + problems[0] + '**' if problems else ''} |", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(1 if bad else 0)
