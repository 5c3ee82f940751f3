"""``ganlab compare A B ... --out DIR``: a self-contained HTML report (index.html, every image embedded as a
data URI, no script, no network), the leaderboard as Markdown and JSON, and the per-run plots as PNGs."""
from __future__ import annotations

import base64
import html
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import GanlabError
from ..io import atomic_path, read_json, write_json
from ..metrics import registry
from ..sweeps.layout import SWEEP_FILE, TRIALS
from ..sweeps.table import COLUMNS as SWEEP_COLUMNS, _cell, aggregate, markdown, report_text, reports_of, trials_of
from ..training.plots import plot_metrics
from . import figures
from .collect import Entry, Evaluation, _evaluation, is_template, load_entry

#: the leaderboard's metric columns: every registered metric number that is a column (metrics/registry.py)
COLUMNS = registry.numbers(column=True)


def _fmt(value, spec: str) -> str:
    return "—" if value is None else spec.format(value)


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def leaderboard(entries: list[Entry], every: bool = False) -> list[dict]:
    """One row per entry (its best evaluation), or with ``every`` one row per evaluation; sorted by FID."""
    rows = []
    for e in entries:
        evs = e.evaluations if every else [e.best()]
        for ev in evs:
            m = ev.metrics if ev else {}
            cost = m.get("sampler") or {}
            rows.append({"run": e.name, "method": e.method, "sampler": ev.sampler if ev else "—",
                         "checkpoint": ev.checkpoint if ev else "—", "n": m.get("n"),
                         **{n.key: m.get(n.key) for n in COLUMNS},
                         "acceptance": cost.get("acceptance_rate"), "samples_per_s": m.get("samples_per_s"),
                         "g_evals_per_sample": cost.get("g_evals_per_sample"),
                         "class_histogram": m.get("class_histogram"),
                         "train_seconds": e.train_seconds, "train_threads": e.train_threads, "epochs": e.epochs,
                         "template": e.template})
    return sorted(rows, key=lambda r: (r["fid"] is None, r["fid"] or 0, r["mnist_fid"] or 0))


def _markdown(rows: list[dict]) -> str:
    head = ["run", "method", "sampler", *[n.label for n in COLUMNS], "training", "samples/s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["run"], r["method"], r["sampler"], *[n.text(r[n.key]) for n in COLUMNS],
                 _minutes(r["train_seconds"]), _fmt(r["samples_per_s"], "{:.0f}")]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _img(path: Path, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    w = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"{w}>'


def _table(rows: list[dict], cls: str) -> str:
    head = ["run", "method", "sampler", *[n.label for n in COLUMNS], "acceptance", "training", "samples/s"]
    out = [f'<table class="{cls}"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for r in rows:
        cells = [r["run"], r["method"], r["sampler"], *[n.text(r[n.key]) for n in COLUMNS],
                 _fmt(r["acceptance"], "{:.3f}"), _minutes(r["train_seconds"]), _fmt(r["samples_per_s"], "{:.0f}")]
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return "\n".join(out) + "</tbody></table>"


def _pr_points(evs: list[Evaluation]) -> list[dict]:
    """Precision/recall of plain evaluations of epoch checkpoints (``--checkpoint epoch_N``)."""
    pts = []
    for ev in evs:
        if ev.full and ev.sampler == "prior" and ev.checkpoint.startswith("epoch_"):
            pts.append({"epoch": int(ev.checkpoint.split("_")[1]), "precision": ev.metrics["precision"],
                        "recall": ev.metrics["recall"]})
    return pts


def _section(e: Entry, plots: Path) -> str:
    parts = [f'<section class="run" id="{html.escape(e.name)}"><h2>{html.escape(e.name)}</h2>',
             f"<p>{html.escape(e.method)} · {html.escape(str(e.path))}"
             + (f" · {e.epochs} epochs in {_minutes(e.train_seconds)}" if e.epochs else "") + "</p>"]
    if e.rows:
        png = plots / f"{e.name}-metrics.png"
        plot_metrics(e.rows, png, _pr_points(e.evaluations))
        if png.exists():
            parts.append(f"<figure>{_img(png, e.name + ' training curves')}<figcaption>losses, D outputs, "
                         f"periodic metric, precision/recall over epochs</figcaption></figure>")
    figs = []
    if e.grid:
        figs.append(f"<figure>{_img(e.grid, e.name + ' grid', 280)}<figcaption>fixed-z grid, last epoch"
                    f"</figcaption></figure>")
    for ev in e.evaluations:
        if ev.grid:
            figs.append(f"<figure>{_img(ev.grid, ev.label, 280)}<figcaption>{html.escape(ev.checkpoint)} · "
                        f"{html.escape(ev.sampler)}</figcaption></figure>")
    for name, png in e.sweeps:
        figs.append(f"<figure>{_img(png, name)}<figcaption>sweep {html.escape(name)}</figcaption></figure>")
        grid = png.parent / "accepted_rejected.png"
        if grid.exists():
            figs.append(f"<figure>{_img(grid, name + ' accepted/rejected', 280)}<figcaption>accepted (left) vs "
                        f"rejected (right)</figcaption></figure>")
    if figs:
        parts.append('<div class="figs">' + "".join(figs) + "</div>")
    return "\n".join(parts) + "</section>"


STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}
th{background:#f3f3f3}.figs{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:12px;color:#555}
img{image-rendering:pixelated;max-width:100%}section.run{border-top:2px solid #ddd;margin-top:2em}"""


def _expand(paths: list[str | os.PathLike]) -> tuple[list[Entry], list[Path]]:
    """The entries of the inputs (a sweep folder gives one per trial) and the sweep folders among them."""
    entries, sweeps = [], [Path(p) for p in paths if (Path(p) / SWEEP_FILE).is_file()]
    for p in map(Path, paths):
        if p in sweeps:
            for t in trials_of(p):
                if (p / TRIALS / t["name"] / "config.yaml").is_file():
                    entries.append(load_entry(p / TRIALS / t["name"]))
                    entries[-1].sweep = p.name
                    entries[-1].name = _trial_anchor(p, t["name"], sweeps)
        else:
            entries.append(load_entry(p))
    return entries, sweeps


def _trial_anchor(sweep: Path, trial: str, sweeps: list[Path]) -> str:
    """A trial's name in the report: its own, or SWEEP:TRIAL when several sweeps are compared (names repeat)."""
    return f"{sweep.name}:{trial}" if len(sweeps) > 1 else trial


def _sweep_section(path: Path, linked: set[str], sweeps: list[Path]) -> str:
    """A sweep's table: one row per config, every metric as mean ± std over seeds, each seed linked to its run."""
    rows = aggregate(trials_of(path))
    sweep = read_json(path / "sweep.json")
    reports = reports_of(sweep)
    present = [c for c in SWEEP_COLUMNS if any(c.key in r["metrics"] for r in rows)]
    caption = markdown(rows, sweep).splitlines()[0]
    head = ["config", "seeds done", *[c.label for c in present], "trials"] + \
        (["the report's own number (its protocol)"] if reports else [])
    out = [f'<section class="sweep"><h2>Sweep {html.escape(path.name)}</h2><p>{html.escape(caption)}</p>',
           '<table class="sweep"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for r in rows:
        links = []
        for trial, seed in zip(r["trials"], r["seeds"]):
            name = _trial_anchor(path, trial, sweeps)
            label = f"s{seed}" + (" (failed)" if str(seed) in r["failed"] else " (pending)" if seed in r["pending"] else "")
            links.append(f'<a href="#{html.escape(name)}">{html.escape(label)}</a>' if name in linked
                         else html.escape(label))
        cells = [html.escape(r["row"]), f"{r['done']}/{len(r['seeds'])}",
                 *[html.escape(_cell(r["metrics"].get(c.key), c)) for c in present], " ".join(links)] + \
            ([html.escape(report_text(reports.get(r["row"])))] if reports else [])
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    if (path / "grids.png").is_file():
        out.append(f"<figure>{_img(path / 'grids.png', path.name + ' samples of every trial')}<figcaption>every "
                   f"finished trial's samples</figcaption></figure>")
    return "\n".join(out) + "</section>"


#: the leaderboard's other sort orders (key, header, lower is better), each one static table (the page has no script)
SORTS = [(n.key, n.label, n.better == "lower") for n in COLUMNS if n.better and n.key != "fid"] + \
    [("train_seconds", "training time", True)]


def _sorted_tables(best: list[dict]) -> str:
    parts = []
    for key, head, ascending in SORTS:
        have = [r for r in best if r.get(key) is not None]
        if len(have) < 2:
            continue
        rows = sorted(have, key=lambda r: r[key] if ascending else -r[key])
        parts.append(f"<details><summary>sorted by {html.escape(head)} ({'lowest' if ascending else 'highest'} "
                     f"first)</summary>{_table(rows, 'leaderboard-by-' + key)}</details>")
    return "".join(parts)


def _sweep_points(path: Path) -> list[dict]:
    """A sweep's rows as figure points: each metric's mean over seeds with its std (``KEY_std``); a sampler's row
    ``ROW + NAME`` as run ROW, sampler NAME (so an arrow joins it to its base)."""
    template_rows = {t["row"] for t in read_json(path / "sweep.json")["trials"] if is_template(t["config"])}
    points = []
    for r in aggregate(trials_of(path)):
        if not r["metrics"]:
            continue
        run, _, sampler = r["row"].partition(" + ")
        p = {"run": f"{path.name}:{run}", "sampler": sampler or "prior", "method": "", "train_seconds": None,
             "template": run in template_rows}
        for key, stat in r["metrics"].items():
            p[key], p[f"{key}_std"] = stat["mean"], stat["std"]
        points.append(p)
    return points


def _figures(best: list[dict], every: list[dict], plots: Path, floor: dict | None) -> str:
    """The three figures, embedded, each with alt text; the P–R figure carries its points as data-points."""
    import json

    out = []
    points = figures.plane_points(every)
    if points:
        png = plots / "pr-plane.png"
        figures.pr_plane(points, png, floor)
        data = html.escape(json.dumps([{k: p[k] for k in ("label", "precision", "recall")} for p in points]))
        out.append(f'<figure id="pr-plane" data-points="{data}">{_img(png, "precision against recall and density against coverage, one point per evaluation; arrows join a run to its samplers; the star is real against real; red squares are the platform template")}'
                   f"<figcaption>Precision–recall and density–coverage: up and right is better; an arrow goes from a "
                   f"run's plain samples to a sampler on it.</figcaption></figure>")
    png = plots / "fid-cost.png"
    if figures.fid_cost(best, every, png):
        out.append(f'<figure id="fid-cost">{_img(png, "FID against training time, and against G evaluations per accepted sample for samplers")}'
                   f"<figcaption>Quality against cost: training minutes (left), sampling cost (right).</figcaption></figure>")
    labelled = [{**r, "label": r["run"] if r["sampler"] in ("prior", "—") else f"{r['run']} + {r['sampler']}"}
                for r in best]
    png = plots / "classes.png"
    if figures.class_bars(labelled, png):
        out.append(f'<figure id="classes">{_img(png, "per row, the share of samples the MNIST classifier puts in each digit 0 to 9; a red cross marks a digit the row never draws")}'
                   f"<figcaption>Classes per row (dashed: uniform 10 %).</figcaption></figure>")
    return ("<h2>Figures</h2>" + "".join(out)) if out else ""


def compare(paths: list[str | os.PathLike], out: str | os.PathLike, title: str = "ganlab comparison",
            floor: str | os.PathLike | None = None, template: list[str] | tuple = ()) -> Path:
    """Write OUT/index.html, OUT/leaderboard.md, OUT/leaderboard.json (and OUT/plots/); returns index.html.
    A sweep folder among the inputs adds its table (mean ± std over seeds per config) and one entry per trial.
    ``floor``: an evaluation JSON of real images against the reference, marked on the precision–recall plane.
    ``template``: names of inputs that are the platform template (evaluation JSONs carry no config; runs and sweep
    rows are recognised by their config), marked on the plane."""
    if not paths:
        raise GanlabError("ganlab compare needs at least one run directory, sweep folder or evaluation .json")
    entries, sweeps = _expand(paths)
    unknown = sorted(set(template) - {e.name for e in entries})
    if unknown:
        raise GanlabError(f"--template {unknown[0]} names no input; accepted: the inputs' names "
                          f"({', '.join(e.name for e in entries[:6])}{', ...' if len(entries) > 6 else ''})")
    for e in entries:
        e.template = e.template or e.name in template
    names = [e.name for e in entries]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise GanlabError(f"two inputs share the name {dup[0]!r}; give runs distinct directory names")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plots = out / "plots"
    best, every = leaderboard(entries), leaderboard(entries, every=True)
    floor_metrics = _evaluation(Path(floor), read_json(floor)).metrics if floor else None
    with tempfile.TemporaryDirectory(dir=out) as tmp:  # plots are made beside, then moved in one go
        sections = "\n".join(_section(e, Path(tmp)) for e in entries)
        # a sweep is drawn as its rows (mean ± std over seeds), not as one point per trial
        trials = {e.name for e in entries if e.sweep}
        swept = [p for path in sweeps for p in _sweep_points(path)]
        figs = _figures([r for r in best if r["run"] not in trials] + [p for p in swept if p["sampler"] == "prior"],
                        [r for r in every if r["run"] not in trials] + swept, Path(tmp), floor_metrics)
        if plots.exists():
            shutil.rmtree(plots)
        shutil.copytree(tmp, plots)
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            "<p>Protocol: 10,000 samples vs the 10,000 MNIST test images unless n says otherwise; TF-Inception "
            "pool features (FID, KID), k = 3 precision/recall, k = 5 density/coverage; MNIST-FID and classes from "
            "ganlab's MNIST classifier. One row per input: its best evaluation (lowest FID).</p>"
            + "".join(_sweep_section(p, set(names), sweeps) for p in sweeps) +
            f"<h2>Leaderboard</h2>{_table(best, 'leaderboard')}{_sorted_tables(best)}{figs}"
            f"<h2>Every evaluation</h2>{_table(every, 'evaluations')}{sections}</body></html>")
    index = out / "index.html"
    with atomic_path(index) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    with atomic_path(out / "leaderboard.md") as tmp:
        Path(tmp).write_text(_markdown(best), encoding="utf-8")
    write_json(out / "leaderboard.json", {"leaderboard": best, "evaluations": every})
    return index
