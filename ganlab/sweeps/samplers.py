"""Latent samplers applied to a trial's trained base, inside the trial (issue 19): the table's "vanilla + DRS" rows
come from the same seeds' bases, measured while their weights are on disk.

A SPEC row lists them under ``samplers``:

    - preset: vanilla
      samplers:
        - {name: drs, chain: drs, choose: {drs.percentile: [50, 70, 80, 90, 95]}}
        - {name: trunc-2.0, chain: "truncation(psi=2.0,mode=hard)"}
        - {name: lrs-rs+ga, chain: "lrs(mode=rs+ga)"}            # the LRS network is fitted first when missing

``chain`` is the sampler chain as ``ganlab generate --sampler`` builds it, written ``a(k=v,...)+b``. ``choose``
picks one option's value (``stage.option: [values]``) by MNIST-FID against 10,000 MNIST **training** images; the
chosen chain is then measured like the base (``evaluate``: n, reference, full protocol). The test set is used
once, for the chosen chain.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import GanlabError
from ..io import read_json
from ..latent.bundle import sample_chain
from ..latent.run import fit_lrs_for_run, parse_chain
from ..metrics.evaluate import evaluate as score
from ..metrics.imagesets import reference
from ..report.collect import kept_evaluation, save_run_evaluation

ITEM_KEYS = ("name", "chain", "choose", "report")
REPORT_KEYS = {"fid": (int, float), "precision": (int, float), "recall": (int, float), "source": str}


def check_report(report, where: str) -> dict:
    """A report's own numbers for a row: {fid, precision, recall, source} (any of them)."""
    if not isinstance(report, dict) or not report:
        raise GanlabError(f"SPEC key '{where}' must be a mapping of {', '.join(REPORT_KEYS)}")
    for key, value in report.items():
        if key not in REPORT_KEYS:
            raise GanlabError(f"SPEC key '{where}.{key}' is unknown; accepted: {', '.join(REPORT_KEYS)}")
        if not isinstance(value, REPORT_KEYS[key]) or isinstance(value, bool):
            raise GanlabError(f"SPEC key '{where}.{key}' = {value!r} is not a valid {key} value")
    return dict(report)
SELECT_REF = "train"


def chain_specs(text: str) -> list[tuple[str, list[str]]]:
    """``"drs(percentile=80)+ddls"`` -> ``[("drs", ["percentile=80"]), ("ddls", [])]``."""
    parts, depth, cur = [], 0, ""
    for ch in str(text or ""):  # split at the + between stages, not the ones inside an option (mode=rs+ga)
        depth += (ch == "(") - (ch == ")")
        if ch == "+" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts += [cur] if cur.strip() or parts else []
    specs = []
    for part in parts:
        m = re.fullmatch(r"\s*([A-Za-z][\w-]*)\s*(?:\((.*)\))?\s*", part)
        if not m:
            raise GanlabError(f"sampler chain {text!r}: '{part}' is not NAME or NAME(key=value,...)")
        opts = [o.strip() for o in (m[2] or "").split(",") if o.strip()]
        specs.append((m[1], opts))
    if not specs:
        raise GanlabError("a sampler chain is empty; write e.g. drs or truncation(psi=2.0)")
    return specs


def with_value(specs: list[tuple[str, list[str]]], key: str, value) -> list[tuple[str, list[str]]]:
    """Set option ``stage.option`` = value in the first stage named ``stage``."""
    stage, _, option = key.partition(".")
    out, done = [], False
    for name, opts in specs:
        if name == stage and not done:
            opts = [o for o in opts if o.split("=", 1)[0].strip() != option] + [f"{option}={value}"]
            done = True
        out.append((name, opts))
    if not done:
        raise GanlabError(f"choose key '{key}' names no stage '{stage}' of the chain")
    return out


def text(specs: list[tuple[str, list[str]]]) -> str:
    return "+".join(f"{n}({','.join(o)})" if o else n for n, o in specs)


def check_items(items, where: str) -> list[dict]:
    """Check a row's ``samplers`` list (names, chains, options, choose values) without running anything."""
    if not isinstance(items, list):
        raise GanlabError(f"SPEC key '{where}' must be a list of {{name, chain, choose}}")
    checked, names = [], set()
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        if not isinstance(item, dict) or "chain" not in item:
            raise GanlabError(f"SPEC key '{w}' must be a mapping with chain (and name, choose)")
        unknown = sorted(set(item) - set(ITEM_KEYS))
        if unknown:
            raise GanlabError(f"SPEC key '{w}.{unknown[0]}' is unknown; accepted: {', '.join(ITEM_KEYS)}")
        specs = chain_specs(item["chain"])
        name = str(item.get("name") or text(specs))
        if name in names:
            raise GanlabError(f"SPEC key '{w}.name' = {name!r} repeats another sampler's name")
        names.add(name)
        choose = item.get("choose")
        try:
            if choose is not None:
                if not isinstance(choose, dict) or len(choose) != 1:
                    raise GanlabError("choose takes one option and its values, e.g. {drs.percentile: [50, 80, 90]}")
                (key, values), = choose.items()
                if not isinstance(values, list) or not values:
                    raise GanlabError(f"choose '{key}' needs a non-empty list of values")
                for v in values:
                    parse_chain(with_value(specs, key, v))
                choose = {"key": str(key), "values": values}
            else:
                parse_chain(specs)
        except GanlabError as exc:
            raise GanlabError(f"SPEC key '{w}': {exc}") from None
        checked.append({"name": name, "chain": text(specs), "choose": choose,
                        **({"report": check_report(item["report"], f"{w}.report")} if "report" in item else {})})
    return checked


def _score(run_dir: Path, specs, evaluate: dict, ref: str, full: bool, cache_dir: str | None):
    images, cost = sample_chain(run_dir, "last", evaluate["n"], 0, parse_chain(specs), cache_dir)
    return images, cost, score(images, ref=ref, cache=cache_dir, full=full, progress=False)


def _asked(item: dict, evaluate: dict) -> dict:
    return {"chain": item["chain"], "choose": item["choose"], **({"full": True} if evaluate["full"] else {})}


def measured_before(item: dict, evaluate: dict, done: dict | None) -> bool:
    """Whether ``done`` (a trial record's samplers) holds ``item`` measured with the same chain and grid, on the full
    protocol when ``evaluate`` asks for it (one measured on it serves a classifier-only plan too)."""
    asked = _asked(item, evaluate)
    return (done or {}).get(item["name"], {}).get("asked") in (asked, {**asked, "full": True})


def evaluate_samplers(run_dir: Path, items: list[dict], evaluate: dict, cache_dir: str | None,
                      done: dict | None = None) -> dict:
    """Each item on the trial's last checkpoint: its choice (on training images), then its measurement. An item
    measured before (DONE, the trial's earlier record) is kept only if it was asked the same chain and grid."""
    results, done = {}, done or {}
    for item in items:
        asked = _asked(item, evaluate)
        if measured_before(item, evaluate, done):
            results[item["name"]] = done[item["name"]]
            continue
        specs = chain_specs(item["chain"])
        if any(name == "lrs" for name, _ in specs) and not (Path(run_dir) / "latent" / "lrs.pt").is_file():
            fit_lrs_for_run(run_dir, cache=cache_dir, progress=False)  # the report's m 3, lambda 10 and 3
        chosen, selection = None, []
        if item["choose"]:
            key = item["choose"]["key"]
            for v in item["choose"]["values"]:
                _, _, res = _score(run_dir, with_value(specs, key, v), evaluate, SELECT_REF, False, cache_dir)
                selection.append({"value": v, "mnist_fid": res["mnist_fid"], "ref": res["ref"]})
            best = min(selection, key=lambda s: s["mnist_fid"])
            chosen = {key: best["value"]}
            specs = with_value(specs, key, best["value"])
        # kept in RUN/evals already (e.g. by a sweep stopped before the trial's record was written): not redone
        kept = kept_evaluation(run_dir, {"checkpoint": "last", "weights": "ema", "seed": 0, "sampler_spec": text(specs),
                                         "ref": reference(evaluate["ref"], cache_dir)[0]}, evaluate["n"], evaluate["full"])
        if kept is None:
            images, cost, res = _score(run_dir, specs, evaluate, evaluate["ref"], evaluate["full"], cache_dir)
            res.update({"checkpoint": "last", "weights": "ema", "seed": 0, "sampler_spec": text(specs), "sampler": cost,
                        "source": f"{run_dir} (last, {evaluate['n']} samples, seed 0, {text(specs)})"})
            kept = read_json(save_run_evaluation(run_dir, res, images))
        results[item["name"]] = {"asked": asked, "chain": text(specs), "chosen": chosen, "selection": selection,
                                 "metrics": {k: v for k, v in kept.items() if k not in ("label", "source")}}
    return results
