"""Build an argparse CLI from a config dataclass (shared by train, serve and eval).

Precedence, lowest first: dataclass defaults < `--preset NAME` < `--config file.yaml` < explicit flags.
Help text comes from `field(metadata={"help": ...})`, so the dataclass stays the single source of truth.
Only the standard library is imported here, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
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
    raise ValueError(f"expected true/false, got {text!r}")


def _base_type(tp):
    """The scalar type behind Optional[X] / X | None."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", object)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return tp


def _optional(tp) -> bool:
    return type(None) in typing.get_args(tp)


def coerce(value, tp, name: str = "value"):
    """One conversion for flags (text) and YAML (any type): `overwrite: "false"` is False, `1e-5` a float,
    and inf / nan are refused, so both paths give the same config or the same one-line error."""
    base = _base_type(tp)
    try:
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null"} and base is not str):
            if _optional(tp):
                return None
            raise ValueError("a value is required")
        if base is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str):
                return _str2bool(value)
            raise ValueError(f"expected true/false, got {value!r}")
        if base is int:
            if isinstance(value, (bool, list, dict)) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"expected a whole number, got {value!r}")
            try:
                return int(value) if not isinstance(value, str) else int(value.strip())
            except ValueError:
                raise ValueError(f"expected a whole number, got {value!r}") from None
        if base is float:
            if isinstance(value, (bool, list, dict)):
                raise ValueError(f"expected a number, got {value!r}")
            try:
                out = float(value)
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
            if not math.isfinite(out):
                raise ValueError(f"expected a finite number, got {value!r}")
            return out
        if typing.get_origin(base) in (list, tuple):
            inner = typing.get_args(base)[0] if typing.get_args(base) else str
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)):
                raise ValueError(f"expected a list, got {value!r}")
            return [coerce(t.strip() if isinstance(t, str) else t, inner, name) for t in items
                    if not (isinstance(t, str) and not t.strip())]
        if typing.get_origin(base) is dict or base is dict:
            if not isinstance(value, dict):
                raise ValueError(f"expected a mapping, got {value!r}")
            return dict(value)
        if base is str:
            if isinstance(value, (dict, list)):
                raise ValueError(f"expected text, got {value!r}")
            return str(value)
        return value
    except ConfigError:
        raise  # a list's item: already named
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{name}: {e}") from None


def _converter(tp, name: str):
    def conv(text):
        try:
            return coerce(text, tp, name)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e).split(": ", 1)[-1]) from None
    return conv


class _StoreOnce(argparse._StoreAction):
    """argparse's store, but a flag given twice (`--limit 2 ... --limit 5`) is an error, not "the last wins"."""

    def __call__(self, parser, namespace, values, option_string=None):
        if hasattr(namespace, self.dest):  # SUPPRESS default: set only by an earlier occurrence
            parser.error(f"{option_string} is given twice ({getattr(namespace, self.dest)!r}, then {values!r}); "
                         "give it once")
        super().__call__(parser, namespace, values, option_string)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is a ConfigError (one `error:` line from the command) instead of argparse's
    usage block plus error on stderr and a direct exit."""

    def error(self, message: str):
        raise ConfigError(f"{message} (see {self.prog} --help)")


def build_parser(cls, prog: str, description: str, presets: dict | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description=description,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if presets:
        parser.add_argument("--preset", choices=sorted(presets), default=argparse.SUPPRESS, action=_StoreOnce,
                            help="named recipe; flags override it")
    parser.add_argument("--config", default=argparse.SUPPRESS, action=_StoreOnce,
                        help="YAML file of field: value pairs; flags override it")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("cli") is False:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kwargs = dict(dest=f.name, default=argparse.SUPPRESS, action=_StoreOnce, help=f.metadata.get("help", "") +
                      f" (default: {default})")
        tp = _base_type(hints[f.name])
        if tp is bool:
            # `--flag` alone means true; `--flag false` is accepted too.
            kwargs.update(nargs="?", const=True, type=_converter(hints[f.name], flag), metavar="BOOL")
        else:
            kwargs.update(type=_converter(hints[f.name], flag), metavar=f.name.upper())
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag, **kwargs)
    return parser


def _unique_loader():
    """yaml.SafeLoader, but a key given twice is an error (PyYAML keeps the last one without a word)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:  # the line of the second one is named
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        raise yaml.constructor.ConstructorError(None, None, f"{key_node.value} is given twice",
                                                                key_node.start_mark)
                    seen.add(key_node.value)
            return super().construct_mapping(node, deep)

    return UniqueKeyLoader


def load_yaml(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--config {path}: {'is a folder, not a file' if p.is_dir() else 'no such file'}")
    import yaml  # only when asked for

    try:
        data = yaml.load(p.read_text(encoding="utf-8-sig"), Loader=_unique_loader()) or {}
    except UnicodeDecodeError as e:
        raise ConfigError(f"--config {path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"--config {path}: cannot read it ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"--config {path}{at}: not valid YAML ({str(e).splitlines()[0]})") from None
    except RecursionError:
        raise ConfigError(f"--config {path}: nested too deeply to be a config") from None
    except ValueError as e:  # PyYAML's int() of more than 4300 digits
        raise ConfigError(f"--config {path}: not a usable config ({str(e).split(':')[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a mapping of field: value, got a {type(data).__name__}")
    odd = [k for k in data if not isinstance(k, str)]
    if odd:
        raise ConfigError(f"--config {path}: {odd[0]!r} is not a field name (keys are option names like "
                          "max_steps)")
    return data


def typed_yaml(cls, path: str) -> dict:
    """The YAML file's values through the same converters as the flags, errors naming the file."""
    data = load_yaml(path)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"--config {path}: unknown option(s) {', '.join(unknown)}; see --help")
    if "preset" in data:  # it would only relabel the run: the preset's values come from --preset
        raise ConfigError(f"--config {path}: preset: choose it with --preset NAME (the file's values go on top)")
    return {k: coerce(v, hints[k], f"--config {path}: {k}") for k, v in data.items()}


def make_config(cls, values: dict):
    """Instantiate `cls` from a dict (flags, YAML, config.json), typed and checked, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; see --help")
    typed = {k: coerce(v, hints[k], k) for k, v in values.items()}
    try:
        return cls(**typed)
    except TypeError as e:
        raise ConfigError(str(e)) from None


def parse_config(cls, argv=None, prog="", description="", presets: dict | None = None,
                 extra: typing.Callable[[argparse.ArgumentParser], None] | None = None):
    """Parse argv into `cls`. Returns (config, namespace) — the namespace holds any `extra` arguments."""
    parser = build_parser(cls, prog, description, presets)
    if extra:
        extra(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    forwarded, argv = split_forwarded(argv, FORWARD_PREFIX if FORWARD_FIELD in
                                      {f.name for f in dataclasses.fields(cls)} else None, parser)
    ns = parser.parse_args(argv)
    values: dict = {}
    preset = getattr(ns, "preset", None)
    if preset:
        values.update(presets[preset])
        if "preset" in {f.name for f in dataclasses.fields(cls)}:
            values["preset"] = preset
    if getattr(ns, "config", None):
        values.update(typed_yaml(cls, ns.config))
    field_names = {f.name for f in dataclasses.fields(cls)}
    values.update({k: v for k, v in vars(ns).items() if k in field_names})
    if forwarded:
        values[FORWARD_FIELD] = {**(values.get(FORWARD_FIELD) or {}), **forwarded}
    return make_config(cls, values), ns


# `--trl.KEY VALUE` reaches any GRPOConfig field without re-declaring it (validated later, against TRL itself).
FORWARD_PREFIX, FORWARD_FIELD = "--trl.", "trl"


def split_forwarded(argv: list[str], prefix: str | None, parser) -> tuple[dict, list[str]]:
    """Pull `--trl.KEY VALUE` / `--trl.KEY=VALUE` out of argv (values stay text until TRL's types are known)."""
    if not prefix:
        return {}, argv
    out, rest, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith(prefix):
            key, eq, value = arg[len(prefix):].partition("=")
            if not eq:
                if i + 1 >= len(argv):
                    parser.error(f"{arg} needs a value")
                value, i = argv[i + 1], i + 1
            if not key.isidentifier():
                parser.error(f"{arg}: not a field name")
            if key in out:
                parser.error(f"{prefix}{key} is given twice ({out[key]!r}, then {value!r}); give it once")
            out[key] = value
        else:
            rest.append(arg)
        i += 1
    return out, rest
