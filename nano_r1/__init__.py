"""The shared core of nano-r1: what train, serve and eval all use, and which imports none of them.

  cliargs   dataclass → argparse CLI, presets, YAML; ConfigError (one-line user errors)
  env       machine facts without importing torch (CUDA present?), NVLink-multicast-off environment
  install   a broken install (CUDA torchvision next to CPU torch) as one line: run `python -m serve.setup_cpu`
  models    --model resolution (hub id, folder, .gguf, the embedded smollm2-135m)
  chat      system prompt resolution, the one-shot example, chat messages (one builder for train and eval)
  tasks/    one definition per benchmark: items, messages, grading (rewards, in-training eval and eval use it)
  grading   answer extraction and numeric / math-verify equivalence
  refusal   the local refusal grader
  selfcheck self-verification markers in reasoning ("Wait, …"), the aha step
  rundir    the run folder: the only code that knows its layout
  chart     metrics.jsonl → chart.png
  plot      matplotlib set up once (headless)
"""
