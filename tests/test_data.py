"""GSM8K parsing on the real files, the synthetic generator, and clear errors for bad data."""

import json

import pytest

from nano_r1.cliargs import ConfigError
from nano_r1.chat import messages as to_chat
from nano_r1.tasks.math import GSM8K, GSM8KFile
from nano_r1.tasks.synthetic import synthetic
from train.data import training_task


def load_items(dataset, data_dir=None, seed=42):
    return training_task(dataset, seed).train_items(data_dir)


def test_real_gsm8k_train(data_dir):
    rows = load_items("gsm8k", str(data_dir))
    assert len(rows) == 7473
    # the first GSM8K train problem: Natalia's clips
    assert rows[0].prompt.startswith("Natalia sold clips") and rows[0].reference == "72"
    assert all(float(r.reference) == float(r.reference) for r in rows)  # every reference is a number


def test_gsm8k_file_path(data_dir):
    rows = load_items(str(data_dir / "gsm8k_test.jsonl"))
    assert len(rows) == 1319


def test_synthetic_is_seeded_and_exact():
    a, b = synthetic(50, seed=3), synthetic(50, seed=3)
    assert a == b and synthetic(50, seed=4) != a
    assert all(int(r.reference) >= 0 for r in a)
    assert len({r.prompt for r in synthetic(500, 0)}) > 450  # varied


def test_chat_messages():
    msgs = to_chat(" q ", "sys", one_shot=True)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[-1]["content"] == "q"
    assert to_chat("q", None) == [{"role": "user", "content": "q"}]


@pytest.mark.parametrize("content, message", [
    ("", "no records"),
    ("\n\n", "no records"),
    ('{"question": "q"}\n', "missing or empty field"),
    ('{"question": "q", "answer": "no marker"}\n', "not GSM8K format"),
    ('{"question": "q", "answer": "#### red"}\n', "not a number"),
    ("not json\n", "not valid JSON"),
])
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        GSM8KFile(path).train_items(None)


def test_unknown_dataset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown"):
        load_items("nosuchset")
    with pytest.raises(ConfigError, match="no such file"):
        load_items(str(tmp_path / "missing.jsonl"))
    good = tmp_path / "ok.jsonl"
    good.write_text(json.dumps({"question": "1+1?", "answer": "#### 2"}) + "\n")
    assert [(i.prompt, i.reference) for i in load_items(str(good))] == [("1+1?", "2")]


def test_synthetic_suite_is_held_out_and_graded_like_gsm8k():
    from nano_r1.tasks import get_task
    from nano_r1.tasks.synthetic import HELD_OUT_SEED

    suite = get_task("synthetic")
    items = suite.load(None)
    assert items[:3] == synthetic(3, HELD_OUT_SEED)
    train = {r.prompt for r in load_items("synthetic", seed=42)}
    # evaluation during training scores the suite's first problems: one held-out seed for both
    assert training_task("synthetic", seed=7).held_out_items(None, 5) == items[:5]
    assert sum(it.prompt in train for it in items[:60]) <= 3  # a template space, not a memory test
    ref = items[0].reference
    assert suite.score(f"<answer>\n{ref}\n</answer>", ref, {}) == GSM8K().score(f"<answer>\n{ref}\n</answer>", ref)
