"""TrainConfig: presets, YAML and flag precedence, round trip through config.json, validation, fast --help."""

import json
import subprocess
import sys
import time

import pytest

from train.__main__ import parse
from nano_r1.cliargs import ConfigError, make_config
from train.config import PRESETS, TrainConfig


def test_nano_r1_preset_is_the_seed_recipe():
    cfg = parse(["--preset", "nano-r1"])
    assert cfg.model == "Qwen/Qwen2.5-3B-Instruct" and cfg.dataset == "gsm8k"
    assert (cfg.prompts_per_step, cfg.num_generations, cfg.completions_per_step) == (1, 12, 12)
    assert (cfg.max_completion_length, cfg.max_prompt_length) == (1024, 256)
    assert (cfg.lora_r, cfg.lora_alpha, cfg.learning_rate) == (64, 64, 5e-6)
    assert (cfg.adam_beta1, cfg.adam_beta2, cfg.weight_decay, cfg.warmup_ratio) == (0.9, 0.99, 0.1, 0.1)
    assert (cfg.lr_scheduler_type, cfg.max_grad_norm, cfg.max_steps, cfg.save_steps) == ("cosine", 0.1, 1000, 500)
    assert (cfg.beta, cfg.temperature, cfg.loss_type) == (0.04, 0.9, "grpo")
    assert set(cfg.lora_target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert cfg.run_dir.endswith("nano-r1")


def test_precedence_preset_yaml_flags(tmp_path):
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("max_steps: 7\nlearning_rate: 1.0e-4\nlora_target_modules: [q_proj, v_proj]\n")
    cfg = parse(["--preset", "tiny", "--config", str(yaml_file), "--learning-rate", "3e-4", "--resume", "false"])
    assert cfg.max_steps == 7                        # yaml over preset
    assert cfg.learning_rate == 3e-4                 # flag over yaml
    assert cfg.num_generations == PRESETS["tiny"]["num_generations"]  # preset over defaults
    assert cfg.lora_target_modules == ["q_proj", "v_proj"] and cfg.resume is False
    assert parse(["--preset", "tiny", "--lora-target-modules", "q_proj,k_proj"]).lora_target_modules == ["q_proj", "k_proj"]


def test_round_trip_through_config_json():
    cfg = parse(["--preset", "tiny", "--max-steps", "3", "--gradient-checkpointing", "true"])
    again = make_config(TrainConfig, json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize("args, message", [
    (["--num-generations", "1"], "at least 2"),
    (["--gradient-accumulation-steps", "3"], "must divide"),
    (["--max-steps", "0"], "positive"),
    (["--resume", "--overwrite"], "contradict"),
])
def test_validation(args, message):
    with pytest.raises(ConfigError, match=message):
        parse(["--preset", "tiny", *args])


def test_yaml_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_such_option: 1\n")
    with pytest.raises(ConfigError, match="unknown option"):
        parse(["--config", str(bad)])
    with pytest.raises(ConfigError, match="no such file"):
        parse(["--config", str(tmp_path / "missing.yaml")])


def test_help_is_fast():
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "train", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--preset" in proc.stdout and "--resume" in proc.stdout
    assert time.monotonic() - start < 2.0
