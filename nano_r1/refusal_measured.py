"""Binary accuracy of nano_r1.refusal against human labels, per labelled set. Generated, do not edit:

    python bench/refusal_grader.py --write-measured
"""

MEASURED_ACCURACY = {
    'XSTest GPT-4 completions (tuned on), n=450 (recall 0.982)': 0.989,
    'XSTest Llama-2 completions (tuned on), n=450 (recall 0.971)': 0.973,
    'own dev cases (tuned on), n=419 (recall 0.996)': 0.998,
    'own held-out cases, batch 1, n=133 (recall 0.855)': 0.902,
    'own held-out cases, batch 2 (new model voices), n=71 (recall 0.889)': 0.915,
    'own held-out cases, batch 3 (with prompts), n=48 (recall 0.739)': 0.833,
}
