"""Trainer callbacks: metrics.jsonl, a progress bar with step time and reward, the guards' warnings, and graceful
interruption."""

from __future__ import annotations

import signal
import sys
import time

from transformers import TrainerCallback

from nano_r1.rundir import RunDir

# The keys TRL logs that the run folder keeps (prefix match), renamed to short stable names.
KEEP = ("reward", "rewards/", "completions/", "kl", "learning_rate", "loss", "grad_norm", "entropy",
        "clip_ratio", "frac_reward_zero_std", "step_time", "num_tokens", "dynamic_sampling/")


class MetricsWriter(TrainerCallback):
    """Appends every logged step to metrics.jsonl (flushed at once, so a kill loses at most one line)."""

    def __init__(self, run: RunDir):
        self.run = run
        self._last = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        self.step_time = now - self._last
        self._last = now

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "train_runtime" in logs:
            return
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
        row.update({k: v for k, v in logs.items() if k.startswith(KEEP)})
        if hasattr(self, "step_time"):
            row["step_time"] = round(self.step_time, 3)
        self.run.append_metrics(row)


class ProgressBar(TrainerCallback):
    """One tqdm bar: step, s/step and the latest mean reward and correctness (replaces the dict printer)."""

    def __init__(self):
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train", unit="step",
                            dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs and "reward" in logs:
            post = {"reward": f"{logs['reward']:.3f}"}
            if "rewards/correctness/mean" in logs:
                post["correct"] = f"{logs['rewards/correctness/mean']:.2f}"  # 1 per right answer, weighted in TRL
            if "completions/mean_length" in logs:
                post["len"] = f"{logs['completions/mean_length']:.0f}"
            self.bar.set_postfix(post, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()


def say(line: str) -> None:
    """One line on stderr above the progress bar (tqdm.write redraws the bar below it)."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


class Guard(TrainerCallback):
    """After every logged step, train/guards.py over the run's metrics.jsonl: each kind of warning once, as a
    `warning:` line and a warnings.jsonl row. The history comes from the files, so a resumed run judges its whole
    history and does not repeat what it already said; `at_start` (the chat-template check) is said at step 0."""

    def __init__(self, run: RunDir, settings, at_start=()):
        self.run, self.settings, self.at_start = run, settings, [w for w in at_start if w is not None]

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.check(self.at_start)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "train_runtime" not in logs:
            self.check()

    def check(self, extra=()) -> None:
        from train.guards import scan

        said = {w.get("kind") for w in self.run.read_warnings()}
        for warning in [*extra, *scan(self.run.read_metrics(), self.settings)]:
            if warning.kind not in said:
                said.add(warning.kind)
                self.run.append_warning(warning.to_dict())
                say(f"warning: step {warning.step}: {warning.message}")


class GracefulStop(TrainerCallback):
    """Ctrl-C / SIGTERM: finish the current step, save a checkpoint, then stop (resumable, nothing lost)."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C means "now"
            raise KeyboardInterrupt
        self.requested = True
        print(f"\n[train] {signal.Signals(signum).name}: saving a checkpoint after this step "
              "(press Ctrl-C again to quit at once)", flush=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
