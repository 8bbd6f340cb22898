"""Trainer callbacks: metrics.jsonl, a progress bar with step time and reward, and graceful interruption."""

from __future__ import annotations

import signal
import time

from transformers import TrainerCallback

from nano_r1.rundir import RunDir

# The keys TRL logs that the run folder keeps (prefix match), renamed to short stable names.
KEEP = ("reward", "rewards/", "completions/", "kl", "learning_rate", "loss", "grad_norm", "entropy",
        "clip_ratio", "frac_reward_zero_std", "step_time", "num_tokens")


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
