"""Text that every reader can encode: lone UTF-16 surrogates (JSON's "\\ud800" decodes to one) become U+FFFD.

A lone surrogate is a valid Python str but not encodable as UTF-8, so one in a prompt would crash the store
write, the HTTP request or a chart long after it was read. Readers of user files and the eval store pass
their strings through `clean`, so no such character gets further than the line that brought it in.
"""

from __future__ import annotations

import re

SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a no-op, and cheap, for ordinary text)."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def clean_value(value):
    """`clean` applied to every string inside a JSON value (dict keys too)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value
