"""EvalConfig and GradeConfig: the single source for `python -m eval` and `python -m eval grade` flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nano_r1 import apikey
from nano_r1.chat import system_prompt as resolve_system_prompt
from nano_r1.cliargs import ConfigError, coerce
from nano_r1.files import not_a_file
from nano_r1.rundir import RunDir
from nano_r1.tasks.base import Prompting

SYSTEM_PROMPT_CHOICES = ["default", "none"]
KEY_ENV = "OPENAI_API_KEY"  # the openai client's own variable


def check_base_url(url: str) -> None:
    """ConfigError unless `url` is http(s)://HOST...: `localhost:9` would otherwise read as scheme 'localhost'
    and fail as "cannot reach", which hides the real mistake."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"--base-url {url}: needs http:// or https:// in front (e.g. http://{url.split('://')[-1]}"
                          f"{'' if '/v1' in url else '/v1'})")
    try:
        parts.port  # noqa: B018 — raises on a port that is not a number or out of range
    except ValueError as e:
        raise ConfigError(f"--base-url {url}: {e}") from None
    if not parts.hostname:
        raise ConfigError(f"--base-url {url}: no host (e.g. http://127.0.0.1:8000/v1)")


# ServeConfig fields that eval sets itself, with what to use instead
SERVE_OWNED = {"model": "use --model (or --run)", "adapter": "use --adapter (or --run)",
               "port": "eval picks a free port", "api_key": "use --api-key-file (or --api-key)",
               "api_key_file": "use --api-key-file", "extra_args": "put vLLM's flags after `--`",
               "key_source": "eval sets it", "merged": "eval asks base and adapter on one server"}


def checked_serve_options(options: dict, vllm_args: list[str], base_url: str | None) -> dict:
    """`--serve.KEY VALUE` typed as `python -m serve` types them (nano_r1.cliargs.coerce), one line for an
    unknown or eval-owned key, and none at all with --base-url (eval then starts no server)."""
    if not options and not vllm_args:
        return {}
    if base_url:
        raise ConfigError("--serve.* and `-- vLLM flags` set up the server that eval starts; with --base-url it "
                          "starts none (drop one of them)")
    import dataclasses
    import typing

    from serve.config import ServeConfig

    hints = typing.get_type_hints(ServeConfig)
    known = {f.name: f for f in dataclasses.fields(ServeConfig) if f.init}
    typed = {}
    for key, value in options.items():
        flag = f"--serve.{key.replace('_', '-')}"
        if key in SERVE_OWNED:
            raise ConfigError(f"{flag}: {SERVE_OWNED[key]}")
        if key not in known:
            raise ConfigError(f"{flag}: not a `python -m serve` option (see python -m serve --help)")
        typed[key] = coerce(value, hints[key], flag)
        choices = known[key].metadata.get("choices")
        if choices and typed[key] not in choices:
            raise ConfigError(f"{flag} {typed[key]}: expected one of {', '.join(map(str, choices))}")
    return typed


@dataclass
class EvalConfig:
    # what to run
    suite: list[str] = field(default_factory=lambda: ["gsm8k"], metadata={
        "help": "comma-separated suites: gsm8k, math500, uncensored, xstest, reasoning, or a .jsonl suite file"})
    models: list[str] = field(default_factory=lambda: ["base", "nano-r1"], metadata={
        "help": "comma-separated served model names to compare (the first is the baseline)"})
    limit: int | None = field(default=None, metadata={"help": "first N items of each suite (all if unset)"})
    samples: int = field(default=1, metadata={"help": "replies per item and model"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0 = greedy)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling"})
    max_tokens: int = field(default=1024, metadata={"help": "completion tokens per reply"})
    seed: int = field(default=0, metadata={"help": "sampling seed; sample k uses seed + k"})
    system_prompt: str | None = field(default=None, metadata={
        "help": "'default' (prompts/system.txt), 'none' or a text file; unset = the --run's own training prompt, "
                "else 'default'"})
    one_shot: bool | None = field(default=None, metadata={
        "help": "prepend the one-shot example; unset = as the --run was trained, else off"})
    base_system_prompt: str = field(default="default", metadata={
        "help": "'default': every model gets the same messages (fair); 'none': the first model gets the bare "
                "question (no system prompt, no one-shot), reproducing the seed's comparison (labelled as such)",
        "choices": SYSTEM_PROMPT_CHOICES})
    # where the server is
    base_url: str | None = field(default=None, metadata={
        "help": "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1; unset = start `python -m serve`"})
    api_key: str | None = field(default=None, metadata={"help": "API key (visible in `ps`: prefer --api-key-file "
                                "or $OPENAI_API_KEY); default: $OPENAI_API_KEY, or a fresh random key for a server "
                                "we start"})
    api_key_file: str | None = field(default=None, metadata={"help": "read the API key from this file (one line)"})
    run: str | None = field(default=None, metadata={"help": "run folder (runs/NAME): supplies --model and --adapter "
                                                    "and adds its training curves to the report"})
    model: str | None = field(default=None, metadata={"help": "base model to serve when no --base-url"})
    adapter: str | None = field(default=None, metadata={"help": "LoRA adapter folder to serve as nano-r1"})
    # how
    concurrency: int = field(default=16, metadata={"help": "requests in flight"})
    timeout: float = field(default=600.0, metadata={"help": "seconds per request before it is retried"})
    retries: int = field(default=4, metadata={"help": "retries per request (exponential back-off)"})
    judge_model: str | None = field(default=None, metadata={
        "help": "served model that also classifies refusals (same server), reported beside the local grader"})
    # where results go
    output_dir: str = field(default="results/eval", metadata={"help": "store, summary, charts and report"})
    data_dir: str | None = field(default=None, metadata={
        "help": "folder with the benchmark files (gsm8k_test.jsonl, math500_test.jsonl, xstest_prompts.csv, ...); "
                "unset = load through `datasets` from the hub"})
    cards: int = field(default=4, metadata={"help": "answer cards per suite"})
    report_only: bool = field(default=False, metadata={"help": "redraw summary, charts and report from the store"})
    retry_failed: bool = field(default=False, metadata={"help": "ask again for the requests stored as failed "
                               "(e.g. refused as longer than the context, after restarting the server with a longer "
                               "--max-model-len); a changed sampling setting asks anew anyway"})
    # the server eval starts (no --base-url): `--serve.KEY VALUE` sets a `python -m serve` option, e.g.
    # --serve.max-model-len 4096; everything after `--` goes to vLLM as it is (serve's own `--`)
    serve: dict = field(default_factory=dict, metadata={"cli": False})
    vllm_args: list[str] = field(default_factory=list, metadata={"cli": False})

    def __post_init__(self):
        checks = [
            (bool(self.suite), "--suite needs at least one suite"),
            (bool(self.models), "--models needs at least one served model name"),
            (len(set(self.models)) == len(self.models), "--models lists a model twice"),
            (self.limit is None or self.limit > 0, "--limit must be positive"),
            (self.samples >= 1, "--samples must be at least 1"),
            (self.temperature >= 0, "--temperature must be >= 0"),
            (0 < self.top_p <= 1, "--top-p must be in (0, 1]"),
            (self.max_tokens > 0, "--max-tokens must be positive"),
            (self.concurrency >= 1, "--concurrency must be at least 1"),
            (self.timeout > 0 and self.retries >= 0, "--timeout must be positive and --retries >= 0"),
            (self.samples == 1 or self.temperature > 0, "--samples > 1 needs --temperature > 0 (greedy replies repeat)"),
            (self.cards >= 0, "--cards must be >= 0"),
            (-2**63 <= self.seed and self.seed + self.samples <= 2**63,  # vLLM answers 400 to every request
             "--seed must fit in 64 bits (sample k asks with seed + k)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.run and not RunDir(self.run).is_run():
            raise ConfigError(f"--run {self.run}: not a run folder (no config.json)")
        if self.data_dir and not Path(self.data_dir).expanduser().is_dir():  # a typo would drop every file of it
            raise ConfigError(f"--data-dir {self.data_dir}: no such folder")
        if Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            raise ConfigError(f"--output-dir {self.output_dir}: is a file, not a folder")
        if self.base_url is not None:
            check_base_url(self.base_url)
        if self.api_key and self.api_key_file:
            raise ConfigError("--api-key and --api-key-file: give one of them")
        self.resolved_api_key()  # a missing or malformed key file is reported now, before any server starts
        self.serve = checked_serve_options(self.serve, self.vllm_args, self.base_url)

    def sampling(self) -> dict:
        """The parameters that make two replies comparable; part of every store key."""
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                "seed": self.seed}

    def system_for(self, model: str) -> str:
        """'none' for the seed-style baseline, else 'default' (the shared prompt): part of every record."""
        return "none" if (self.base_system_prompt == "none" and model == self.models[0]) else "default"

    def prompting(self) -> Prompting:
        """The Prompting every model gets: the run's own unless set here."""
        own = RunDir(self.run).prompting() if self.run else Prompting(resolve_system_prompt("default"), False)
        return Prompting(own.system if self.system_prompt is None else resolve_system_prompt(self.system_prompt),
                         own.one_shot if self.one_shot is None else self.one_shot)

    def prompting_for(self, model: str) -> Prompting:
        return Prompting(None, False) if self.system_for(model) == "none" else self.prompting()

    def served_model_and_adapter(self) -> tuple[str | None, str | None]:
        """--model/--adapter, filled in from --run's config.json and adapter folder."""
        model, adapter = self.model, self.adapter
        if self.run:
            run = RunDir(self.run)
            model = model or run.base_model()
            adapter = adapter or str(run.adapter_path)
        return model, adapter

    def given_api_key(self) -> str | None:
        """--api-key-file, else --api-key: the key the user gave eval itself (None: not given)."""
        return apikey.resolve(self.api_key, self.api_key_file, "-", {})[0]

    def resolved_api_key(self) -> str:
        """The key for --base-url: given, else $OPENAI_API_KEY, else 'EMPTY' (a server without a key)."""
        return apikey.resolve(self.api_key, self.api_key_file, KEY_ENV)[0] or "EMPTY"

    def to_dict(self) -> dict:
        """What results/NAME/config.json keeps: never the key itself."""
        return asdict(self) | {"api_key": apikey.mask(self.api_key) if self.api_key else None}


@dataclass
class GradeConfig:
    grader: str = field(default="refusal", metadata={
        "help": "a task's grader: gsm8k, math500, reasoning, uncensored, xstest, or math / refusal (the shared ones)",
        "choices": ["refusal", "math", "gsm8k", "math500", "reasoning", "uncensored", "xstest"]})
    input: str = field(default="", metadata={"help": "JSONL with prompt, completion (and reference for math)"})
    output: str = field(default="", metadata={"help": "JSONL: every input field plus refusal or correct"})

    def __post_init__(self):
        if not self.input or not self.output:
            raise ConfigError("grade needs --input FILE.jsonl and --output FILE.jsonl")
        if not Path(self.input).is_file():
            raise ConfigError(f"--input {self.input}: {not_a_file(Path(self.input))}")
        if Path(self.output).is_dir():
            raise ConfigError(f"--output {self.output}: is a folder; give a file name (e.g. graded.jsonl)")
        blocking = next((p for p in Path(self.output).parents if p.exists() and not p.is_dir()), None)
        if blocking:  # mkdir would say only "File exists"
            raise ConfigError(f"--output {self.output}: {blocking} is a file, not a folder")
