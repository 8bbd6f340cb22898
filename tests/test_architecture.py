"""One direction for the code: the stages (train, serve, eval) import the shared core (nano_r1, prompts) and
never each other — except eval starting serve — and no module imports itself back through others.
Imports inside functions count too: a cycle hidden in a function is still a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["nano_r1", "prompts", "train", "serve", "eval"]
ALLOWED = {"nano_r1": {"nano_r1", "prompts"}, "prompts": {"prompts"},
           "train": {"train", "nano_r1", "prompts"}, "serve": {"serve", "nano_r1", "prompts"},
           "eval": {"eval", "nano_r1", "prompts", "serve"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def imports(path: Path, known: set[str]) -> set[str]:
    """Project modules imported anywhere in the file (resolved to the longest known module name)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(p, set(mods)) - {m} for m, p in mods.items()}


def test_stages_import_only_the_core():
    bad = [f"{m} imports {dep}" for m, deps in graph().items() for dep in deps
           if dep.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    g = graph()
    # a package's __init__ importing its own submodules is how a registry is built, not a cycle
    g = {m: {d for d in deps if not (d.startswith(m + ".") and (REPO / m.replace(".", "/") / "__init__.py").is_file())}
         for m, deps in g.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for dep in sorted(g.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(" → ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def test_the_graph_sees_function_level_imports():
    g = graph()
    assert "serve.launch" in g["eval.run"]          # eval starts serve from inside a function
    assert "train.fast" in g["train.backends"]      # imported inside Backend.trainer_class
