"""A family of cue patterns searched as one, each behind a literal prefilter, for the refusal grader.

    from nano_r1.refusal.match import any_of
    JUDGE = any_of(r"\bis (?:not|never) appropriate", r"\bi (?:do not|don'?t) condone")
    JUDGE.search(sentence); JUDGE.restrict(reply)   # also .match, .finditer, .findall

The prefilter is the set of literal strings every match of a pattern must contain, read off CPython's own parse of
it (`_needles`); a pattern none of whose strings occurs in the text is never run. The cue tables themselves are in
nano_r1/refusal/cues.py.
"""

from __future__ import annotations

import re


def _needles(seq) -> frozenset[str] | None:
    """Literal strings of which every match of the parsed pattern `seq` contains at least one, or None.

    Sound by construction: only mandatory parts of the pattern are used (a literal run, a group, a repeat with
    min >= 1, or an alternation whose every branch has needles)."""
    from re import _constants as c  # noqa: PLC0415 (CPython's own parser, stable across 3.11-3.13)

    options: list[frozenset[str]] = []
    run = ""
    for op, av in list(seq) + [(None, None)]:
        if op is c.LITERAL:
            run += chr(av)
            continue
        if len(run) >= 2:
            options.append(frozenset([run]))
        run = ""
        sub = None
        if op is c.SUBPATTERN:
            sub = _needles(av[-1])
        elif op is c.BRANCH:
            parts = [_needles(branch) for branch in av[1]]
            sub = frozenset().union(*parts) if all(parts) else None
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            sub = _needles(av[2])
        if sub:
            options.append(sub)
    if not options:
        return None
    # the cheapest selective mandatory element: few needles, none shorter than 3 characters where possible
    return max(options, key=lambda o: (min(3, min(map(len, o))), -len(o), min(map(len, o))))


class AnyOf:
    """Alternatives compiled one by one, each behind a literal prefilter (`needle in text`, C speed): Python's re
    cannot scan ahead for patterns that open with \\b or an alternation, and this grader has ~100 of them.
    `search` returns the leftmost match, like the single alternation would."""

    def __init__(self, parts: tuple[str, ...]):
        from re import _parser  # noqa: PLC0415

        self.parts = [re.compile(p) for p in parts]
        self.gates = []
        for p in parts:
            try:
                self.gates.append(_needles(_parser.parse(p)))
            except Exception:  # an unparseable pattern is simply never gated
                self.gates.append(None)

    def _live(self, s: str):
        return [rx for rx, gate in zip(self.parts, self.gates) if gate is None or any(map(s.__contains__, gate))]

    def restrict(self, text: str) -> "AnyOf":
        """The same alternatives less those that cannot match anywhere in `text` (checked once per reply)."""
        sub = AnyOf.__new__(AnyOf)
        sub.parts = self._live(text)
        sub.gates = [None] * len(sub.parts)
        return sub

    def search(self, s: str, pos: int = 0):
        found = [m for m in (rx.search(s, pos) for rx in self._live(s)) if m]
        return min(found, key=lambda m: m.start()) if found else None

    def match(self, s: str, pos: int = 0):
        return next((m for m in (rx.match(s, pos) for rx in self._live(s)) if m), None)

    def finditer(self, s: str):
        return iter(sorted((m for rx in self._live(s) for m in rx.finditer(s)), key=lambda m: m.start()))

    def findall(self, s: str) -> list[str]:
        return [m.group(0) for m in self.finditer(s)]


def any_of(*parts: str) -> AnyOf:
    return AnyOf(parts)
