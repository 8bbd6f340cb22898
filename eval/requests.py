"""Every request an evaluation asks for — (model, suite, item, sample) with its messages, sampling and store key —
in a stable order. The runner asks for the ones the store lacks; the report keeps the ones the config wants."""

from __future__ import annotations

import hashlib
import json

from eval.client import Request
from eval.config import EvalConfig
from eval.store import record_key
from nano_r1.tasks import Task


def digest(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:12]


def build_requests(cfg: EvalConfig, suites: list[Task]) -> list[Request]:
    """Every (model, suite, item, sample) the config asks for, in a stable order."""
    sampling = cfg.sampling()
    requests = []
    for suite in suites:
        items = suite.load(cfg.data_dir)[: cfg.limit]
        for model in cfg.models:
            system_kind = cfg.system_for(model)
            prompting = cfg.prompting_for(model)
            for item in items:
                messages = suite.messages(item, prompting)
                for sample in range(cfg.samples):
                    params = {**sampling, "seed": cfg.seed + sample}
                    key = record_key(model, suite.name, suite.version, item.id, sample, digest(messages), params)
                    requests.append(Request(key, model, messages, params, {
                        "suite": suite.name, "suite_version": suite.version, "item": item.id, "sample": sample,
                        "system_prompt": system_kind, "prompt": item.prompt, "reference": item.reference,
                        "meta": item.meta}))
    return requests
