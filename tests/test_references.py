"""Reference answers read by one parser (nano_r1.grading.reference_number) in every loader: GSM8K files, custom
suites and `python -m eval grade`. Fast, no server.

    python -m pytest -q tests/test_references.py
"""

from __future__ import annotations

import json

import pytest

from eval.config import GradeConfig
from eval.regrade import grade_file
from nano_r1.cliargs import ConfigError
from nano_r1.grading import grade_math
from nano_r1.tasks import get_task
from nano_r1.tasks.math import GSM8K, GSM8KFile

# reference as written → as graded (GSM8K, custom suites and regrade alike)
ACCEPTED = [("42", "42"), ("1,000", "1000"), ("1_000", "1000"), ("1e3", "1000"), ("3/4", "0.75"), ("-2.5", "-2.5"),
            ("$5", "5"), ("-$1,234.50", "-1234.50"), ("+7", "7"), ("1e-7", "0.0000001"), ("007", "007"),
            # typeset text: U+2212 minus and full-width digits (second probe, issue 28)
            ("\u22125", "-5"), ("\u22123/4", "-0.75"), ("\uff15", "5"), ("\uff11,\uff10\uff10\uff10", "1000")]
# reference → the part of the one error line after 'file:line: '
REFUSED = [("nan", "the reference 'nan' is not a finite number"), ("-inf", "is not a finite number"),
           ("1e400", "the reference '1e400' is too large for a float"), ("3/0", "the reference '3/0' divides by zero"),
           ("1" + "0" * 400 + "/1", "is too large for a float")]
NOT_NUMBERS = [("red", "the reference 'red' is not a number"), ("1,2,3", "the reference '1,2,3' is not a number"),
               ("12,34", "is not a number"), ("\\frac{1}{2}", "is not a number"),
               ("1 000", "the reference '1 000' is not a number"), ("2 apples", "the reference '2 apples' is not")]


def gsm8k_file(tmp_path, refs: list[str]):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"question": f"q{i}?", "answer": f"so…\n#### {r}"}) + "\n"
                            for i, r in enumerate(refs)))
    return path


def suite_file(tmp_path, answers: list):
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"p{i}?", "answer": a}) + "\n" for i, a in enumerate(answers)))
    return path


def regrade(tmp_path, grader: str, refs: list) -> list[dict]:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"completion": "<answer>\n1000\n</answer>", "reference": r}) + "\n"
                           for r in refs))
    grade_file(GradeConfig(grader=grader, input=str(src), output=str(dst)))
    return [json.loads(line) for line in dst.read_text().splitlines()]


def one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


def test_real_gsm8k_test_loads_cleanly(data_dir):
    items = GSM8K().items(str(data_dir), "test")
    assert len(items) == 1319
    assert all(float(it.reference) == float(it.reference) and "," not in it.reference for it in items)
    assert "2125" in {it.reference for it in items}  # '#### 2,125' in the file


@pytest.mark.parametrize("ref, graded", ACCEPTED)
def test_accepted_everywhere(tmp_path, ref, graded):
    assert [it.reference for it in GSM8KFile(gsm8k_file(tmp_path, [ref])).train_items(None)] == [graded]
    assert [it.reference for it in get_task(str(suite_file(tmp_path, [ref]))).load(None)] == [graded]
    out = regrade(tmp_path, "gsm8k", [ref])
    assert out[0]["reference"] == ref and out[0]["correct"] is (float(graded) == 1000)
    # the graded form is one every grader reads as that number
    assert grade_math(f"<answer>\n{graded}\n</answer>", graded)["correct"]


@pytest.mark.parametrize("ref, message", REFUSED + NOT_NUMBERS)
def test_refused_by_gsm8k_files_with_file_and_line(tmp_path, ref, message):
    path = gsm8k_file(tmp_path, ["4", ref])
    with pytest.raises(ConfigError) as e:
        GSM8KFile(path).train_items(None)
    assert one_line(e).startswith(f"{path}:2: ") and message in str(e.value)
    with pytest.raises(ConfigError, match=f"in.jsonl:2: .*{message.split()[-1]}"):
        regrade(tmp_path, "gsm8k", ["4", ref])


@pytest.mark.parametrize("ref, message", REFUSED)
def test_refused_by_custom_suites_and_math_regrade(tmp_path, ref, message):
    path = suite_file(tmp_path, ["4", ref])
    with pytest.raises(ConfigError) as e:
        get_task(str(path))
    assert one_line(e).startswith(f"--suite {path}:2: ") and message in str(e.value)
    with pytest.raises(ConfigError, match=f"in.jsonl:2: .*{message.split()[-1]}"):
        regrade(tmp_path, "math", ["4", ref])


def test_a_reply_with_a_typeset_minus_is_read_as_negative():
    """'−5' (U+2212) in a reply is -5 for the strict and the flexible view; it used to be read as +5."""
    for reply in ("<answer>\u22125</answer>", "so it is \u22125 degrees"):
        verdict = grade_math(reply, "-5")
        assert verdict["correct_flexible"] and verdict["correct"] == reply.startswith("<answer>")
    assert not grade_math("<answer>\u22125</answer>", "5")["correct"]


def test_json_nan_and_overflow_answers_are_refused(tmp_path):
    """JSON's own NaN and 1e400 (Python reads it as inf) in a custom suite's answer field."""
    for raw, message in (("NaN", "not a finite number"), ("1e400", "not a finite number"),
                         ("1" + "0" * 400, "too large for a float")):
        path = tmp_path / "s.jsonl"
        path.write_text('{"prompt": "p?", "answer": 1}\n{"prompt": "q?", "answer": %s}\n' % raw)
        with pytest.raises(ConfigError, match=f"s.jsonl:2: the reference .* {message}"):
            get_task(str(path))


def test_custom_suites_keep_latex_and_list_answers(tmp_path):
    """A custom suite's answer need not be a number: math-verify grades LaTeX and lists (as before)."""
    items = get_task(str(suite_file(tmp_path, ["\\frac{1}{2}", "1,2,3", 2]))).load(None)
    assert [it.reference for it in items] == ["\\frac{1}{2}", "1,2,3", "2"]
    assert grade_math("<answer>\n\\{1, 2, 3\\}\n</answer>", "1,2,3")["correct"]


def test_gsm8k_empty_or_missing_reference(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "q", "answer": "x\\n#### 4"}\n{"question": "q", "answer": "x\\n####   "}\n')
    with pytest.raises(ConfigError, match=r"d.jsonl:2: the reference is empty$"):
        GSM8KFile(path).train_items(None)
    path.write_text('{"question": "q", "answer": "no marker"}\n')
    with pytest.raises(ConfigError, match=r"d.jsonl:1: the answer has no '#### N' line"):
        GSM8KFile(path).train_items(None)
