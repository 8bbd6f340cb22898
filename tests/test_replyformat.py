"""The reply format has one owner: nano_r1/replyformat.py. Every product module takes the tags from it.

    python -m pytest -q tests/test_replyformat.py
"""

from __future__ import annotations

import ast
from pathlib import Path

import prompts
from nano_r1 import chat, grading, replyformat, selfcheck
from nano_r1.tasks import rubric as rewards

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("nano_r1", "train", "serve", "eval", "prompts")
TAGS = (replyformat.REASONING_OPEN, replyformat.REASONING_CLOSE, replyformat.ANSWER_OPEN, replyformat.ANSWER_CLOSE)


def code_strings(path: Path):
    """String constants of a module that are not docstrings (comments never reach the AST)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_tags_are_spelled_in_one_product_module():
    spelled = sorted({str(p.relative_to(REPO)) for top in PRODUCT for p in (REPO / top).rglob("*.py")
                      for _, s in code_strings(p) if any(t in s for t in TAGS)})
    assert spelled == ["nano_r1/replyformat.py"]


def test_the_system_prompt_asks_for_these_tags():
    system = prompts.read("system.txt")
    assert all(tag in system for tag in TAGS)
    assert replyformat.is_strict(system[system.index("\n" + replyformat.REASONING_OPEN):].strip())  # its example block


def test_one_shot_is_the_canonical_layout_and_earns_every_format_reward():
    example = chat.ONE_SHOT[1]["content"]
    assert replyformat.is_strict(example) and replyformat.is_soft(example)
    assert rewards.xmlcount(example) == 0.5
    assert rewards.strict_format(example) == rewards.soft_format(example) == 0.5
    assert grading.strict_answer(example) == 7


def test_split_reply_joins_back_and_blocks_read_it():
    reply = replyformat.join_reasoning("3*4=12. Wait, check: 12.", "<answer>\n12\n</answer>")
    assert replyformat.reasoning_block(reply).strip() == "3*4=12. Wait, check: 12."
    assert replyformat.answer_block(reply).strip() == "12"
    assert selfcheck.self_checks(reply)
    assert replyformat.join_reasoning(None, "plain") == "plain"
    assert "answer" not in replyformat.strip_tags(reply).replace("12", "")
