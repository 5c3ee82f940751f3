"""A sweep's table: one row per config with every measured metric as mean ± std over its seeds (and each seed),
training seconds, and its failed trials with their reasons; plus one picture of every trial's samples."""
from __future__ import annotations

import statistics
from pathlib import Path

from ..images import save_figure
from ..io import read_json, write_json, write_text
from ..metrics import registry
from ..metrics.registry import Number
from .layout import SWEEP_FILE, TRIALS, TRIAL_FILE

#: the table's columns, in order (a column shows when any trial measured it): every registered metric number that
#: is a column (metrics/registry.py), then the search objective and the training seconds
COLUMNS = registry.numbers(column=True) + [Number("objective", "objective", 4), Number("train_seconds", "train s", 0),
                                           Number("train_cpu_seconds", "train CPU s", 0)]


def trials_of(out: Path) -> list[dict]:
    """Every trial of the sweep in OUT: its record (trial.json), or 'pending' when it has not ended."""
    sweep = read_json(out / SWEEP_FILE)
    names = [t["name"] for t in sweep["trials"]] if sweep["trials"] else \
        sorted(p.name for p in (out / TRIALS).glob("*") if p.is_dir())
    rows = {t["name"]: t for t in sweep["trials"]}
    records = []
    for name in names:
        path = out / TRIALS / name / TRIAL_FILE
        t = rows.get(name, {"row": name, "seed": None})
        record = read_json(path) if path.is_file() else \
            {"name": name, "row": t["row"], "seed": t["seed"], "status": "pending"}
        record["planned_samplers"] = [s["name"] for s in t.get("samplers") or []]
        if "config" in t:  # a grid trial: the arithmetic it trains in (a record without the key trained in fp32)
            record["arithmetic"] = (t["config"].get("train") or {}).get("precision", "fp32")
        records.append(record)
    return records


def _values(trial: dict) -> dict:
    m = dict(trial.get("metrics") or {})
    for key in ("objective", "train_seconds", "train_cpu_seconds"):
        if trial.get(key) is not None:
            m[key] = trial[key]
    return m


def with_samplers(trials: list[dict]) -> list[dict]:
    """The trials, each followed by one pseudo-trial per sampler measured on it (row ``ROW + NAME``)."""
    out = []
    for t in trials:
        out.append(t)
        measured = t.get("samplers") or {}
        base = {"arithmetic": t["arithmetic"]} if t.get("arithmetic") else {}  # a sampler's row trained as its base
        for name in dict.fromkeys([*t.get("planned_samplers", []), *measured]):
            res = measured.get(name)
            if t.get("collapsed"):  # a base stopped as collapsed gets no samplers
                out.append({"name": t["name"], "row": f"{t['row']} + {name}", "seed": t["seed"], "status": "failed",
                            "reason": f"its base collapsed (epoch {t['collapsed']['first']})", **base})
            elif res and t["status"] == "done":
                out.append({"name": t["name"], "row": f"{t['row']} + {name}", "seed": t["seed"], "status": "done",
                            "metrics": res["metrics"], "chosen": res.get("chosen"), **base})
            else:  # its base is pending or failed: so is the sampler's row for that seed
                out.append({"name": t["name"], "row": f"{t['row']} + {name}", "seed": t["seed"],
                            "status": "failed" if t["status"] == "failed" else "pending",
                            "reason": "its base trial failed", **base})
    return out


def aggregate(trials: list[dict]) -> list[dict]:
    """Group trials by row (config, or config + sampler); per metric the mean, the sample std (n > 1) and each
    seed's value."""
    trials = with_samplers(trials)
    order: list[str] = []
    groups: dict[str, list[dict]] = {}
    for t in trials:
        if t["row"] not in groups:
            order.append(t["row"])
        groups.setdefault(t["row"], []).append(t)
    rows = []
    for name in order:
        group = sorted(groups[name], key=lambda t: (t["seed"] is None, t["seed"]))
        done = [t for t in group if t["status"] == "done"]
        stats = {}
        for key in (c.key for c in COLUMNS):
            per_seed = {str(t["seed"]): _values(t)[key] for t in done if key in _values(t)}
            if per_seed:
                vals = list(per_seed.values())
                stats[key] = {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else None,
                              "n": len(vals), "seeds": per_seed}
        rows.append({"row": name, "seeds": [t["seed"] for t in group], "done": len(done),
                     "failed": {str(t["seed"]): t.get("reason", "") for t in group if t["status"] == "failed"},
                     "pending": [t["seed"] for t in group if t["status"] == "pending"],
                     "collapsed": {str(t["seed"]): t["collapsed"] for t in done if t.get("collapsed")},
                     "point": group[0].get("point") or {}, "metrics": stats,
                     "chosen": {str(t["seed"]): t["chosen"] for t in done if t.get("chosen")},
                     "arithmetic": {str(t["seed"]): t["arithmetic"] for t in group if t.get("arithmetic")},
                     "trials": [t["name"] for t in group]})
    return rows


def _cell(stat: dict | None, column: Number) -> str:
    """mean ± std over seeds, in the column's decimals and scale."""
    if not stat:
        return "—"
    text = column.text(stat["mean"], column.decimals)
    if stat["std"] is not None:
        text += " ± " + column.text(stat["std"], column.decimals)
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def replan_text(change: dict, brief: bool = False) -> str:
    """A replan in words: every trial named (the sweep's message) or, ``brief``, the arithmetic changes counted (the
    table's note, where the arithmetic column already says each seed's and ``sweep.json`` keeps the names)."""
    text = f"Replanned on {change['when']}: added {', '.join(change['added']) or 'none'}; dropped " \
           f"{', '.join(change['dropped']) or 'none'}"
    if change.get("full"):
        text += f"; the full protocol also for {', '.join(change['full'])} (measured when the sweep resumes)"
    if change.get("not_full"):
        text += f"; classifier metrics only for {', '.join(change['not_full'])} from now (what was measured is kept)"
    for precision in sorted(set((change.get("precision") or {}).values())):
        names = [n for n, p in change["precision"].items() if p == precision]
        text += f"; {_count(len(names), 'trial')} not started train in {precision}" if brief else \
            f"; {', '.join(names)} train in {precision}"
    if change.get("kept") and brief:
        n = len(change["kept"])
        text += f" ({_count(n, 'started trial')} {'keeps its' if n == 1 else 'keep their'} arithmetic)"
    elif change.get("kept"):
        text += f" ({', '.join(f'{n} {p}' for n, p in change['kept'].items())}: started, keep their arithmetic)"
    return text


def reports_of(sweep: dict) -> dict[str, dict]:
    """Row name (and ``ROW + SAMPLER``) -> the report's own numbers given in the SPEC."""
    out = {}
    for row in sweep["rows"]:
        if row.get("report"):
            out[row["name"]] = row["report"]
        for item in row.get("samplers") or []:
            if item.get("report"):
                out[f"{row['name']} + {item['name']}"] = item["report"]
    return out


def report_text(report: dict | None) -> str:
    if not report:
        return ""
    parts = [f"FID {report['fid']:g}" if "fid" in report else "",
             f"P {report['precision']:g}" if "precision" in report else "",
             f"R {report['recall']:g}" if "recall" in report else ""]
    return " ".join(p for p in parts if p) + (f" ({report['source']})" if "source" in report else "")


def _arithmetic(row: dict) -> str:
    """What a row's seeds trained in: ``fp32``, or ``fp32 (s0), bf16 (s1, s2)`` when they differ."""
    by = {}
    for seed, precision in row.get("arithmetic", {}).items():
        by.setdefault(precision, []).append(f"s{seed}")
    if len(by) == 1:
        return next(iter(by))
    return ", ".join(f"{p} ({', '.join(seeds)})" for p, seeds in by.items()) or "—"


def markdown(rows: list[dict], sweep: dict) -> str:
    present = [c for c in COLUMNS if any(c.key in r["metrics"] for r in rows)]
    arithmetic = sorted({p for r in rows for p in r.get("arithmetic", {}).values()})
    mixed = len(arithmetic) > 1  # trials in more than one arithmetic: a column says each seed's
    trained = f" Trained in {arithmetic[0]}." if len(arithmetic) == 1 else \
        f" Trained in {' and '.join(arithmetic)}: the arithmetic column says each seed's." if mixed else ""
    ev = sweep["evaluate"]
    budget = f"{sweep['epochs']} epochs" if sweep["epochs"] else "each config's own epochs"
    lines = [f"Sweep of {len(rows)} configs × seeds {sweep['seeds']}, {budget}; each trial's last checkpoint, "
             f"{ev['n']} samples from the prior (seed 0) vs MNIST {ev['ref']}"
             f"{', full protocol' if ev['full'] else ', classifier metrics'}"
             f"{' (the full protocol on seeds ' + str(ev['full_seeds']) + ')' if ev.get('full_seeds') and not ev['full'] else ''}"
             + "".join(f"; the full protocol on {r['name']}'s seeds {r['full_seeds']}" for r in sweep["rows"]
                       if r.get("full_seeds") and not ev["full"]) +
             f". Cells: mean ± std over the seeds "
             f"that finished (sample std); each seed's value in table.json." + trained
             + (f" A trial whose G gave one image (or did not change) for {sweep['stop']['collapsed_epochs']} epochs in a row was stopped "
                f"and counts with the metrics of its last epoch (last column)." if (sweep.get("stop") or {}).get(
                    "collapsed_epochs") else "")
             + "".join(f" {replan_text(c, brief=True)}." for c in sweep.get("replans", [])), ""]
    reports = reports_of(sweep)
    # each seed's value of the headline (the first column) and, when the full protocol ran on some seeds only, of
    # the metric every trial has (MNIST-FID): the seeds the headline's mean does not cover are still seen
    seeded = present[:1] + [c for c in present[1:] if c.key == "mnist_fid"]
    head = ["config", "seeds done"] + (["arithmetic"] if mixed else []) + [c.label for c in present] + \
        [f"per seed ({c.label})" for c in seeded] + \
        (["the report's own number (its protocol)"] if reports else []) + ["failed / collapsed"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        per_seed = [", ".join(f"s{s}: {c.text(v, c.decimals)}" for s, v in r["metrics"][c.key]["seeds"].items())
                    if c.key in r["metrics"] else "—" for c in seeded]
        failed = "; ".join([f"s{s}: {why}" for s, why in r["failed"].items()] +
                           [f"s{s}: collapsed from epoch {c['first']} (stopped at {c['last']})"
                            for s, c in r.get("collapsed", {}).items()])
        if r["pending"]:
            failed = (failed + "; " if failed else "") + "pending: " + ", ".join(f"s{s}" for s in r["pending"])
        cells = [r["row"], f"{r['done']}/{len(r['seeds'])}"] + ([_arithmetic(r)] if mixed else []) \
            + [_cell(r["metrics"].get(c.key), c) for c in present] \
            + per_seed + ([report_text(reports.get(r["row"]))] if reports else []) + [failed or ""]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(out: Path) -> int:
    """OUT/table.json, OUT/table.md and OUT/grids.png from the trials' records; the number of rows."""
    sweep = read_json(out / SWEEP_FILE)
    trials = trials_of(out)
    rows = aggregate(trials)
    for r in rows:
        r["report"] = reports_of(sweep).get(r["row"])
    if sweep.get("search"):
        key = "objective"
        sign = 1 if sweep["search"]["mode"] == "min" else -1
        rows.sort(key=lambda r: (key not in r["metrics"], sign * r["metrics"].get(key, {"mean": 0})["mean"]))
    write_json(out / "table.json", {"epochs": sweep["epochs"], "seeds": sweep["seeds"], "evaluate": sweep["evaluate"],
                                    "search": sweep["search"], "rows": rows, "trials": trials})
    write_text(out / "table.md", markdown(rows, sweep))
    montage(out, trials)
    return len(rows)


def montage(out: Path, trials: list[dict], cols: int = 6) -> None:
    """OUT/grids.png: every finished trial's evaluation samples, titled with its name and headline number."""
    done = [t for t in trials if t["status"] == "done" and (t.get("metrics") or {}).get("grid")]
    if not done:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    n_rows = -(-len(done) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(2.6 * cols, 2.9 * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, t in zip(axes.flat, done):
        m = t["metrics"]
        grid = out / TRIALS / t["name"] / "evals" / m["grid"]
        if grid.is_file():
            with Image.open(grid) as im:
                ax.imshow(im.convert("L"), cmap="gray", vmin=0, vmax=255)
        score = f"FID {m['fid']:.1f}" if "fid" in m else f"MNIST-FID {m['mnist_fid']:.0f}"
        ax.set_title(f"{t['name']}\n{score}", fontsize=8)
    fig.tight_layout(pad=1.5)  # room for the two-line titles of the top row
    save_figure(fig, out / "grids.png", dpi=80)
