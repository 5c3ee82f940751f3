"""A sweep SPEC (YAML): which trials to train, at what budget, and what to measure at the end of each.

    configs:                      # the rows: presets (configs/NAME.yaml), config files, or mappings
      - vanilla
      - {preset: wgan-gp, name: wgan-gp-report, set: {optim.lr_g: 4.0e-4, optim.lr_d: 4.0e-4}}
      - {config: path/to/config.yaml, seeds: [0, 1, 2, 3, 4]}    # a row may have its own seeds
      - {preset: r1, full_seeds: [0, 1, 2]}  # ... and its own seeds measured with the full protocol (besides evaluate's)
      - {preset: vanilla, samplers: [{name: drs, chain: drs, choose: {drs.percentile: [50, 80, 90]}}]}
                                  # latent samplers measured on each trained base (ganlab/sweeps/samplers.py)
    grid: {optim.lr_d: [1.0e-4, 2.0e-4]}   # optional: every combination, applied to every row
    set: {train.sample_every: 10}          # optional: fixed overrides of every trial
    seeds: [0, 1, 2]
    epochs: 100                            # the budget of every trial (train.epochs)
    evaluate: {n: 10000, full: false, ref: test}   # classifier metrics always; the 10k protocol with full
                                           # (or only for some seeds: full_seeds: [0])
    search:                                # optional, instead of the grid: Optuna through Ray Tune
      metric: mnist_fid                    # optimised (mode: min, or max for a higher-is-better metric), against ``ref`` (train by default)
      trials: 20
      space: {optim.lr_d: {loguniform: [1.0e-5, 1.0e-3]}, train.n_critic: {choice: [1, 5]}}
    stop: {collapsed_epochs: 10}           # optional: stop a trial whose G gave one image for 10 epochs (sweeps/stop.py)

Trials run seed by seed (every row's first seed, then every row's second, ...). Every trial is a full ganlab config (the row's preset + ``set`` + the grid point + the seed + the budget),
checked here before any trial starts: an unknown preset, key or value is a one-line error naming it.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import re
from pathlib import Path
from typing import Any


from ..devices import resolve_precision
from ..errors import GanlabError
from ..io import read_yaml
from ..metrics import registry
from ..training import config as config_mod
from . import stop as stop_mod
from .samplers import check_items, check_report

CONFIGS = config_mod.PRESETS
TOP_KEYS = ("configs", "grid", "set", "seeds", "epochs", "evaluate", "search", "stop", "name")
EVAL_KEYS = {"n": int, "full": bool, "ref": str, "full_seeds": list}
SEARCH_KEYS = ("metric", "trials", "space", "ref", "mode")
SPACES = ("uniform", "loguniform", "choice", "randint")
#: what a sweep sets per trial without it being part of the experiment (excluded when configs are compared)
RUNTIME_KEYS = (("train", "threads"), ("train", "device"))


@dataclasses.dataclass
class Row:
    """One config of the table: its name and the overrides (dotted key -> value) that make it."""

    name: str
    source: str  # the preset name or config path
    mapping: dict  # the YAML mapping of the preset or file
    overrides: dict
    seeds: list[int] | None = None  # this row's own seeds (default: the SPEC's)
    samplers: list[dict] | None = None  # latent samplers measured on each trained base (sweeps/samplers.py)
    report: dict | None = None  # a report's own numbers for this row, measured on its own protocol (shown beside)
    full_seeds: list[int] | None = None  # this row's seeds measured with the full protocol (besides evaluate's)
    auto_precision: bool = False  # its train.precision was left on auto and resolved where the SPEC was read


@dataclasses.dataclass
class Spec:
    rows: list[Row]
    seeds: list[int]
    epochs: int | None
    evaluate: dict
    search: dict | None
    raw: dict  # the SPEC as given (after YAML), kept in the sweep folder and compared on --resume
    stop: dict | None = None  # the stopping rule for dead trials (sweeps/stop.py)

    def trials(self) -> list[dict]:
        """Every trial of a grid sweep, {name, row, seed, config} with the resolved config as a mapping, seed by
        seed: every row's first seed before any row's second, so a sweep stopped early covers every row."""
        seeds = [row.seeds or self.seeds for row in self.rows]
        return [trial(row, s[i], self.epochs) for i in range(max(map(len, seeds)))
                for row, s in zip(self.rows, seeds) if i < len(s)]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_+-]+", "_", text).strip("_")


def _value_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).replace(" ", "")


def row_name(base: str, point: dict) -> str:
    """``wgan-gp`` + {optim.lr_d: 1e-4} -> ``wgan-gp_lr_d=0.0001``."""
    return base + "".join(f"_{k.split('.')[-1]}={_value_text(v)}" for k, v in point.items())


def trial(row: Row, seed: int, epochs: int | None, point: dict | None = None) -> dict:
    """One trial: the row (with a search's ``point`` of overrides, if any) at ``seed`` and the budget."""
    cfg = build_config(row, seed, epochs, extra=point or {})
    name = row_name(row.name, point or {})
    return {"name": slug(f"{name}-s{seed}"), "row": name, "seed": seed, "config": config_mod.to_dict(cfg),
            **({"point": point} if point else {}), **({"samplers": row.samplers} if row.samplers else {}),
            **({"full": True} if seed in (row.full_seeds or []) else {})}


_UNSET = object()


def _train_key(mapping: dict, overrides: dict, key: str, default=_UNSET):
    """train.KEY as a row gives it: its override, else its config's train section (when that is a mapping)."""
    train = mapping.get("train") if isinstance(mapping, dict) else None
    return overrides.get(f"train.{key}", train.get(key, default) if isinstance(train, dict) else default)


def with_precision(row: Row) -> Row:
    """The row with its training arithmetic explicit in its overrides: ``auto`` (the default) resolved on the machine
    that reads the SPEC, so the sweep's record says what its trials train in wherever they run, and a sweep recorded
    before the default was auto (``stored_row``) reads as the fp32 it trained in."""
    given = _train_key(row.mapping, row.overrides, "precision", "auto")
    device = _train_key(row.mapping, row.overrides, "device", "auto")
    if given not in config_mod.CHOICES["train.precision"] or device not in config_mod.CHOICES["train.device"]:
        return row  # build_config names the bad value
    return dataclasses.replace(row, overrides={**row.overrides, "train.precision": resolve_precision(given, device)},
                               auto_precision=given == "auto")


def stored_row(row: dict) -> dict:
    """A row of a sweep's record: one recorded before rows carried their precision trained in fp32 (the default then)."""
    if _train_key(row.get("mapping") or {}, row.get("overrides") or {}, "precision") is not _UNSET:
        return row
    return {**row, "overrides": {**(row.get("overrides") or {}), "train.precision": "fp32"}}


def build_config(row: Row, seed: int, epochs: int | None, extra: dict):
    """The row's config with its overrides, ``extra`` (a search point), the seed and the budget; checked."""
    overrides = {**row.overrides, **extra, "seed": seed}
    if epochs is not None:
        overrides["train.epochs"] = epochs
    try:
        cfg = config_mod.from_dict(row.mapping)
        config_mod._apply(cfg, config_mod.dotted_tree(overrides))
        return config_mod.validate(cfg)
    except GanlabError as exc:
        raise GanlabError(f"SPEC row '{row.name}' ({row.source}): {exc}") from None


def evaluation_for(evaluate: dict, trial: dict) -> dict:
    """A trial's evaluation settings: the full protocol when ``evaluate.full``, when its seed is one of
    ``evaluate.full_seeds`` (e.g. FID, P, R, D, C on seed 0 of every row, classifier metrics on the others), or when
    its row's ``full_seeds`` name it (``full`` in the trial)."""
    full = evaluate["full"] or trial["seed"] in evaluate.get("full_seeds", []) or trial.get("full", False)
    return {**evaluate, "full": bool(full)}


def comparable(mapping: dict) -> dict:
    """A trial's config with every key filled in (a key that ganlab gained after the config was written, e.g.
    train.phases, holds its default, which trains what the older config trained), without the keys a sweep sets per
    machine (threads, device), and without the periodic evaluation's settings when it is off (eval.every 0: they
    change nothing)."""
    d = config_mod.to_dict(config_mod.from_dict(config_mod.as_stored(mapping)))
    for section, key in RUNTIME_KEYS:
        d.get(section, {}).pop(key, None)
    if not d.get("eval", {}).get("every"):
        d.pop("eval", None)
    return d


def _flat(key: str, value: Any) -> dict:
    """``set: {optim: {lr_d: 1}}`` and ``set: {optim.lr_d: 1}`` alike -> {"optim.lr_d": 1}."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flat(f"{key}.{k}" if key else str(k), v))
        return out
    return {key: value}


def _mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GanlabError(f"SPEC key '{where}' must be a mapping, got {value!r}")
    return _flat("", value)


def _load_row(entry: Any, i: int, base_dir: Path) -> Row:
    if isinstance(entry, str):
        entry = {"preset": entry}
    if not isinstance(entry, dict):
        raise GanlabError(f"SPEC configs[{i}] = {entry!r} must be a preset name or a mapping with preset or config")
    unknown = sorted(set(entry) - {"preset", "config", "name", "set", "seeds", "full_seeds", "samplers", "report"})
    if unknown:
        raise GanlabError(f"SPEC configs[{i}]: unknown key '{unknown[0]}'; accepted: preset, config, name, set, "
                          f"seeds, full_seeds, samplers, report")
    if ("preset" in entry) == ("config" in entry):
        raise GanlabError(f"SPEC configs[{i}] needs exactly one of preset (a name in configs/) or config (a file)")
    if "preset" in entry:
        name = str(entry["preset"])
        path = CONFIGS / f"{name}.yaml"
        if not path.is_file():
            names = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
            raise GanlabError(f"SPEC configs[{i}]: unknown preset '{name}'; accepted: {', '.join(names)}")
        source = name
    else:
        path = Path(str(entry["config"]))
        if not path.is_absolute() and not path.is_file():
            path = base_dir / path  # relative to the SPEC's folder when not relative to the working directory
        if not path.is_file():
            raise GanlabError(f"SPEC configs[{i}]: config file {path} does not exist")
        source = str(entry["config"])
    try:
        mapping = read_yaml(path) or {}
    except GanlabError as exc:
        raise GanlabError(f"SPEC configs[{i}]: {exc}") from None
    if not isinstance(mapping, dict):
        raise GanlabError(f"SPEC configs[{i}]: {path} must hold a mapping of config sections")
    name = str(entry.get("name") or Path(source).stem)
    seeds = _check_int_list(entry["seeds"], f"configs[{i}].seeds") if "seeds" in entry else None
    samplers = check_items(entry["samplers"], f"configs[{i}].samplers") if "samplers" in entry else None
    report = check_report(entry["report"], f"configs[{i}].report") if "report" in entry else None
    full = _check_int_list(entry["full_seeds"], f"configs[{i}].full_seeds") if "full_seeds" in entry else None
    return Row(name, source, mapping, _mapping(entry.get("set"), f"configs[{i}].set"), seeds, samplers, report, full)


def _check_int_list(value: Any, key: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool)
                                                           for v in value):
        raise GanlabError(f"SPEC key '{key}' = {value!r} must be a list of integers, e.g. [0, 1, 2]")
    if len(set(value)) != len(value):
        raise GanlabError(f"SPEC key '{key}' = {value!r} repeats a value")
    return value


def _check_search(search: Any, evaluate: dict) -> dict:
    if not isinstance(search, dict):
        raise GanlabError(f"SPEC key 'search' must be a mapping ({', '.join(SEARCH_KEYS)})")
    unknown = sorted(set(search) - set(SEARCH_KEYS))
    if unknown:
        raise GanlabError(f"SPEC key 'search.{unknown[0]}' is unknown; accepted: {', '.join(SEARCH_KEYS)}")
    metric = search.get("metric", "mnist_fid")
    # every registered number with a direction (metrics/registry.py); the classifier's are always measured, the
    # Inception ones (fid, precision, ...) need evaluate.full
    accepted = [n.key for n in registry.numbers(scalar=True) if n.better]
    if metric not in accepted:
        raise GanlabError(f"SPEC key 'search.metric' = {metric!r} is not accepted; accepted: {', '.join(accepted)}")
    if registry.features_of(metric) == "inception" and not evaluate["full"]:
        raise GanlabError(f"SPEC key 'search.metric' = '{metric}' needs evaluate.full: true")
    mode = search.get("mode", "min" if registry.number(metric).better == "lower" else "max")
    if mode not in ("min", "max"):
        raise GanlabError(f"SPEC key 'search.mode' = {mode!r} is not accepted; accepted: min, max")
    trials = search.get("trials")
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise GanlabError(f"SPEC key 'search.trials' = {trials!r} must be an integer >= 1")
    ref = str(search.get("ref", "train"))
    if ref not in ("train", "test"):
        raise GanlabError(f"SPEC key 'search.ref' = {ref!r} is not accepted; accepted: train (default), test")
    space = search.get("space")
    if not isinstance(space, dict) or not space:
        raise GanlabError("SPEC key 'search.space' must map config keys to ranges, e.g. "
                          "{optim.lr_d: {loguniform: [1.0e-5, 1.0e-3]}}")
    checked = {}
    for key, rng in space.items():
        if not isinstance(rng, dict) or len(rng) != 1 or next(iter(rng)) not in SPACES:
            raise GanlabError(f"SPEC key 'search.space.{key}' = {rng!r} must be one of "
                              f"{{{' | '.join(s + ': ...' for s in SPACES)}}}")
        kind, args = next(iter(rng.items()))
        if kind == "choice":
            ok = isinstance(args, list) and len(args) >= 1
        else:
            ok = isinstance(args, list) and len(args) == 2 and all(isinstance(a, (int, float)) and
                                                                   not isinstance(a, bool) for a in args) \
                and args[0] < args[1] and (kind != "loguniform" or args[0] > 0)
        if not ok:
            want = "a non-empty list" if kind == "choice" else "[low, high] with low < high" + \
                (" and low > 0" if kind == "loguniform" else "")
            raise GanlabError(f"SPEC key 'search.space.{key}' = {rng!r}: {kind} takes {want}")
        checked[str(key)] = {kind: args}
    return {"metric": metric, "mode": mode, "trials": trials, "ref": ref, "space": checked}


def parse(raw: Any, base_dir: Path = Path(".")) -> Spec:
    """Check a SPEC mapping completely (every trial's config included) and return it."""
    if not isinstance(raw, dict):
        raise GanlabError(f"a sweep SPEC must be a mapping with keys {', '.join(TOP_KEYS)}")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise GanlabError(f"SPEC key '{unknown[0]}' is unknown; accepted: {', '.join(TOP_KEYS)}")
    entries = raw.get("configs")
    if not isinstance(entries, list) or not entries:
        raise GanlabError("SPEC key 'configs' must be a non-empty list of presets (e.g. [vanilla, wgan-gp]) "
                          "or mappings {preset|config, name, set}")
    rows = [_load_row(e, i, base_dir) for i, e in enumerate(entries)]
    fixed = _mapping(raw.get("set"), "set")
    grid = _mapping(raw.get("grid"), "grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise GanlabError(f"SPEC key 'grid.{key}' = {values!r} must be a non-empty list of values")
    points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())] if grid else [{}]
    expanded = [with_precision(Row(row_name(r.name, p), r.source, r.mapping, {**fixed, **r.overrides, **p}, r.seeds,
                                   r.samplers, r.report, r.full_seeds))
                for r in rows for p in points]
    names = [r.name for r in expanded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise GanlabError(f"SPEC rows are not distinct: '{dup[0]}' twice; give the entries distinct names (name: ...)")
    seeds = _check_int_list(raw.get("seeds", [0]), "seeds")
    for r in rows:
        unplanned = [s for s in r.full_seeds or [] if s not in (r.seeds or seeds)]
        if unplanned:
            raise GanlabError(f"SPEC row '{r.name}': full_seeds {r.full_seeds} names seed {unplanned[0]}, which the row "
                              f"does not run (its seeds: {r.seeds or seeds})")
    epochs = raw.get("epochs")
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1):
        raise GanlabError(f"SPEC key 'epochs' = {epochs!r} must be an integer >= 1")
    ev = raw.get("evaluate") or {}
    if not isinstance(ev, dict):
        raise GanlabError(f"SPEC key 'evaluate' must be a mapping ({', '.join(EVAL_KEYS)})")
    evaluate = {"n": 10000, "full": False, "ref": "test", "full_seeds": []}
    for key, value in ev.items():
        if key not in EVAL_KEYS:
            raise GanlabError(f"SPEC key 'evaluate.{key}' is unknown; accepted: {', '.join(EVAL_KEYS)}")
        if key == "full_seeds":
            evaluate[key] = _check_int_list(value, "evaluate.full_seeds")
            continue
        if not isinstance(value, EVAL_KEYS[key]) or (EVAL_KEYS[key] is int and isinstance(value, bool)):
            raise GanlabError(f"SPEC key 'evaluate.{key}' = {value!r} is not a valid {EVAL_KEYS[key].__name__}")
        evaluate[key] = value
    if evaluate["n"] < 6:
        raise GanlabError(f"SPEC key 'evaluate.n' = {evaluate['n']} must be >= 6 (the nearest-neighbour metrics need k + 1)")
    if evaluate["ref"] not in ("train", "test"):
        raise GanlabError(f"SPEC key 'evaluate.ref' = {evaluate['ref']!r} is not accepted; accepted: test, train")
    search = None
    if raw.get("search") is not None:
        if grid:
            raise GanlabError("SPEC keys 'grid' and 'search' do not combine: a search samples the space itself")
        if len(expanded) != 1:
            raise GanlabError(f"SPEC key 'search' takes one row in 'configs', got {len(expanded)}")
        search = _check_search(raw["search"], evaluate)
    spec = Spec(expanded, seeds, epochs, evaluate, search, raw, stop_mod.check(raw.get("stop")))
    spec.trials()  # every config built and checked now, before Ray starts
    if search:
        for key, rng in search["space"].items():  # each range's ends must be valid values of its key
            kind, args = next(iter(rng.items()))
            for value in (args if kind == "choice" else args[:2]):
                build_config(expanded[0], seeds[0], epochs, {key: value})
    return spec


def load(path: str | Path) -> Spec:
    path = Path(path)
    return parse(read_yaml(path, "sweep SPEC"), path.parent)


def difference(a: Any, b: Any, where: str = "") -> str | None:
    """The first place where two SPEC mappings differ, in words (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{where}.{key}" if where else str(key)
            if key not in a:
                return f"'{sub}' was added"
            if key not in b:
                return f"'{sub}' was removed"
            d = difference(a[key], b[key], sub)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = difference(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        return f"'{where or '<root>'}' had {len(a)} entries, now {len(b)}"
    if a != b:
        return f"'{where or '<root>'}' was {a!r}, now {b!r}"
    return None
