"""Build an argparse CLI from a config dataclass (shared by train, serve and eval).

Precedence, lowest first: dataclass defaults < `--preset NAME` < `--config file.yaml` < explicit flags.
Help text comes from `field(metadata={"help": ...})`, so the dataclass stays the single source of truth.
Only the standard library is imported here, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path


class ConfigError(ValueError):
    """A user mistake in the configuration: reported as one line, never a traceback."""


def _str2bool(text: str) -> bool:
    low = text.lower()
    if low in {"1", "true", "yes", "y", "on"}:
        return True
    if low in {"0", "false", "no", "n", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _base_type(tp):
    """The scalar type behind Optional[X] / X | None."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", object)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return tp


def _converter(tp):
    tp = _base_type(tp)
    if tp is bool:
        return _str2bool
    if tp in (int, float):
        def conv(text, tp=tp):
            if text.lower() in {"none", "null"}:
                return None
            return tp(text)
        return conv
    if typing.get_origin(tp) in (list, tuple):
        inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
        return lambda text: [_converter(inner)(t) for t in text.split(",") if t]
    return str


def build_parser(cls, prog: str, description: str, presets: dict | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if presets:
        parser.add_argument("--preset", choices=sorted(presets), default=None,
                            help="named recipe; flags override it")
    parser.add_argument("--config", default=None, help="YAML file of field: value pairs; flags override it")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("cli") is False:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kwargs = dict(dest=f.name, default=argparse.SUPPRESS, help=f.metadata.get("help", "") +
                      f" (default: {default})")
        tp = _base_type(hints[f.name])
        if tp is bool:
            # `--flag` alone means true; `--flag false` is accepted too.
            kwargs.update(nargs="?", const=True, type=_str2bool, metavar="BOOL")
        else:
            kwargs.update(type=_converter(hints[f.name]), metavar=f.name.upper())
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag, **kwargs)
    return parser


def load_yaml(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--config {path}: no such file")
    import yaml  # only when asked for

    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"--config {path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a mapping of field: value")
    return data


def make_config(cls, values: dict):
    """Instantiate `cls` from a dict, rejecting unknown keys with a helpful message."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; see --help")
    try:
        return cls(**values)
    except TypeError as e:
        raise ConfigError(str(e)) from None


def parse_config(cls, argv=None, prog="", description="", presets: dict | None = None,
                 extra: typing.Callable[[argparse.ArgumentParser], None] | None = None):
    """Parse argv into `cls`. Returns (config, namespace) — the namespace holds any `extra` arguments."""
    parser = build_parser(cls, prog, description, presets)
    if extra:
        extra(parser)
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    values: dict = {}
    preset = getattr(ns, "preset", None)
    if preset:
        values.update(presets[preset])
        if "preset" in {f.name for f in dataclasses.fields(cls)}:
            values["preset"] = preset
    if ns.config:
        values.update(load_yaml(ns.config))
    field_names = {f.name for f in dataclasses.fields(cls)}
    values.update({k: v for k, v in vars(ns).items() if k in field_names})
    return make_config(cls, values), ns
