"""The chat messages a model is asked with: one builder for training, in-training evaluation and `python -m eval`,
so the prompt a model was trained with and the prompt it is measured with cannot drift apart.

  system prompt  'default' = prompts/system.txt, 'none' = no system message, or a text file
  one-shot       the seed's optional worked example in the answer format, between system and question
"""

from __future__ import annotations

from pathlib import Path

import prompts
from nano_r1 import replyformat
from nano_r1.cliargs import ConfigError
from nano_r1.files import not_a_file, read_text
from nano_r1.text import clean

MAX_SYSTEM_PROMPT_CHARS = 100_000  # far above any prompt; a bigger "prompt" is a data file given by mistake

# The seed's optional 1-shot example, in the exact answer format.
ONE_SHOT = [{"role": "user", "content": "What is the largest single-digit prime number?"},
            {"role": "assistant", "content": replyformat.render("9 is divisible by 3 and 8 is divisible by 2, "
                                                                "but 7 is prime.", "7")}]


def system_prompt(spec: str | None = "default") -> str | None:
    """The system prompt text for `--system-prompt SPEC`."""
    if spec in (None, "none"):
        return None
    if spec == "default":
        return prompts.read("system.txt")
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ConfigError(f"--system-prompt {spec}: {not_a_file(path)} (use 'default', 'none' or a text file)")
    try:
        text = read_text(path)
    except ConfigError as e:
        raise ConfigError(f"--system-prompt {e}") from None
    if len(text) > MAX_SYSTEM_PROMPT_CHARS:
        raise ConfigError(f"--system-prompt {spec}: {len(text):,} characters is not a system prompt (the limit is "
                          f"{MAX_SYSTEM_PROMPT_CHARS:,}); wrong file?")
    if not text.strip():  # an empty file would silently mean 'none'
        raise ConfigError(f"--system-prompt {spec}: the file is empty; write the prompt in it, or pass "
                          "--system-prompt none for no system prompt")
    return clean(text).strip()


def messages(question: str, system: str | None, one_shot: bool = False) -> list[dict]:
    # clean: a lone surrogate from a data file would fail every UTF-8 encode downstream (request, store)
    msgs = [{"role": "system", "content": clean(system)}] if system else []
    return msgs + (ONE_SHOT if one_shot else []) + [{"role": "user", "content": clean(question.strip())}]
