"""``ganlab sweep``: many ``train(config, run_dir)`` calls as one Ray Tune experiment, resumable from its folder.

    OUT/sweep.json          the SPEC and every trial's resolved config (what --resume runs; the folder alone restores)
    OUT/trials/NAME/        one ganlab run directory per trial (config.yaml, metrics.jsonl, checkpoints/, grids/,
                            tb/, evals/) plus trial.json: its status, failure reason, final metrics
    OUT/tune/               the Ray Tune experiment (trial states, searcher state, per-epoch checkpoints)
    OUT/table.md, table.json, grids.png   one row per config: mean ± std over seeds, and each seed

Each trial reports every epoch to Tune with a checkpoint that names the epoch; the weights themselves live in the
trial's run directory (RUN/checkpoints/last.pt), which a restarted trial resumes bit-exactly on CPU. Ray runs
embedded by default (``ray.init`` inside this process, ``--cpus`` CPUs, ``--threads-per-trial`` threads per
trial); ``--address`` joins a cluster started with ``ray start --head`` (OUT must then be on storage that every
node mounts at the same path).
"""
from __future__ import annotations

import copy
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from ..data import mnist
from ..errors import GanlabError
from ..io import read_json, write_json
from ..metrics import registry
from ..metrics.evaluate import evaluate as score
from ..metrics.imagesets import reference
from ..report.collect import kept_evaluation, save_run_evaluation
from ..runs import Run, RunInUse, load_config, read_metrics
from ..sampling import load_generator, load_prior, sample_images
from ..training import config as config_mod
from ..training.loop import codes, cpu_seconds, train
from . import spec as spec_mod, stop as stop_mod
from .layout import EXPERIMENT, SWEEP_FILE, TRIALS, TRIAL_FILE
from .samplers import evaluate_samplers
from .spec import Row, Spec
from .table import replan_text, write_table



# ---------------------------------------------------------------- the trial (runs in a Ray worker)

def run_trial(params: dict, out: str, sweep: dict, cache_dir: str | None = None, threads: int = 1) -> None:
    """One trial in a Ray worker: ``execute_trial``, each epoch and the end reported to Tune."""
    from ray import tune

    spec = _spec_from(sweep)
    trial = _trial_of(params, spec)

    def report(row: dict) -> None:
        with tempfile.TemporaryDirectory() as d:
            write_json(Path(d) / "epoch.json", {"run": trial["name"], "epoch": row["epoch"]})
            tune.report({**_numbers(row), "trial": trial["name"]}, checkpoint=tune.Checkpoint.from_directory(d))

    try:
        final = execute_trial(trial, spec, out, threads, cache_dir, report)
    except RunInUse:  # another process still trains it (e.g. a trial of a killed sweep): retried on --resume
        raise
    except GanlabError as exc:  # recorded by execute_trial; the sweep goes on
        tune.report({"trial": trial["name"], "failed": 1, "reason": str(exc).splitlines()[0]})
        return
    tune.report({**_numbers(final["metrics"]), "trial": trial["name"], "done": 1,
                 **({"objective": final["objective"]} if spec.search else {})})


def execute_trial(trial: dict, spec: Spec, out: str | os.PathLike, threads: int = 1, cache_dir: str | None = None,
                  on_epoch=None, device: str | None = None) -> dict:
    """One trial, with or without Ray: train its config into OUT/trials/NAME (resuming what is there; a new run on
    ``device`` when given, e.g. cuda), stop it when it meets the stopping rule, evaluate it and its samplers, and
    write its trial.json; returns that record. A GanlabError (a diverging run, a bad input) is recorded as the
    trial's failure and raised again; any other error is recorded and raised (Tune retries it on --resume)."""
    run_dir = Path(out) / TRIALS / trial["name"]
    record = {"name": trial["name"], "row": trial["row"], "seed": trial["seed"], "point": trial.get("point", {})}

    def each_epoch(row: dict) -> None:
        if on_epoch:
            on_epoch(row)
        stop_mod.enforce(spec.stop, run_dir)  # after the epoch is saved and reported

    try:
        collapsed = None
        try:
            summary = train_trial(trial, run_dir, threads, cache_dir, each_epoch, spec.stop, device)
        except stop_mod.Collapsed as exc:  # measured as it is, recorded with its dead epochs; no samplers
            collapsed, summary = {"first": exc.first, "last": exc.last, "reason": str(exc)}, _partial(run_dir, trial)
        evaluation = spec_mod.evaluation_for(spec.evaluate, trial)
        metrics = evaluate_trial(run_dir, evaluation, cache_dir)
        final = {**record, "status": "done", "metrics": metrics, **summary,
                 **({"collapsed": collapsed} if collapsed else {})}
        if trial.get("samplers") and not collapsed:
            earlier = read_json(run_dir / TRIAL_FILE).get("samplers") if (run_dir / TRIAL_FILE).is_file() else None
            final["samplers"] = evaluate_samplers(run_dir, trial["samplers"], evaluation, cache_dir, earlier)
        if spec.search:
            final["objective"] = objective(run_dir, spec, metrics, cache_dir)
        write_json(run_dir / TRIAL_FILE, final)
        return final
    except RunInUse:
        raise
    except GanlabError as exc:
        _fail(run_dir, record, str(exc))
        raise
    except Exception as exc:
        _fail(run_dir, record, f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
        raise


def _fail(run_dir: Path, record: dict, reason: str) -> None:
    """Record the failure; a finished trial's earlier record is kept inside it (``earlier``), never lost."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / TRIAL_FILE
    earlier = read_json(path) if path.is_file() else {}
    failed = {**record, "status": "failed", "reason": reason.splitlines()[0]}
    if earlier.get("status") == "done" or "earlier" in earlier:
        failed["earlier"] = earlier.get("earlier", earlier)
    write_json(path, failed)


def _numbers(row: dict) -> dict:
    return {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _partial(run_dir: Path, trial: dict) -> dict:
    """The training seconds, epochs and generator steps of a trial stopped before its budget (from metrics.jsonl)."""
    rows = read_metrics(Run(run_dir))
    n_critic = max(int(trial["config"].get("train", {}).get("n_critic", 1)), 1)
    code = codes(Run(run_dir), rows[-1]["epoch"])
    return {"train_seconds": round(sum(r["seconds"] for r in rows), 1), "train_cpu_seconds": cpu_seconds(rows),
            "epochs": rows[-1]["epoch"], "g_steps": rows[-1]["step"] // n_critic, **({"code": code} if code else {})}


def train_trial(trial: dict, run_dir: Path, threads: int, cache_dir: str | None, on_epoch,
                stop: dict | None = None, device: str | None = None) -> dict:
    """Train (or resume, or keep) the trial's run directory; its training seconds and generator steps. A run that
    already meets the stopping rule is not trained further (stop.Collapsed). ``device`` (a runtime key, like the
    threads) places a new run; a resumed one keeps the device it was started on."""
    cfg = config_mod.from_dict(config_mod.as_stored(trial["config"]))
    cfg.train.threads = threads
    if device:
        cfg.train.device = device
    run = Run(run_dir)
    if run.config.is_file():
        have = spec_mod.comparable(config_mod.to_dict(load_config(run)))
        want = spec_mod.comparable(trial["config"])  # both with defaults filled in: an older record still matches
        if have != want:
            raise GanlabError(f"{run_dir} holds a run of another config ({spec_mod.difference(have, want)}); "
                              f"move it away or use another sweep folder")
        if not run.summary.is_file():
            stop_mod.enforce(stop, run_dir)
            train(None, run_dir, resume=True, progress=False, cache_dir=cache_dir, on_epoch=on_epoch)
    else:
        train(cfg, run_dir, progress=False, cache_dir=cache_dir, on_epoch=on_epoch)
    summary = read_json(run.summary)
    steps = (summary.get("final") or {}).get("step", 0)
    return {"train_seconds": summary["wall_seconds"], "train_cpu_seconds": summary.get("cpu_seconds"),
            "epochs": summary["epochs"],
            "g_steps": steps // max(cfg.train.n_critic, 1),
            **({"device": summary["device"]} if "device" in summary else {}),  # runs finished before it was kept: none
            **({"code": summary["code"]} if summary.get("code") else {})}  # the commits that trained it (code.jsonl)


def evaluate_trial(run_dir: Path, evaluate: dict, cache_dir: str | None, ref: str | None = None,
                   full: bool | None = None) -> dict:
    """The last checkpoint's n samples (prior, seed 0, G's EMA when kept) scored against ``ref``; kept in
    RUN/evals/ and reused when already there."""
    ref = ref or evaluate["ref"]
    full = evaluate["full"] if full is None else full
    base = {"checkpoint": "last", "weights": "ema", "seed": 0, "sampler_spec": "prior",
            "ref": reference(ref, cache_dir)[0]}
    kept = kept_evaluation(run_dir, base, evaluate["n"], full)
    if kept:
        return _kept(kept)
    G = load_generator(run_dir, "last", "ema")
    t0 = time.perf_counter()
    images = sample_images(G, evaluate["n"], seed=0, progress=False, prior=load_prior(run_dir, "last"))
    seconds = time.perf_counter() - t0
    result = score(images, ref=ref, cache=cache_dir, full=full, progress=False)
    result.update({k: v for k, v in base.items() if k != "ref"}, source=f"{run_dir} (last, {evaluate['n']} samples, seed 0)",
                  samples_per_s=round(evaluate["n"] / max(seconds, 1e-9), 1))
    return _kept(read_json(save_run_evaluation(run_dir, result, images)))


def _kept(evaluation: dict) -> dict:
    return {k: v for k, v in evaluation.items() if k not in ("label", "source")}


def objective(run_dir: Path, spec: Spec, metrics: dict, cache_dir: str | None) -> float:
    """The search's metric against its own reference (train by default): what Optuna minimises."""
    s = spec.search
    if s["ref"] != spec.evaluate["ref"]:
        metrics = evaluate_trial(run_dir, spec.evaluate, cache_dir, ref=s["ref"], full=registry.features_of(s["metric"]) == "inception")
    return float(metrics[s["metric"]])


def _trial_of(params: dict, spec: Spec) -> dict:
    """A grid trial as stored, or a search trial built from Optuna's point (first seed)."""
    if "trial" in params:
        return params["trial"]
    return spec_mod.trial(spec.rows[0], spec.seeds[0], spec.epochs, {k: params[k] for k in spec.search["space"]})


# ---------------------------------------------------------------- the sweep folder

def _sweep_record(spec: Spec) -> dict:
    return {"spec": spec.raw, "rows": [vars(r) for r in spec.rows], "seeds": spec.seeds, "epochs": spec.epochs,
            "evaluate": spec.evaluate, "search": spec.search, "stop": spec.stop,
            "trials": [] if spec.search else spec.trials()}


def _what_runs(record: dict) -> dict:
    """A sweep record as it decides what is trained and measured: the resolved rows, trials, seeds, budget,
    evaluation and search; not the SPEC's wording, the threads a trial gets, nor the reports' own numbers."""
    d = {"stop": None, **{k: v for k, v in record.items() if k not in ("spec", "replans")}}  # 'stop': older records
    d["evaluate"] = {"full_seeds": [], **d["evaluate"]}  # and before full_seeds
    d["trials"] = [{**t, "config": spec_mod.comparable(t["config"])} for t in record["trials"]]  # defaults filled in
    d["rows"] = [{"full_seeds": None, **{k: v for k, v in spec_mod.stored_row(r).items() if k != "auto_precision"}}
                 for r in record["rows"]]  # (and before a row had its own full_seeds, or its precision); whether a
    # row's arithmetic was auto is how the SPEC said it, not what runs
    return _without_reports(d)


def _without_reports(raw):
    """A SPEC without its ``report:`` annotations (the reports' own numbers change nothing that is run)."""
    if isinstance(raw, dict):
        return {k: _without_reports(v) for k, v in raw.items() if k != "report"}
    if isinstance(raw, list):
        return [_without_reports(v) for v in raw]
    return raw


def _spec_from(sweep: dict) -> Spec:
    return Spec([Row(**spec_mod.stored_row(r)) for r in sweep["rows"]], sweep["seeds"], sweep["epochs"], sweep["evaluate"],
                sweep["search"], sweep["spec"], sweep.get("stop"))


def _precision(trial: dict) -> str:
    return trial["config"]["train"]["precision"]


def _run_precision(out: Path, name: str) -> str | None:
    """The arithmetic of the run in OUT/trials/NAME (its config.yaml as stored: fp32 when it predates the key), or
    None when there is no run there yet."""
    path = out / TRIALS / name / "config.yaml"
    return config_mod.load(path, stored=True).train.precision if path.is_file() else None


def _replan(old: dict, new: dict, out: Path) -> dict | None:
    """When two grid sweep records differ only in which rows and seeds they run (rows added to the SPEC, or dropped
    before any of their trials started; the SPEC's ``seeds`` or a row's), which
    of a row's seeds get the full protocol (a row's ``full_seeds``) and, where the new SPEC pins it, in which
    arithmetic trials train (``train.precision``; a SPEC leaving it on auto resolves it per machine, and a machine that
    resolves it otherwise is refused as before): the trials this adds and drops, those it measures on the full
    protocol from now on (a finished one is measured again when the sweep resumes), those it trains in another
    arithmetic, and ``keep``: the trials that have started (their folder exists; adopted runs too) in another
    arithmetic than the plan's, which keep the one they started in. None when anything else differs. A dropped trial
    must not have started (it would leave a run the table does not show). The issue-19 uses: three seeds planned
    for every row, the third kept, and every seed fully measured, only for the rows that need it; and the trials not
    yet started trained in bf16 once bf16 was shown harmless (issue 23)."""
    if old["search"] or new["search"]:
        return None
    a, b = _what_runs(old), _what_runs(new)

    def row_plan(r):
        overrides = {k: v for k, v in r["overrides"].items() if k != "train.precision"}
        return {**{k: v for k, v in r.items() if k not in ("seeds", "full_seeds")}, "overrides": overrides}

    rest = [{k: v for k, v in d.items() if k not in ("trials", "seeds", "rows")} for d in (a, b)]
    if rest[0] != rest[1]:
        return None
    plans = [{r["name"]: row_plan(r) for r in d["rows"]} for d in (a, b)]
    if any(plans[0][n] != plans[1][n] for n in plans[0] if n in plans[1]):
        return None  # a row kept under its name must be the same row; rows may be added (and dropped, unstarted)
    was, now = ({t["name"]: t for t in d["trials"]} for d in (a, b))

    def plain(t):
        train = {k: v for k, v in t["config"]["train"].items() if k != "precision"}
        return {**{k: v for k, v in t.items() if k != "full"}, "config": {**t["config"], "train": train}}

    def full(record, t):
        return spec_mod.evaluation_for(record["evaluate"], t)["full"]

    both = [n for n in now if n in was]
    if any(plain(was[n]) != plain(now[n]) for n in both):
        return None
    auto = {r["name"] for r in new["rows"] if r.get("auto_precision")}
    switched = [n for n in both if _precision(was[n]) != _precision(now[n])]
    if any(now[n]["row"] in auto for n in switched):
        return None  # the arithmetic changed only because auto resolves otherwise here: not a plan
    dropped = [n for n in was if n not in now]
    started = [n for n in dropped if (out / TRIALS / n).exists()]
    if started:
        raise GanlabError(f"--resume {out}: the SPEC drops trials that have started ({', '.join(started)}: their "
                          f"folders are in {out / TRIALS}); keep their seeds in the SPEC")
    keep = {}
    for n in now:
        if (out / TRIALS / n).exists():
            begun = _run_precision(out, n) or (_precision(was[n]) if n in was else None)
            if begun and begun != _precision(now[n]):
                keep[n] = begun
    return {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "added": [n for n in now if n not in was], "dropped": dropped,
            "full": [n for n in both if full(b, now[n]) and not full(a, was[n])],
            "not_full": [n for n in both if full(a, was[n]) and not full(b, now[n])],
            "precision": {n: _precision(now[n]) for n in switched if n not in keep}, "keep": keep}


def _keeping(trials: list[dict], old: dict, keep: dict) -> list[dict]:
    """The new plan's trials; those in ``keep`` with the arithmetic they started in (made explicit) and, when the old
    record holds them, the config they started with."""
    before = {t["name"]: t for t in old["trials"]}
    out = []
    for t in trials:
        if t["name"] in keep:
            config = copy.deepcopy((before.get(t["name"]) or t)["config"])
            config.setdefault("train", {})["precision"] = keep[t["name"]]
            t = {**t, "config": config}
        out.append(t)
    return out


def open_sweep(out: Path, spec: Spec | None, resume: bool) -> dict:
    """The record of a new sweep (OUT must be new or empty), or OUT/sweep.json for --resume (refusing a changed
    SPEC, naming the difference, unless it only replans seeds or a pinned arithmetic: ``_replan``)."""
    path = out / SWEEP_FILE
    if resume:
        if not path.is_file():
            raise GanlabError(f"{out} is not a sweep folder (no {SWEEP_FILE}); start one with ganlab sweep SPEC --out {out}")
        sweep = read_json(path)
        if spec is not None:
            new = _sweep_record(spec)
            diff = spec_mod.difference(_what_runs(sweep), _what_runs(new))
            change = _replan(sweep, new, out) if diff else None
            if change:  # seeds or arithmetic replanned: every trial that has started keeps its arithmetic
                keep = change.pop("keep")
                changed = any(change[k] for k in ("added", "dropped", "full", "not_full", "precision"))  # else: the
                # order only, or trials that keep the arithmetic they started in
                if changed and keep:
                    change["kept"] = keep
                sweep = {**new, "trials": _keeping(new["trials"], sweep, keep),
                         "replans": sweep.get("replans", []) + ([change] if changed else [])}
                write_json(path, sweep)
                if changed:
                    print(f"sweep {out}: {replan_text(change)}", flush=True)
                elif keep:
                    print(f"sweep {out}: {len(keep)} trial(s) that had started keep the arithmetic they started in, "
                          f"not the SPEC's: {', '.join(f'{n} ({p})' for n, p in keep.items())}", flush=True)
            elif diff:
                raise GanlabError(f"--resume {out}: the SPEC differs from the one this sweep was started with ({diff}); "
                                  f"resume without SPEC, or start a new sweep with another --out")
            elif new["spec"] != sweep["spec"]:  # only the reports' own numbers changed: annotations, kept
                sweep = {**sweep, "spec": new["spec"], "rows": new["rows"]}
                write_json(path, sweep)
        return sweep
    if spec is None:
        raise GanlabError("ganlab sweep needs a SPEC file (or --resume OUT)")
    if path.is_file():
        raise GanlabError(f"{out} holds a sweep already; continue it with ganlab sweep --resume {out}, "
                          f"or choose another --out")
    if out.exists() and any(p.name != TRIALS for p in out.iterdir()):
        raise GanlabError(f"{out} exists and is not empty; choose another --out for a new sweep")
    # OUT/trials/NAME already there (runs trained before, or elsewhere): adopted when it holds NAME's config
    return _sweep_record(spec)  # written by run_sweep once Ray is up: a failed start leaves nothing behind


# ---------------------------------------------------------------- progress lines

def _eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def _progress_callback(quiet: bool):
    from ray import tune

    class Progress(tune.Callback):
        """One line per trial every ~5 % of its epochs (epoch, losses, D outputs, ETA) and one when it ends."""

        def __init__(self):
            self.speed: dict[str, list[float]] = {}

        def on_trial_result(self, iteration, trials, trial, result, **info):
            line = progress_line(result, self.speed, quiet)
            if line:
                print(line, flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            name = (trial.config.get("trial") or {}).get("name", trial.trial_id)
            print(f"{name}: error (recorded in its trial.json; --resume retries it)", flush=True)

    return Progress()


def progress_line(result: dict, speed: dict, quiet: bool) -> str | None:
    name = result.get("trial", "?")
    if result.get("done"):
        parts = [f"MNIST-FID {result['mnist_fid']:.1f}", f"classes {result.get('classes_covered')}/10"]
        if "fid" in result:
            parts.insert(0, f"FID {result['fid']:.2f}  P {result['precision']:.3f}  R {result['recall']:.3f}")
        if "objective" in result:
            parts.append(f"objective {result['objective']:.4g}")
        return f"{name}: done  {'  '.join(parts)}"
    if result.get("failed"):
        return f"{name}: failed: {result.get('reason', '(reason in its trial.json)')}"
    if "epoch" not in result:
        return None
    epoch, epochs = int(result["epoch"]), int(result["epochs"])
    times = speed.setdefault(name, [])
    times.append(result["seconds"])
    every = max(1, epochs // 20)
    if quiet or not (epoch == 1 or epoch % every == 0 or epoch == epochs):
        return None
    eta = _eta(sum(times[-5:]) / len(times[-5:]) * (epochs - epoch))
    return (f"{name}: epoch {epoch}/{epochs}  loss_d {result['loss_d']:.4f}  loss_g {result['loss_g']:.4f}  "
            f"D(x) {result['d_real']:.3f}  D(G(z)) {result['d_fake']:.3f}  {result['seconds']:.1f}s/epoch  ETA {eta}")


# ---------------------------------------------------------------- the driver

def _quiet_ray() -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # ganlab writes its own logs and TensorBoard
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")  # the objective comes with the last result
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Ray starts its workers at niceness 15: trials would then yield the CPUs to anything else running here
    os.environ.setdefault("RAY_worker_niceness", "0")
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


LOOPBACK = ("127.", "localhost")


def _check_address(address: str) -> None:
    """A HOST:PORT that nothing answers at is a one-line error here, not Ray's endless reconnecting."""
    if address == "auto":  # as Ray resolves it: $RAY_ADDRESS, else the cluster this machine started last
        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        found = os.environ.get("RAY_ADDRESS") or (current.read_text().strip() if current.is_file() else "")
        if not found:
            raise GanlabError("--address auto found no Ray cluster on this machine; start one with ray start --head, "
                              "or give --address HOST:PORT")
        address = found
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise GanlabError(f"--address {address!r} is not accepted; accepted: auto, or HOST:PORT of 'ray start --head'")
    if host.startswith(LOOPBACK):
        # Ray would swap a loopback address for the machine's outward one; this keeps it (set it for the head too)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as exc:
        raise GanlabError(f"could not start the Ray cluster at {address}: nothing answers there "
                          f"({exc.strerror or type(exc).__name__}); start it with ray start --head --port={port}") from None


def start_ray(address: str | None, cpus: int | None):
    import ray

    if address:
        _check_address(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
        else:
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR,
                     configure_logging=True)
    except Exception as exc:  # Ray raises plain Exceptions too (e.g. "the current node timed out during startup")
        where = f"the Ray cluster at {address}" if address else "an embedded Ray"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GanlabError(f"could not start {where}: {first}") from None
    return ray


def run_sweep(spec: Spec | None, out: str | os.PathLike, *, resume: bool = False, cpus: int | None = None,
              threads: int = 1, address: str | None = None, cache_dir: str | None = None,
              quiet: bool = False) -> Path:
    """Run (or continue) the sweep in OUT and write its table; returns OUT."""
    out = Path(out).resolve()
    if threads < 1:
        raise GanlabError(f"--threads-per-trial {threads} must be >= 1")
    if cpus is not None and cpus < threads:
        raise GanlabError(f"--cpus {cpus} must be >= --threads-per-trial {threads}")
    sweep = open_sweep(out, spec, resume)
    spec = _spec_from(sweep)
    slow = {t["name"]: w for t in sweep["trials"] if not (out / TRIALS / t["name"] / "summary.json").is_file()
            for w in [config_mod.emulated_bf16_warning(t["config"]["train"])] if w}
    if slow:  # say it before hours go: e.g. a SPEC pinned to bf16 on a machine where bf16 is fast, resumed on one where not
        names = list(slow)
        print(f"sweep {out}: {len(names)} trial(s) to train in bf16 ({', '.join(names[:3])}"
              f"{', ...' if len(names) > 3 else ''}); " + slow[names[0]], file=sys.stderr, flush=True)

    mnist.fetch(cache_dir)  # once here, not in every trial
    _quiet_ray()
    ray = start_ray(address, cpus)
    if not resume:
        write_json(out / SWEEP_FILE, sweep)
    from ray import tune

    try:
        trainable = tune.with_resources(
            tune.with_parameters(run_trial, out=str(out), sweep=sweep, cache_dir=cache_dir, threads=threads),
            {"cpu": threads})
        path = out / EXPERIMENT
        if spec.search and tune.Tuner.can_restore(str(path)):  # Optuna's state (the points it sampled) lives there
            tuner = tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
        else:
            if path.exists():
                # a grid sweep resumed: a fresh Tune experiment over the same trials, in the SPEC's order (a restored
                # one runs its pending trials in another order). The state is in the trial folders: a finished trial
                # is adopted, an unfinished one resumes from its last.pt. The old experiment is kept beside.
                path.rename(out / f"{EXPERIMENT}-{time.strftime('%Y%m%d-%H%M%S')}")
            tuner = tune.Tuner(trainable, param_space=_param_space(spec, sweep),
                               tune_config=_tune_config(spec), run_config=_run_config(out, quiet))
        n = spec.search["trials"] if spec.search else len(sweep["trials"])
        where = f"the Ray cluster at {address}" if address else "embedded Ray"
        print(f"sweep {out}: {n} trials, {threads} thread(s) each, {where} with "
              f"{int(ray.cluster_resources().get('CPU', 0))} CPUs", flush=True)
        interrupted = False
        try:
            tuner.fit()
        except KeyboardInterrupt:
            interrupted = True
    finally:
        ray.shutdown()

    rows = write_table(out)
    if interrupted or not _all_ended(out, sweep):
        print(f"sweep {out} stopped before every trial ended; continue it with: ganlab sweep --resume {out}",
              file=sys.stderr)
    print(f"wrote {out / 'table.md'} and {out / 'table.json'} ({rows} rows)")
    return out


def _all_ended(out: Path, sweep: dict) -> bool:
    names = [t["name"] for t in sweep["trials"]] if sweep["trials"] else \
        [p.name for p in (out / TRIALS).glob("*") if p.is_dir()]
    return all((out / TRIALS / n / TRIAL_FILE).is_file() for n in names) and bool(names)


def _param_space(spec: Spec, sweep: dict) -> dict:
    from ray import tune

    if not spec.search:
        return {"trial": tune.grid_search(sweep["trials"])}
    space = {}
    for key, rng in spec.search["space"].items():
        kind, args = next(iter(rng.items()))
        space[key] = {"uniform": lambda a: tune.uniform(*a), "loguniform": lambda a: tune.loguniform(*a),
                      "randint": lambda a: tune.randint(a[0], a[1] + 1), "choice": tune.choice}[kind](args)
    return space


def trial_dirname(trial) -> str:
    """Tune's folder of a trial, OUT/tune/NAME_ID: named like its run directory (not by its whole config)."""
    name = trial.config.get("trial", {}).get("name") if isinstance(trial.config.get("trial"), dict) else None
    return f"{name}_{trial.trial_id}" if name else f"search_{trial.trial_id}"


def _tune_config(spec: Spec):
    from ray import tune

    names = {"trial_name_creator": trial_dirname, "trial_dirname_creator": trial_dirname, "reuse_actors": False}
    if not spec.search:
        return tune.TuneConfig(**names)
    from .search import FinalMetricOptuna

    return tune.TuneConfig(search_alg=FinalMetricOptuna(seed=spec.seeds[0]), metric="objective",
                           mode=spec.search["mode"], num_samples=spec.search["trials"], **names)


def _run_config(out: Path, quiet: bool):
    from ray import tune

    return tune.RunConfig(name=EXPERIMENT, storage_path=str(out), verbose=0,
                          callbacks=[_progress_callback(quiet)],
                          failure_config=tune.FailureConfig(max_failures=0),
                          checkpoint_config=tune.CheckpointConfig(num_to_keep=1))
