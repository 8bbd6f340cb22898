"""The reasoning parser on crafted text, through the real vLLM plugin class (no server; ~10 s, mostly importing
vLLM):  .venv/bin/python -m pytest tests/test_reasoning_parser.py"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("vllm", reason="vLLM is not installed (pip install -e .[cpu]; python -m serve.setup_cpu)")

from serve.reasoning_parser import END, NAME, START, NanoR1ReasoningParser  # noqa: E402

FORMATTED = "<reasoning>\n3 + 4 = 7. Wait, check: 7 - 4 = 3.\n</reasoning>\n<answer>\n7\n</answer>"

# (reply, expected reasoning, expected content)
CASES = [
    (FORMATTED, "3 + 4 = 7. Wait, check: 7 - 4 = 3.", "<answer>\n7\n</answer>"),
    ("no tags at all, just 42", None, "no tags at all, just 42"),
    ("  \n padded reply \n", None, "padded reply"),
    ("Sure! Let me think.\n" + FORMATTED, "3 + 4 = 7. Wait, check: 7 - 4 = 3.",
     "Sure! Let me think.\n<answer>\n7\n</answer>"),
    ("<reasoning>\nstill thinking when max_tokens hit", "still thinking when max_tokens hit", None),
    ("<reasoning>\nthinking</reas", "thinking", "</reas"),  # a tag cut by max_tokens stays visible
    ("<reasoning></reasoning>", "", None),
    ("<reasoning>a < b and c <reasoning x</reasoning>\nafter <reasoning>again", "a < b and c <reasoning x",
     "after <reasoning>again"),
    ("only an end tag</reasoning> here", None, "only an end tag</reasoning> here"),
    ("a <b> c <reas", None, "a <b> c <reas"),
    ("<reasoning>x</reasoning>", "x", None),
    ("<answer>5</answer>", None, "<answer>5</answer>"),
    ("<reasoning>\nmulti\n\nline  \n</reasoning>\n\n<answer>\n1\n</answer>\n", "multi\n\nline",
     "<answer>\n1\n</answer>"),
]


@pytest.fixture(scope="module")
def parser():
    from transformers import AutoTokenizer

    from nano_r1.models import resolve_model

    return NanoR1ReasoningParser(AutoTokenizer.from_pretrained(resolve_model("smollm2-135m").path))


def stream(parser: NanoR1ReasoningParser, chunks: list[str]) -> tuple[str | None, str | None]:
    """Feed chunks the way vLLM's Parser.parse_delta does, then finish; join what a client would receive."""
    reasoning, content, previous = [], [], ""
    for chunk in chunks:
        current = previous + chunk
        delta = parser.extract_reasoning_streaming(previous, current, chunk, [], [], [])
        if delta is not None:
            reasoning.append(delta.reasoning or "")
            content.append(delta.content or "")
        previous = current
    tail = parser.get_streaming_fallback_content(previous, None)
    content.append(tail or "")
    return ("".join(reasoning) or None), ("".join(content) or None)


@pytest.mark.parametrize("text,reasoning,content", CASES)
def test_non_streaming(parser, text, reasoning, content):
    assert parser.extract_reasoning(text, None) == (reasoning, content)


@pytest.mark.parametrize("text,reasoning,content", CASES)
def test_every_two_chunk_split(parser, text, reasoning, content):
    for cut in range(len(text) + 1):
        got = stream(parser, [text[:cut], text[cut:]])
        # Streaming cannot tell "no reasoning" from "empty reasoning"; both arrive as no reasoning chunks.
        assert got == (reasoning or None, content), f"split at {cut}: {text[:cut]!r} | {text[cut:]!r}"


@pytest.mark.parametrize("text,reasoning,content", CASES)
def test_character_by_character(parser, text, reasoning, content):
    assert stream(parser, list(text)) == (reasoning or None, content)


@pytest.mark.parametrize("text", [FORMATTED, "Hi <reasoning> a </reasoning> <answer>1</answer>"])
def test_three_chunks_every_pair_of_cuts(parser, text):
    """Both cuts anywhere: every tag is also cut into three pieces somewhere in here."""
    want = parser.extract_reasoning(text, None)
    for a in range(len(text) + 1):
        for b in range(a, len(text) + 1):
            assert stream(parser, [text[:a], text[a:b], text[b:]]) == want, (a, b)


PIECES = st.sampled_from([START, END, "<answer>", "</answer>", "<", "</", "<reas", "</reason", "ing>", ">", " ",
                          "\n", "\n\n", "7", "think", "Wait,"])


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, max_size=14), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_streaming_equals_non_streaming_on_random_text(parser, pieces, cuts):
    text = "".join(pieces)
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    chunks = [text[i:j] for i, j in zip(bounds, bounds[1:])]
    reasoning, content = parser.extract_reasoning(text, None)
    assert stream(parser, chunks) == (reasoning or None, content)
    # Nothing the model wrote is lost, except whitespace and the two tags themselves.
    start = text.find(START)
    end = text.find(END, start + len(START)) if start >= 0 else -1
    if start >= 0:
        text = text[:start] + text[start + len(START):end] + text[end + len(END):] if end >= 0 else \
            text[:start] + text[start + len(START):]
    chars = lambda s: sorted("".join(s.split()))
    assert chars((reasoning or "") + (content or "")) == chars(text)


def test_held_back_while_a_tag_may_be_forming(parser):
    # Half of "</reasoning>" must not leak into the reasoning field before the rest arrives.
    assert parser.extract_reasoning_streaming("<reasoning>abc", "<reasoning>abc </reas", " </reas",
                                              [], [], []) is None
    delta = parser.extract_reasoning_streaming("<reasoning>abc </reas", "<reasoning>abc </reasoning>\n<ans",
                                               "oning>\n<ans", [], [], [])
    assert delta.reasoning is None and delta.content == "<ans"


def test_prompt_never_ends_reasoning(parser):
    # The system prompt quotes the tags; the prompt must not switch the parser off.
    ids = parser.model_tokenizer.encode("Use exactly this format:\n<reasoning>\n...\n</reasoning>\n<answer>")
    assert parser.is_reasoning_end(ids) is False


def test_count_reasoning_tokens(parser):
    tok = parser.model_tokenizer
    inner = tok.encode("3 + 4 = 7. Wait, check: 7 - 4 = 3.", add_special_tokens=False)
    ids = (tok.encode("<reasoning>", add_special_tokens=False) + inner
           + tok.encode("</reasoning>\n<answer>\n7\n</answer>", add_special_tokens=False))
    assert parser.count_reasoning_tokens(ids) == len(inner)
    assert parser.count_reasoning_tokens(tok.encode("no tags", add_special_tokens=False)) == 0


def test_registered_under_its_name():
    from vllm.reasoning import ReasoningParserManager

    assert ReasoningParserManager.get_reasoning_parser(NAME) is NanoR1ReasoningParser


@pytest.mark.parametrize("text", [
    "<reasoning>\n3 * 4 = 12. Wait, check: yes.\n</reasoning>\n<answer>\n12\n</answer>",
    "<reasoning>\nmulti\nline\n</reasoning>\n<answer>\n7\n</answer>",
    "no tags at all, just an answer: 5",
    "<answer>\n5\n</answer>",
])
def test_eval_rejoins_what_the_parser_split(text):
    """eval stores message.reasoning + message.content; join_reasoning gives graders the reply back."""
    from nano_r1.replyformat import join_reasoning
    from serve.reasoning_parser import split

    reasoning, content = split(text)
    assert join_reasoning(reasoning, content) == text
