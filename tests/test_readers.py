"""Every reader of a user file, in process, against the bytes a careless user, a kill or a disk gives it: one
ConfigError naming the file (and line) for each, never another exception. Fast (~2 s); the same classes through
the real commands are in tests/test_bad_inputs.py."""

from __future__ import annotations

import json
import struct

import pytest

from nano_r1.cliargs import ConfigError

RANDOM = bytes(range(128, 256)) * 2  # not UTF-8 anywhere
BOM = b"\xef\xbb\xbf"


def _jsonl(path):
    from nano_r1.tasks.sources import read_jsonl
    return read_jsonl(path, ("prompt",))


def _csv(path):
    from nano_r1.tasks.sources import read_csv
    return read_csv(path, ("id", "prompt"))


def _yaml(path):
    from eval.config import EvalConfig
    from nano_r1.cliargs import typed_yaml
    return typed_yaml(EvalConfig, str(path))


def _system(path):
    from nano_r1.chat import system_prompt
    return system_prompt(str(path))


def _key(path):
    from nano_r1.apikey import read_key_file
    return read_key_file(str(path))


def _run_config(path):
    from nano_r1.rundir import RunDir
    path.rename(path.with_name("config.json"))
    return RunDir(path.parent).prompting()


def _adapter_config(path):
    from serve.adapter import read_adapter_config
    return read_adapter_config(path, "A")


def _safetensors(path):
    from serve.weights import tensor_shapes
    return tensor_shapes(path, "A")


def _model_folder(path):
    from nano_r1.models import resolve_model
    path.rename(path.with_name("config.json"))
    return resolve_model(str(path.parent))


def _gguf(path):
    from nano_r1.models import resolve_model
    path.rename(path.with_name("m.gguf"))
    return resolve_model(str(path.with_name("m.gguf")))


CASES = [  # (reader, file bytes, part of the message; None = read fine)
    (_jsonl, RANDOM, "f:1: not UTF-8 text"),
    (_jsonl, b'{"prompt": "a"}\n\xff\n', "f:2: not UTF-8 text"),
    (_jsonl, '{"prompt": "a"}\n'.encode("utf-16"), "f:1: not UTF-8 text"),
    (_jsonl, b'{"prompt": "a"}\n{"prompt": "b', "f:2: not valid JSON"),
    (_jsonl, b'{"prompt": "a"}\x00\n', "holds NUL bytes"),
    (_jsonl, b"[1, 2]\n", "f:1: expected a JSON object"),
    (_jsonl, b'{"prompt": ["a"]}\n', "f:1: field(s) prompt must be text"),
    (_jsonl, b'{"prompt": "  "}\n', "f:1: missing or empty field(s) prompt"),
    (_jsonl, b"[" * 100_000, "f:1:"),
    (_jsonl, b"\n \n", "f: no records"),
    (_jsonl, BOM + b'{"prompt": "a"}\n', None),  # a BOM (Windows editors) is fine
    (_jsonl, b'{"prompt": "a \\ud800"}\n', None),  # a lone surrogate is replaced, not fatal
    (_jsonl, '{"prompt": "a\u2028b"}\r\n'.encode(), None),  # a raw U+2028 inside a string is not a line break
    (_csv, RANDOM, "f:1: not UTF-8 text"),
    (_csv, b"id,question\n1,hi\n", "f:1: missing column(s) prompt"),
    (_csv, b"id,prompt\n1,hi\n2\n", "f:3: empty prompt"),
    (_csv, b"id,prompt\n1,\"unterminated\n", "f:"),
    (_csv, b"id,prompt\n", "f: no records"),
    (_csv, BOM + b"id,prompt\n1,hi\n", None),
    (_csv, 'id,prompt\r\n1,"two\nlines \u2028"\r\n'.encode(), None),
    (_yaml, RANDOM, "not UTF-8 text"),
    (_yaml, b"a: [\n", "not valid YAML"),
    (_yaml, b"- 1\n", "expected a mapping"),
    (_yaml, b"1: 2\n", "1 is not a field name"),
    (_yaml, b"limit: ten\n", "f: limit: expected a whole number, got 'ten'"),
    (_yaml, b"temperature: .inf\n", "f: temperature: expected a finite number"),
    (_yaml, b"report_only: 'no'\n", None),
    (_system, RANDOM, "f:1: not UTF-8 text"),
    (_system, b"Be brief.\x00", "holds NUL bytes"),
    (_system, b"x" * 200_000, "is not a system prompt"),
    (_key, b"", "found 0 non-empty lines"),
    (_key, b"one\ntwo\n", "found 2 non-empty lines"),
    (_key, RANDOM, "not UTF-8 text"),
    (_key, b"x" * 5000, "is not a key file"),
    (_key, "k\u00e9y\n".encode(), "printable ASCII"),
    (_run_config, RANDOM, "config.json: not UTF-8 text"),
    (_run_config, b'{"model": "a",', "config.json:1: not valid JSON"),
    (_run_config, b"[]", "expected a JSON object"),
    (_run_config, b'{"system_prompt_text": ["a"]}', "'system_prompt_text' should be str"),
    (_run_config, b'{"system_prompt": 3}', "'system_prompt' should be str"),
    (_run_config, b'{"system_prompt_text": "Be brief.", "one_shot": "yes"}', "'one_shot' should be bool"),
    (_adapter_config, RANDOM, "not UTF-8 text"),
    (_adapter_config, b'{"r": 1', "not valid JSON"),
    (_adapter_config, b"7", "expected a JSON object"),
    (_safetensors, b"", "truncated"),
    (_safetensors, struct.pack("<Q", 10 ** 9), "its header claims"),
    (_safetensors, struct.pack("<Q", 4) + b"\xff\xfe{}", "its header is not JSON"),
    (_safetensors, struct.pack("<Q", 2) + b"[]", "not a map of tensors"),
    (_model_folder, b"{broken", "is not valid JSON"),
    (_model_folder, b"[]", "is not a JSON object"),
    (_gguf, RANDOM, "not a GGUF file"),
]


@pytest.mark.parametrize("reader, data, message", CASES,
                         ids=[f"{r.__name__[1:]}-{i}" for i, (r, _, _) in enumerate(CASES)])
def test_reader(tmp_path, reader, data, message):
    folder = tmp_path / "d"
    folder.mkdir()
    path = folder / "f"
    path.write_bytes(data)
    if message is None:
        assert reader(path) is not None
        return
    with pytest.raises(ConfigError) as err:
        reader(path)
    text = str(err.value).replace(str(path), "f")
    assert message in text and "\n" not in text, text


def test_a_lone_surrogate_never_gets_past_the_reader(tmp_path):
    from nano_r1.chat import messages
    from nano_r1.tasks.sources import read_jsonl

    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"prompt": "bad \ud800 text", "meta": {"k\udfff": ["\udbff"]}}) + "\n")
    (row,) = read_jsonl(path, ("prompt",))
    assert json.dumps(row, ensure_ascii=False).encode("utf-8")  # encodable everywhere
    assert messages("q \ud800", "sys \udc00")[-1]["content"] == "q \ufffd"


def test_a_torn_checkpoint_is_not_resumed_from(tmp_path):
    """A kill during a save leaves trainer_state.json (written last) missing or torn: resume from the one before."""
    from nano_r1.rundir import RunDir

    for step, state in [(2, "{}"), (4, '{"global_step": 4, "log_hist'), (6, None), (8, "[]")]:
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-x").mkdir()
    assert RunDir(tmp_path).latest_checkpoint() == str(tmp_path / "checkpoint-2")


def test_a_run_from_another_machine_names_its_model_again(tmp_path):
    """config.json records where the model was on the training machine; elsewhere the given name resolves again."""
    from nano_r1.rundir import RunDir

    here = tmp_path / "model"
    here.mkdir()
    (tmp_path / "config.json").write_text(json.dumps({"model": "smollm2-135m", "model_resolved": "/tmp/nr/gone"}))
    assert RunDir(tmp_path).base_model() == "smollm2-135m"
    (tmp_path / "config.json").write_text(json.dumps({"model": "smollm2-135m", "model_resolved": str(here)}))
    assert RunDir(tmp_path).base_model() == str(here)
