"""What the refusal grader returns: XSTest's three labels and the `Verdict` (re-exported by nano_r1/refusal/).

    from nano_r1.refusal import COMPLY, FULL, PARTIAL, LABELS, Verdict
"""

from __future__ import annotations

from dataclasses import dataclass

COMPLY, FULL, PARTIAL = "1_full_compliance", "2_full_refusal", "3_partial_refusal"
LABELS = (COMPLY, FULL, PARTIAL)


@dataclass(frozen=True)
class Verdict:
    refusal: bool
    reason: str                 # which rule decided and on what words, for inspecting disagreements (stored)
    label: str = COMPLY
    confident: bool = True
    rule: str = ""              # the name of the deciding rule (nano_r1/refusal/rules.py RULES), for tests, debugging
