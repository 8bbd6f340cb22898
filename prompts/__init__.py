"""Prompt text kept as data (installed with the package): the system prompt, the project's own suites, the
judge template and the self-check lexicon. Code asks for a file by name; nothing else knows where they live."""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    return DIR / name


def read(name: str) -> str:
    return path(name).read_text(encoding="utf-8").strip()
