"""Train and measure some trials of a sweep folder without Ray, many at once on one machine: an accelerator lent for a
few minutes (each trial on ``--device cuda`` in its own process), or any machine with more cores than trials.

    python scripts/device_trials.py SWEEP_DIR --trials a-s0,b-s0 --device cuda --workers 14 --deadline 420

Each trial is ``sweeps.engine.execute_trial`` (train, stop when collapsed, evaluate as the sweep's SPEC says, write
trial.json): the same trial folder the sweep writes, so ``ganlab sweep --resume SWEEP_DIR`` adopts it. Trials that
are still running at ``--deadline`` seconds are stopped and their folders removed (the sweep trains them again later,
from scratch); with ``--shed``, trials predicted (at their recent seconds per epoch) to miss the deadline are stopped
earlier, the slowest first, so that the others can go faster, which helps only where trials slow each other down. ``--pack DIR`` then writes the finished trials, without optimiser states and periodic
checkpoints (they are not resumed: they are finished), as one tar stream split in files of ``--part-mib``.
Unpack here with ``cat DIR/trials.tar.* | tar x -C SWEEP_DIR``.

Measured on an H200 lent for 15 minutes (session 14, docs/RESULTS.md §4): the eager training step is bound by the
host's per-operation overhead, not by the GPU: vanilla 4.6 s per 100-epoch-budget epoch (938 steps, 4.9 ms/step)
alone and ~4.5-5 s with 15 trials side by side under MPS (so 15 trials in parallel cost what one costs), wgan-clip
3.3 s. A 100-epoch trial there therefore needs ~480 s plus its evaluation (~10 s): give --deadline ~560 with 15
workers in one 590-second call (with 445 s and shedding, every trial was stopped). The Inception protocol runs at
~1,700 img/s there. Bring the parts back in calls of at most 4 parts (the device tool returns 64 MiB per call).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlab.checkpoint import Checkpoint  # noqa: E402
from ganlab.errors import GanlabError  # noqa: E402
from ganlab.io import read_json, torch_load, torch_save, write_json  # noqa: E402
from ganlab.sweeps import engine  # noqa: E402
from ganlab.sweeps.layout import SWEEP_FILE, TRIAL_FILE, TRIALS  # noqa: E402


REPLICA = "-replica"  # --trials vanilla-s0-replica: vanilla-s0 trained again here, beside the sweep's own


def one(sweep_dir: Path, name: str, device: str) -> None:
    sweep = read_json(sweep_dir / SWEEP_FILE)
    spec = engine._spec_from(sweep)
    replica = name.endswith(REPLICA)
    trial = next(t for t in sweep["trials"] if t["name"] == name.removesuffix(REPLICA))
    if replica:  # the same config and seed in a folder of its own, its samplers left to the original
        trial = {**trial, "name": name, "samplers": []}
    t0 = time.time()

    def each(row: dict) -> None:
        if row["epoch"] % 10 == 0 or row["epoch"] == 1:
            print(f"{name}: epoch {row['epoch']}  {row['seconds']:.2f}s/epoch  D(x) {row['d_real']:.3f}  "
                  f"D(G(z)) {row['d_fake']:.3f}  {time.time() - t0:.0f}s", flush=True)

    final = engine.execute_trial(trial, spec, sweep_dir, threads=1, on_epoch=each, device=device)
    m = final["metrics"]
    print(f"{name}: done in {time.time() - t0:.0f}s  MNIST-FID {m['mnist_fid']:.2f}"
          + (f"  FID {m['fid']:.2f}  P {m['precision']:.3f}  R {m['recall']:.3f}" if "fid" in m else ""), flush=True)


def epochs_done(run: Path) -> list[float]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line)["seconds"])
        except (ValueError, KeyError):
            pass
    return rows


def drive(args) -> int:
    sweep_dir = Path(args.sweep_dir).resolve()
    if args.spec:  # a new sweep folder recorded as ganlab sweep would, or the same SPEC as the one there
        from ganlab.sweeps import load

        sweep_dir.mkdir(parents=True, exist_ok=True)
        engine.open_sweep(sweep_dir, load(args.spec), resume=(sweep_dir / SWEEP_FILE).is_file())
        if not (sweep_dir / SWEEP_FILE).is_file():
            write_json(sweep_dir / SWEEP_FILE, engine._sweep_record(load(args.spec)))
    sweep = read_json(sweep_dir / SWEEP_FILE)
    budget = {t["name"]: t["config"]["train"]["epochs"] for t in sweep["trials"]}
    budget.update({n + REPLICA: e for n, e in budget.items()})
    names = list(dict.fromkeys(n for n in args.trials.split(",") if n))  # each once
    unknown = [n for n in names if n not in budget]
    if unknown:
        print(f"unknown trials {unknown}; the sweep has {sorted(budget)}", file=sys.stderr)
        return 2
    start = time.time()
    if args.warm_reference:  # the reference's features once, before the trials race to compute them
        from ganlab.metrics.evaluate import evaluate
        from ganlab.metrics.imagesets import reference

        ref = sweep["evaluate"]["ref"]
        res = evaluate(reference("train")[1][:2000], ref=ref, full=True, progress=False)
        print(f"reference {ref} ready in {time.time() - start:.0f}s (2000 training images vs it: FID {res['fid']:.2f})",
              flush=True)
    if args.control:  # a run trained elsewhere, evaluated here as the sweep evaluates its trials
        t0 = time.time()
        for run in args.control.split(","):
            m = engine.evaluate_trial(Path(run), {**sweep["evaluate"], "full": True}, None)
            print(f"control {run}: FID {m['fid']:.3f}  P {m['precision']:.4f}  R {m['recall']:.4f}  D {m['density']:.4f}  "
                  f"C {m['coverage']:.4f}  MNIST-FID {m['mnist_fid']:.3f}  ({time.time() - t0:.0f}s)", flush=True)
    logs = sweep_dir / "device-logs"
    logs.mkdir(exist_ok=True)
    queue, running, shed, finished = list(names), {}, [], []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout's TERM still runs the finally below
    try:
        _loop(args, sweep_dir, budget, start, logs, env, queue, running, shed, finished)
    finally:  # the trials run in sessions of their own: never leave one behind holding the GPU and its run lock
        for proc in running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    print(f"finished {len(finished)}: {finished}; stopped or failed {len(shed)}: {shed}", flush=True)
    if args.pack:
        pack(sweep_dir, finished, Path(args.pack), args.part_mib)
    return 0


def _loop(args, sweep_dir: Path, budget: dict, start: float, logs: Path, env: dict, queue: list, running: dict,
          shed: list, finished: list) -> None:
    while queue or running:
        now = time.time() - start
        while queue and len(running) < args.workers and now < args.deadline * 0.35:
            name = queue.pop(0)
            with open(logs / f"{name}.log", "w") as log:
                running[name] = subprocess.Popen([sys.executable, __file__, str(sweep_dir), "--one", name,
                                                  "--device", args.device], stdout=log, stderr=subprocess.STDOUT,
                                                 env=env, start_new_session=True)
        if now >= args.deadline * 0.35:
            shed += queue
            queue = []
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                running.pop(name)
                ok = (sweep_dir / TRIALS / name / TRIAL_FILE).is_file() and \
                    read_json(sweep_dir / TRIALS / name / TRIAL_FILE).get("status") == "done"
                (finished if ok else shed).append(name)
                print(f"{now:.0f}s {name}: {'finished' if ok else f'exited {proc.returncode}'}", flush=True)
        # predicted end of each trial still training: its remaining epochs at its recent pace, plus its evaluation
        late = {}
        for name in running:
            secs = epochs_done(sweep_dir / TRIALS / name)
            if len(secs) >= 2 and len(secs) < budget[name]:
                pace = sum(secs[-3:]) / len(secs[-3:])
                late[name] = now + (budget[name] - len(secs)) * pace + args.reserve
        over = {n: t for n, t in late.items() if t > args.deadline} if args.shed else {}
        if running and now > args.deadline:  # every trial still running, at once
            victims = list(running)
        elif over and now > 30:  # --shed: the one predicted to end last
            victims = [max(over, key=over.get)]
        else:
            victims = []
        for victim in victims:
            proc = running[victim]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            running.pop(victim)
            if (sweep_dir / TRIALS / victim / TRIAL_FILE).is_file() and proc.returncode == 0:
                finished.append(victim)  # it ended just now
                continue
            if (sweep_dir / TRIALS / victim / "summary.json").is_file():  # trained, stopped while evaluating:
                finished.append(victim)  # kept; the sweep evaluates it when it adopts it
                print(f"{now:.0f}s stopped {victim} while evaluating (its training is kept)", flush=True)
                continue
            shed.append(victim)
            shutil.rmtree(sweep_dir / TRIALS / victim, ignore_errors=True)
            print(f"{now:.0f}s stopped {victim} (predicted to end at {late.get(victim, 0):.0f}s, deadline "
                  f"{args.deadline}s); {len(running)} still running", flush=True)
        if not running and not queue:
            break
        status = "  ".join(f"{n}:{len(epochs_done(sweep_dir / TRIALS / n))}" for n in running)
        print(f"{now:.0f}s running {status}", flush=True)
        time.sleep(args.every)


def pack(sweep_dir: Path, names: list[str], dest: Path, part_mib: int) -> None:
    """The finished trials without optimiser states, periodic checkpoints and TensorBoard logs, as one tar split in
    parts of part_mib (what a size-limited transfer can carry)."""
    dest.mkdir(parents=True, exist_ok=True)
    if not names:
        print("nothing to pack: no trial finished", flush=True)
        return
    stage = dest.parent / (dest.name + "-stage")
    shutil.rmtree(stage, ignore_errors=True)
    for name in names:
        src, out = sweep_dir / TRIALS / name, stage / TRIALS / name
        shutil.copytree(src, out, ignore=shutil.ignore_patterns("epoch_*.pt", "tb", "last.pt", "*.tmp"))
        ck = torch_load(src / "checkpoints" / "last.pt")
        for key in (Checkpoint.OPT_G, Checkpoint.OPT_D):
            ck.pop(key, None)
        torch_save(ck, out / "checkpoints" / "last.pt")
    shutil.copytree(sweep_dir / "device-logs", stage / "device-logs")
    with tarfile.open(dest / "trials.tar", "w") as tar:
        tar.add(stage / TRIALS, arcname=TRIALS)
        tar.add(stage / "device-logs", arcname="device-logs")
    shutil.rmtree(stage)
    size, part = (dest / "trials.tar").stat().st_size, part_mib << 20
    with open(dest / "trials.tar", "rb") as f:
        for i in range(0, size, part):
            (dest / f"trials.tar.{i // part:02d}").write_bytes(f.read(part))
    (dest / "trials.tar").unlink()
    write_json(dest / "parts.json", {"trials": names, "bytes": size, "parts": -(-size // part)})
    print(f"packed {len(names)} trials, {size / 2**20:.1f} MiB in {-(-size // part)} parts of {part_mib} MiB", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir")
    ap.add_argument("--trials", default="", help="comma-separated trial names, in priority order")
    ap.add_argument("--spec", help="a sweep SPEC: SWEEP_DIR is made from it when it holds no sweep yet")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu", "auto"))
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--deadline", type=float, default=420, help="seconds from the start")
    ap.add_argument("--reserve", type=float, default=45, help="seconds kept for a trial's evaluation")
    ap.add_argument("--every", type=float, default=10)
    ap.add_argument("--shed", action="store_true",
                    help="stop the trial predicted to end last while any is predicted past the deadline (helps only "
                         "where trials slow each other down; on the H200 they did not)")
    ap.add_argument("--warm-reference", action="store_true")
    ap.add_argument("--control", help="run folders (comma-separated) to evaluate first, full protocol")
    ap.add_argument("--pack")
    ap.add_argument("--part-mib", type=int, default=15)
    args = ap.parse_args()
    try:
        if args.one:
            one(Path(args.sweep_dir).resolve(), args.one, args.device)
            return 0
        return drive(args)
    except GanlabError as exc:
        print(f"device_trials: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
