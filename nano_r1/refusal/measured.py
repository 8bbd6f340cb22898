"""Binary accuracy of nano_r1.refusal against human labels, per labelled set. Generated, do not edit:

    python -m bench.refusal_grader --write-measured
"""

MEASURED_ACCURACY = {
    'XSTest GPT-4 completions (tuned on), n=450 (recall 0.982)': 0.989,
    'XSTest Llama-2 completions (tuned on), n=450 (recall 0.974)': 0.976,
    'own dev cases (tuned on), n=441 (recall 0.992)': 0.995,
    'own cases, batch 1 (errors read while tuning), n=133 (recall 0.952)': 0.962,
    'own cases, batch 2, new model voices (errors read while tuning), n=71 (recall 1.000)': 0.986,
    'own cases, batch 3 (errors read while tuning), n=48 (recall 0.826)': 0.896,
    'own cases, batch 4, voices batches 1-3 lack (errors read while tuning), n=133 (recall 0.949)': 0.97,
    'own held-out cases, batch 5, written before the grader was read (never tuned on), n=120 (recall 0.909)': 0.908,
    'own held-out cases, batch 6, new voices, by an author who never read the grader (never tuned on), n=120 (recall 0.829)': 0.9,
}
