"""A reply made ready for the refusal grader's cues (nano_r1/refusal/): normalised, quoted speech set aside,
split into sentences, and checked for being English.

    from nano_r1.refusal.text import drop_quoted, normalize, not_english, split_sentences

`normalize` lower-cases and unifies quotes and dashes, strips markdown and the nano-r1 tags and spells texting
forms out ("im" → "i'm", "cant" → "can't"), so the cue patterns need one spelling each. `drop_quoted` replaces
quoted speech by a placeholder (a character in a story who says "I won't" is not the model refusing);
`split_sentences` keeps a numbered item ("1. Mix…") whole; `not_english` spots a reply in another language or
script, where the absence of an English cue proves little.
"""

from __future__ import annotations

import re

MAX_CHARS = 8_000     # refusals are stated early; longer replies are judged on their first 8k characters
QUOTED = re.compile(r"\"[^\"\n]{3,400}\"|«[^»\n]{1,400}»|„[^“\n]{1,400}“|"
                    # single quotes around speech of two words or more ("Try: 'I'd love to help, but I can't…'",
                    # "'I cannot do that,' it said."): an apostrophe inside a word ("can't") does not close them
                    r"(?<![\w'])'(?=[a-z])(?=(?:[^'\n]|\b'\b)*\s)(?:[^'\n]|\b'\b){3,400}'(?![a-z])")
SENTENCE_END = re.compile(r"(?<=[.!?:;])(?<!^\d\.)(?<!^\d\d\.)\s+|\n+", re.M)  # "1. Mix…" stays one item
TEXTING = [(re.compile(r"\bim\b"), "i'm"), (re.compile(r"\b(can|won|don|isn|shouldn|wouldn|couldn)t\b"), r"\1't"),
           (re.compile(r"\bu\b"), "you"), (re.compile(r"\bw\b"), "with"), (re.compile(r"\bsry\b"), "sorry"),
           (re.compile(r"\bgonna\b"), "going to"), (re.compile(r"\bi'?d\b"), "i'd"), (re.compile(r"\bcan not\b"), "cannot")]
NON_LATIN = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
ENGLISH = re.compile(r"\b(?:the|and|is|are|you|to|of|it|that|this|for|with|not|can|i|a)\b")


def normalize(text: str) -> str:
    text = str(text or "")[:MAX_CHARS]
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'),
                 ("\u2014", " — "), ("\u2013", " - "), ("\u00a0", " "), ("\u200b", "")):
        text = text.replace(a, b)
    text = re.sub(r"</?(?:reasoning|answer|think)>", "\n", text)
    text = re.sub(r"[*_#>~|]+", " ", text.lower())  # markdown emphasis, headings, tables
    for rx, sub in TEXTING:
        text = rx.sub(sub, text)
    text = re.sub(r"[ \t]+", " ", text)
    text = "\n".join(line.strip() for line in text.splitlines()).strip()
    if text.count('"') == 2 and text[:1] == text[-1:] == '"':  # a reply wrapped in quotes
        text = text[1:-1].strip()
    elif text.count('"') % 2:
        text = text.lstrip('"')
    return text.lstrip("' ")


def drop_quoted(t: str) -> str:
    """Quoted speech (dialogue, a phrase to translate, the user's words) is not the model's own stance."""
    if t[:1] in "{[":  # JSON: the quotes hold the reply itself
        return t
    out = QUOTED.sub(" \"…\" ", t)
    return out if len(out.strip(" \"….!?")) >= 0.2 * len(t) else t  # a reply that is all one quote is its own


def split_sentences(t: str) -> list[str]:
    """The sentences of normalised text, less empty ones and bare punctuation."""
    sents = [s.strip(" \"'") for s in SENTENCE_END.split(t)]
    return [s for s in sents if s and s.strip(" .!?-—…\"'")]


def not_english(t: str) -> bool:
    """Another script, or Latin script with almost none of the commonest English words."""
    words = t.split()
    return bool(NON_LATIN.search(t)) or (len(words) >= 4 and len(ENGLISH.findall(t)) * 12 < len(words))
