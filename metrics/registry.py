"""Read `themes/` into one `SemanticModel`, collecting every problem in one pass.

>>> m = load_model()
>>> m.metrics["cmi"].kind
'ratio'
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from warehouse import settings as wsettings
from warehouse.errors import ModelError

from .model import DimensionsFile, EnumDimension, Fact, Measure, Metric, Theme
from .yaml_lines import YamlSyntaxError, load_file, locate

PACKAGED_THEMES = Path(__file__).resolve().parent.parent / "themes"


@dataclass
class SemanticModel:
    facts: dict[str, Fact] = field(default_factory=dict)
    measures: dict[str, tuple[Fact, Measure]] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    metric_theme: dict[str, str] = field(default_factory=dict)
    themes: dict[str, Theme] = field(default_factory=dict)
    enums: dict[str, EnumDimension] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    setting_docs: dict[str, str] = field(default_factory=dict)
    #: file:line of every fact, measure, metric (for messages)
    where: dict[tuple[str, str], str] = field(default_factory=dict)



def _from_env(name: str, default):
    """A model setting (the catalogue's pinned default), overridden by COCKPIT_<NAME>."""
    env = os.environ.get("COCKPIT_" + name.upper())
    if env is None:
        return default
    if isinstance(default, bool):
        return env.strip().lower() in ("1", "true", "yes", "y")
    try:
        return type(default)(env)
    except ValueError:
        raise ModelError([f"COCKPIT_{name.upper()}={env!r}: expected a "
                          f"{type(default).__name__} like {default!r}"]) from None


def themes_dir(path: str | Path | None = None) -> Path:
    return Path(path or wsettings.get("themes") or PACKAGED_THEMES)


def parse_files(directory: Path) -> tuple[SemanticModel, list[str]]:
    """Parse every YAML file; return the model and the structural problems found."""
    problems: list[str] = []
    model = SemanticModel()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        return model, [f"{directory}: no *.yaml files (expected dimensions.yaml and themes)"]
    for path in files:
        display = _display(path)
        try:
            doc = load_file(path, display)
        except YamlSyntaxError as e:
            problems.append(str(e))
            continue
        cls = DimensionsFile if path.name == "dimensions.yaml" else Theme
        try:
            parsed = cls.model_validate(doc)
        except ValidationError as e:
            for err in e.errors():
                problems.append(f"{locate(doc, tuple(err['loc']))}: {_pydantic_message(err)}")
            continue
        if isinstance(parsed, DimensionsFile):
            for enum in parsed.enums:
                model.enums[enum.name] = enum
            for s in parsed.settings:
                model.settings[s.name] = _from_env(s.name, s.default)
                model.setting_docs[s.name] = s.description
            continue
        model.themes[parsed.theme] = parsed
        for fi, fact in enumerate(parsed.facts):
            fdoc = doc["facts"][fi]
            model.where[("fact", fact.name)] = locate(doc, ("facts", fi))
            if fact.name in model.facts:
                problems.append(f"{locate(doc, ('facts', fi))}: fact {fact.name!r} is defined "
                                f"twice (also at {model.where[('fact', fact.name)]})")
            model.facts[fact.name] = fact
            for mi, measure in enumerate(fact.measures):
                loc = locate(fdoc, ("measures", mi))
                if measure.name in model.measures:
                    problems.append(f"{loc}: measure {measure.name!r} is defined twice (also in "
                                    f"fact {model.measures[measure.name][0].name!r}); measure "
                                    "names are global")
                model.measures[measure.name] = (fact, measure)
                model.where[("measure", measure.name)] = loc
        for mi, metric in enumerate(parsed.metrics):
            loc = locate(doc, ("metrics", mi))
            if metric.id in model.metrics:
                problems.append(f"{loc}: metric {metric.id!r} is defined twice (also at "
                                f"{model.where[('metric', metric.id)]})")
            model.metrics[metric.id] = metric
            model.metric_theme[metric.id] = parsed.theme
            model.where[("metric", metric.id)] = loc
    return model, problems


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _pydantic_message(err: dict) -> str:
    field_name = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "document"
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r} (remove it or check its spelling)"
    if err["type"] == "missing":
        return f"missing required key {err['loc'][-1]!r}"
    if err["type"] == "literal_error":
        return f"{field_name}: {err['msg']} (found {err.get('input')!r})"
    return f"{field_name}: {err['msg']}"


def check_model(path: str | Path | None = None):
    """All problems of the model in `path`: (model, list of Issue). Only the CLI decides."""
    from .rules import run_rules

    model, problems = parse_files(themes_dir(path))
    from .rules import Issue

    issues = [Issue("error", p) for p in problems]
    if not problems:
        issues += run_rules(model)
    return model, issues


#: cached models kept (one per themes folder, model code and model settings)
KEEP_MODELS = 8
#: source files whose change can change the validated model (besides the YAML)
_MODEL_CODE = ("metrics/model.py", "metrics/registry.py", "metrics/rules.py",
               "metrics/yaml_lines.py", "metrics/dimensions.py", "warehouse/contract.py",
               "warehouse/calendar.py")


def _cache_key(path: str) -> str:
    """Everything the validated model depends on: the YAML files, the code that parses and
    checks them, the model settings in the environment (COCKPIT_* other than the deployment
    settings of `warehouse.settings`) and the library versions."""
    import hashlib
    import platform

    import pydantic

    h = hashlib.sha256()
    for f in sorted(Path(path).glob("*.yaml")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    root = Path(__file__).resolve().parent.parent
    for rel in _MODEL_CODE:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    deployment = {st.env for st in wsettings.SETTINGS}  # db, home, users …: not the model's
    for k in sorted(os.environ):
        if k.startswith("COCKPIT_") and k not in deployment:
            h.update(f"{k}={os.environ[k]}\0".encode())
    h.update(f"{platform.python_version()} {pydantic.VERSION}".encode())
    return h.hexdigest()[:32]


def _from_disk(path: str) -> SemanticModel | None:
    """The validated model from the disk cache (`COCKPIT_MODEL_CACHE`), if its key matches:
    parsing and checking the YAML costs ~1.5 s of a CLI command's 2 s; unpickling ~5 ms."""
    import pickle

    folder = wsettings.get("model_cache")
    if not folder:
        return None
    f = Path(folder).expanduser() / f"model-{_cache_key(path)}.pickle"
    try:
        with open(f, "rb") as fh:
            model = pickle.load(fh)  # noqa: S301 - our own file, keyed by content hash
        return model if isinstance(model, SemanticModel) else None
    except Exception:  # absent, unreadable, or from an incompatible build: parse again
        return None


def _to_disk(path: str, model: SemanticModel) -> None:
    import pickle
    import tempfile

    folder = wsettings.get("model_cache")
    if not folder:
        return
    target = Path(folder).expanduser() / f"model-{_cache_key(path)}.pickle"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            pickle.dump(model, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, target)
        for old in sorted(target.parent.glob("model-*.pickle"), key=lambda f: f.stat().st_mtime,
                          reverse=True)[KEEP_MODELS:]:
            old.unlink(missing_ok=True)  # keep the folder small: the newest few only
    except OSError:  # a read-only home: no cache, still correct
        pass


@lru_cache(maxsize=4)
def _cached(path: str) -> SemanticModel:
    model = _from_disk(path)
    if model is not None:
        return model
    model, issues = check_model(path)
    errors = [i.message for i in issues if i.level == "error"]
    if errors:
        raise ModelError(errors)
    _to_disk(path, model)  # only a model that passed every check is cached
    return model


def load_model(path: str | Path | None = None) -> SemanticModel:
    """The validated model (cached per folder); raises ModelError listing every problem."""
    return _cached(str(themes_dir(path).resolve()))
