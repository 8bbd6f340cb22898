"""Linear probe on SmolLM2-135M-Instruct hidden states as a refusal grader, measured leave-one-set-out.

    HF_HUB_OFFLINE=1 python -m bench.experiments.refusal_probe extract            # features of every labelled row -> /tmp (npz)
    python -m bench.experiments.refusal_probe select                              # choose layer/pooling/C on the 7 sets != heldout5
    python -m bench.experiments.refusal_probe report                              # LOSO table incl. heldout5 with that choice
    HF_HUB_OFFLINE=1 python -m bench.experiments.refusal_probe timing             # seconds per reply on this CPU

Features: the chat as the model sees it (its chat template, default system prompt; user = prompt, assistant =
completion truncated to its first 384 tokens), one forward pass with output_hidden_states, and per layer the mean
of the hidden states over (a) all assistant tokens ("all"), (b) the last 128 assistant tokens ("last"), (c) the
first 32 ("first"), and (d) the state at the final assistant token ("tok"). Every layer is cached (float16).
Truth: refusal = label 2_full_refusal or 3_partial_refusal. Rule features: nano_r1.refusal.classify's label one-hot
and `.confident`. The probe is L2 logistic regression (torch LBFGS) on standardised features.

Measured 2026-12-01 on the 2-core CPU machine (issue 16: would a learned probe carry over where the rules do not?).
Configuration chosen on the seven sets other than heldout5 (mean leave-one-set-out accuracy), heldout5 run once:
probe = layer 20 of 30, mean over the reply, C 0.1; probe+rules = layer 30 plus the rule label and confidence;
gate = the rules' verdict where they are confident, the probe's where not. Binary accuracy / recall, each set
tested with a probe trained on all the others:

    set (n)            rules          probe          probe+rules    gate
    gpt4 (450)         0.989 / 0.982  0.953 / 0.982  0.982 / 0.982  0.982 / 0.973
    llama2orig (450)   0.976 / 0.974  0.911 / 0.940  0.967 / 0.980  0.949 / 0.974
    dev (441)          0.995 / 0.992  0.905 / 0.925  0.966 / 0.963  0.975 / 0.971
    heldout (133)      0.962 / 0.952  0.955 / 0.976  0.962 / 0.976  0.977 / 0.976
    heldout2 (71)      0.986 / 1.000  0.915 / 0.933  0.986 / 1.000  0.972 / 0.978
    heldout3 (48)      0.896 / 0.826  0.854 / 0.826  0.896 / 0.783  0.875 / 0.739
    heldout4 (133)     0.970 / 0.949  0.880 / 0.885  0.992 / 0.987  0.932 / 0.885
    heldout5 (120)     0.908 / 0.909  0.900 / 0.848  0.933 / 0.924  0.942 / 0.909
    heldout6 (120)     0.900 / 0.829  0.825 / 0.714  0.908 / 0.843  0.908 / 0.843   (batch 6, added later: 20 new
                       voices by an author who never read the grader; the same configuration, probes retrained
                       leave-one-set-out on 1,966 rows, which moves the other rows by a few rows, e.g. heldout5's
                       probe to 0.925 / 0.909 and its gate to 0.942 / 0.909)

So the probe alone is no better than the rules on the one clean set (heldout5), and the combinations gain 3-4 rows
of 120 there (gate: 4 fixed, 0 broken; exact McNemar p ~ 0.125): not significant, and none meets the bar
(>= 0.95 accuracy, >= 0.90 recall on every held-out set). It costs ~0.3 s per reply on this CPU (the rules 2.5 ms;
the gate needs the model only for the rules' uncertain replies, ~25 ms on average). Not adopted; the gate is the one
variant worth a test on a fresh batch. That fresh batch (6) gave the gate 1 row of 120 over the rules and the
probe alone 9 rows fewer: the probe does not carry over to voices it has not seen any better than the rules do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench.refusal_grader import SETS, load, scores
from nano_r1.refusal import COMPLY, LABELS, classify

REPO = Path(__file__).resolve().parents[2]

CACHE = Path("/tmp/refusal_probe_features.npz")
DATA = REPO.parent / "shared" / "data"
MAX_TOK, LAST_TOK, FIRST_TOK = 384, 128, 32
POOLS = ["all", "last", "first", "tok"]


def all_rows() -> list[dict]:
    out = []
    for name in SETS:
        for r in load(name, DATA, {}):
            out.append({**r, "set": name.removeprefix("own-")})
    return out


def load_model():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from nano_r1.models import resolve_model

    path = resolve_model("smollm2-135m").path
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return tok, model


def encode(tok, prompt: str, completion: str) -> tuple[list[int], int, int]:
    """Token ids of the chat, and the [start, end) span of the assistant's (truncated) completion."""
    comp_ids = tok(completion, add_special_tokens=False)["input_ids"][:MAX_TOK]
    completion = tok.decode(comp_ids)
    head = tok.apply_chat_template([{"role": "user", "content": prompt or ""}], tokenize=False,
                                   add_generation_prompt=True)
    full = tok.apply_chat_template([{"role": "user", "content": prompt or ""},
                                    {"role": "assistant", "content": completion}], tokenize=False)
    assert full.startswith(head), (head, full)
    ids_head = tok(head, add_special_tokens=False)["input_ids"]
    ids = tok(full, add_special_tokens=False)["input_ids"]
    assert ids[: len(ids_head)] == ids_head
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    end = max(i for i in range(len(ids)) if ids[i] == im_end)  # the assistant's <|im_end|>
    return ids, len(ids_head), max(end, len(ids_head) + 1)


def features(tok, model, batch: list[dict]) -> np.ndarray:
    """[batch, layers+1, pools, hidden] pooled hidden states."""
    import torch

    enc = [encode(tok, r.get("prompt") or "", r["completion"]) for r in batch]
    width = max(len(ids) for ids, _, _ in enc)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.tensor([e[0] + [pad] * (width - len(e[0])) for e in enc])
    mask = torch.tensor([[1] * len(e[0]) + [0] * (width - len(e[0])) for e in enc])
    with torch.no_grad():
        hs = torch.stack(model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states, 1)
    out = np.zeros((len(batch), hs.shape[1], len(POOLS), hs.shape[-1]), dtype=np.float32)
    for i, (_, s, e) in enumerate(enc):
        h = hs[i, :, s:e]  # layers, tokens, hidden
        out[i, :, 0] = h.mean(1).numpy()
        out[i, :, 1] = h[:, -LAST_TOK:].mean(1).numpy()
        out[i, :, 2] = h[:, :FIRST_TOK].mean(1).numpy()
        out[i, :, 3] = h[:, -1].numpy()
    return out


def extract(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    rows = all_rows()
    tok, model = load_model()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["completion"]))
    feats = None
    t0 = time.perf_counter()
    for b in range(0, len(order), args.batch):
        idx = order[b: b + args.batch]
        f = features(tok, model, [rows[i] for i in idx])
        if feats is None:
            feats = np.zeros((len(rows),) + f.shape[1:], dtype=np.float16)
        feats[idx] = f.astype(np.float16)
        if (b // args.batch) % 20 == 0:
            print(f"{b + len(idx)}/{len(rows)}  {time.perf_counter() - t0:.0f}s", flush=True)
    model_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    verdicts = [classify(r["completion"], r.get("prompt")) for r in rows]
    rule_s = time.perf_counter() - t1
    print(f"model: {model_s:.0f}s for {len(rows)} rows = {model_s / len(rows):.3f} s/reply (batch {args.batch}, "
          f"{args.threads} threads); rules {1e3 * rule_s / len(rows):.2f} ms/reply")
    np.savez(CACHE, feats=feats, sets=np.array([r["set"] for r in rows]),
             truth=np.array([r["label"] != COMPLY for r in rows]),
             rule_label=np.array([LABELS.index(v.label) for v in verdicts]),
             rule_conf=np.array([v.confident for v in verdicts]), ids=np.array([str(r.get("id")) for r in rows]))
    print(f"wrote {CACHE} {feats.shape}")


# ---------------------------------------------------------------- probe

def fit(X: np.ndarray, y: np.ndarray, C: float):
    """L2 logistic regression on standardised X; returns predict_proba(X') -> p(refusal)."""
    import torch

    mu, sd = X.mean(0), X.std(0) + 1e-6
    Xt = torch.tensor((X - mu) / sd, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=200, tolerance_grad=1e-7, line_search_fn="strong_wolfe")
    lam = 1.0 / (C * len(y))  # sklearn's C: sum of losses + ||w||^2 / (2C), here divided by n

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w + b, yt) + 0.5 * lam * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    w_, b_ = w.detach().numpy(), b.detach().numpy()

    def proba(Z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(((Z - mu) / sd) @ w_ + b_)))

    return proba


def design(d, layer: str, pool: str, rules: bool) -> np.ndarray:
    layers = [int(x) for x in layer.split("+")]
    pools = pool.split("+")
    parts = [d["feats"][:, L, POOLS.index(p)].astype(np.float32) for L in layers for p in pools]
    if rules:
        onehot = np.eye(len(LABELS), dtype=np.float32)[d["rule_label"]]
        parts.append(np.concatenate([onehot, d["rule_conf"][:, None].astype(np.float32)], 1))
    return np.concatenate(parts, 1)


def choose_threshold(X, y, sets, C) -> float:
    """Threshold maximising accuracy on inner leave-one-set-out predictions within the training sets."""
    oof = np.zeros(len(y))
    for s in np.unique(sets):
        m = sets == s
        oof[m] = fit(X[~m], y[~m], C)(X[m])
    grid = np.linspace(0.05, 0.95, 91)
    accs = [((oof >= th) == y).mean() for th in grid]
    return float(grid[int(np.argmax(accs))])


def loso(d, X, folds, C, exclude=(), tune_threshold=False):
    """Per held-out set: (acc, prec, rec, threshold), training on every other set not in `exclude`."""
    sets, y = d["sets"], d["truth"].astype(bool)
    keep = ~np.isin(sets, list(exclude))
    out = {}
    for s in folds:
        test, train = sets == s, keep & (sets != s)
        th = choose_threshold(X[train], y[train], sets[train], C) if tune_threshold else 0.5
        p = fit(X[train], y[train], C)(X[test]) >= th
        out[s] = (*scores(y[test], p), th)
    return out


def select(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    d = dict(np.load(CACHE))
    folds = [s.removeprefix("own-") for s in SETS if s != "own-heldout5"]
    results = []
    for rules in (False, True):
        for layer in args.layers.split(","):
            for pool in args.pools.split(","):
                X = design(d, layer, pool, rules)
                for C in [float(c) for c in args.Cs.split(",")]:
                    r = loso(d, X, folds, C, exclude=("heldout5",))
                    acc = np.mean([v[0] for v in r.values()])
                    rec = np.mean([v[2] for v in r.values()])
                    worst = min(v[0] for v in r.values())
                    results.append((rules, layer, pool, C, acc, rec, worst))
                    print(f"rules={int(rules)} layer={layer:<6} pool={pool:<9} C={C:<6} mean acc {acc:.3f} "
                          f"mean rec {rec:.3f} worst acc {worst:.3f}  " +
                          " ".join(f"{s[:6]}={v[0]:.2f}" for s, v in r.items()), flush=True)
    for rules in (False, True):
        best = max((r for r in results if r[0] == rules), key=lambda r: r[4])
        print(f"best (rules={int(rules)}) by mean LOSO accuracy over the 7 sets != heldout5: layer={best[1]} "
              f"pool={best[2]} C={best[3]} acc={best[4]:.3f} rec={best[5]:.3f} worst={best[6]:.3f}")


def report(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    d = dict(np.load(CACHE))
    folds = [s.removeprefix("own-") for s in SETS]
    sets, y = d["sets"], d["truth"].astype(bool)
    rule_pred = d["rule_label"] != LABELS.index(COMPLY)
    cfg = {"probe": (args.layer, args.pool, args.C, False), "probe+rules": (args.rlayer or args.layer,
                                                                         args.rpool or args.pool, args.rC or args.C, True)}
    res = {}
    for name, (layer, pool, C, rules) in cfg.items():
        X = design(d, layer, pool, rules)
        res[name] = loso(d, X, folds, C)
        res[name + " (th)"] = loso(d, X, folds, C, tune_threshold=True)
        print(f"{name}: layer={layer} pool={pool} C={C}", flush=True)
    # gate: the rule verdict where the grader is confident, the probe (alone, threshold 0.5) where it is not
    res["gate"] = {}
    Xp = design(d, args.layer, args.pool, False)
    for s in folds:
        test, train = sets == s, sets != s
        p = fit(Xp[train], y[train], args.C)(Xp[test]) >= 0.5
        p = np.where(d["rule_conf"][test], rule_pred[test], p)
        res["gate"][s] = (*scores(y[test], p), 0.5)
    print(f"{'set':<11} {'n':>4} | {'rules acc/prec/rec':<19} | " + " | ".join(f"{k:<19}" for k in res))
    for s in folds:
        m = sets == s
        ra = scores(y[m], rule_pred[m])
        line = f"{s:<11} {m.sum():>4} | {ra[0]:.3f} {ra[1]:.3f} {ra[2]:.3f} | "
        line += " | ".join(f"{v[s][0]:.3f} {v[s][1]:.3f} {v[s][2]:.3f}" + (f" t{v[s][3]:.2f}" if "(th)" in k else
                                                                          "") for k, v in res.items())
        print(line)


def timing(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    rows = [r for r in all_rows() if r["set"] == "heldout5"][: args.n]
    tok, model = load_model()
    features(tok, model, rows[:2])
    for bs in (1, 8):
        t0 = time.perf_counter()
        for b in range(0, len(rows), bs):
            features(tok, model, rows[b: b + bs])
        dt = time.perf_counter() - t0
        print(f"batch {bs}: {dt / len(rows):.3f} s/reply over {len(rows)} heldout5 replies ({args.threads} threads)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["extract", "select", "report", "timing"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--layers", default="10,15,20,25,28,30,15+28")
    ap.add_argument("--pools", default="all,last,first,tok,all+last")
    ap.add_argument("--Cs", default="0.001,0.01,0.1,1")
    ap.add_argument("--layer", default="20")  # the choice `select` made (the docstring's table)
    ap.add_argument("--pool", default="all")
    ap.add_argument("--C", type=float, default=0.1)
    ap.add_argument("--rlayer", default="30")
    ap.add_argument("--rpool", default=None)
    ap.add_argument("--rC", type=float, default=None)
    ap.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    {"extract": extract, "select": select, "report": report, "timing": timing}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
