"""ganlab sweep: SPEC checks, an embedded sweep and its table, a SIGKILLed sweep that resumes bit-exactly, a sweep
on a loopback Ray cluster started (and stopped) by the test."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ganlab import cli
from ganlab.errors import GanlabError
from ganlab.io import torch_load, write_json
from ganlab.sweeps import engine, parse
from ganlab.sweeps.table import aggregate, replan_text, write_table
from ganlab.runs import Run
from ganlab.runs import RunLock

GANLAB = [sys.executable, "-m", "ganlab.cli"]
TINY = {"data.subset": 256, "train.sample_every": 1, "train.checkpoint_every": 1}


def spec_file(tmp_path, name="spec.yaml", **over) -> Path:
    spec = {"configs": ["vanilla"], "set": dict(TINY), "seeds": [0, 1], "epochs": 2, "evaluate": {"n": 100}}
    spec.update(over)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def run_cli(args, env=None, timeout=600):
    return subprocess.run(GANLAB + args, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("over, says", [
    ({"configs": ["vanila"]}, "unknown preset 'vanila'"),
    ({"set": {"optim.lr_dd": 1}}, "unknown config key 'optim.lr_dd'"),
    ({"set": {"optim.lr_d": "fast"}}, "config key 'optim.lr_d' = 'fast' is not a valid float"),
    ({"grid": {"optim.lr_d": 1e-4}}, "SPEC key 'grid.optim.lr_d' = 0.0001 must be a non-empty list"),
    ({"seeds": "0"}, "SPEC key 'seeds' = '0' must be a list of integers"),
    ({"epochs": 0}, "SPEC key 'epochs' = 0 must be an integer >= 1"),
    ({"evaluate": {"n": "many"}}, "SPEC key 'evaluate.n' = 'many' is not a valid int"),
    ({"evaluat": {}}, "SPEC key 'evaluat' is unknown"),
    ({"configs": [{"preset": "vanilla", "set": {"train.loss": "nope"}}]}, "'train.loss' = 'nope' is not accepted"),
    ({"search": {"trials": 2, "space": {"optim.lr_d": {"loguniform": [0, 1]}}}}, "loguniform takes [low, high]"),
    ({"search": {"trials": 2, "space": {"optim.lr_dd": {"choice": [1, 2]}}}}, "unknown config key 'optim.lr_dd'"),
    ({"stop": {"collapsed_epochs": 0}}, "SPEC key 'stop.collapsed_epochs' = 0 must be an integer >= 1"),
    ({"stop": {"dead": 3}}, "SPEC key 'stop.dead' is unknown; accepted: collapsed_epochs"),
    ({"evaluate": {"full_seeds": "0"}}, "SPEC key 'evaluate.full_seeds' = '0' must be a list of integers"),
    ({"set": {"train.precision": None}}, "config key 'train.precision' = None is not a valid str"),
    ({"set": {"train.precision": "fp16"}}, "'train.precision' = 'fp16' is not accepted; accepted: auto, fp32, bf16"),
    ({"configs": [{"config": "bad-train.yaml"}]}, "config section 'train' must be a mapping, got 3"),
])
def test_spec_errors_are_one_line_before_any_trial(tmp_path, capsys, over, says):
    (tmp_path / "bad-train.yaml").write_text("train: 3\n")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec_file(tmp_path, **over)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err
    assert not out.exists()  # nothing started, nothing written


def test_grid_expands_rows_and_names_trials(tmp_path):
    spec = parse(yaml.safe_load(spec_file(tmp_path, grid={"optim.lr_d": [1e-4, 2e-4]}).read_text()))
    names = [t["name"] for t in spec.trials()]
    assert names == ["vanilla_lr_d=0.0001-s0", "vanilla_lr_d=0.0002-s0", "vanilla_lr_d=0.0001-s1",
                     "vanilla_lr_d=0.0002-s1"]  # seed by seed: a sweep stopped early covers every row
    t = spec.trials()[3]
    assert t["config"]["optim"]["lr_d"] == 2e-4 and t["config"]["seed"] == 1 and t["config"]["train"]["epochs"] == 2


def test_rows_may_have_their_own_seeds(tmp_path):
    spec = parse(yaml.safe_load(spec_file(tmp_path, configs=["vanilla", {"preset": "wgan-gp", "seeds": [0, 1, 2]}],
                                          seeds=[0]).read_text()))
    assert [t["name"] for t in spec.trials()] == ["vanilla-s0", "wgan-gp-s0", "wgan-gp-s1", "wgan-gp-s2"]


def test_resume_refuses_a_changed_spec_and_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    out = tmp_path / "sw"
    record = engine.open_sweep(out, parse(yaml.safe_load(spec_file(tmp_path).read_text())), resume=False)
    write_json(out / engine.SWEEP_FILE, record)  # what run_sweep writes once Ray is up
    assert cli.main(["sweep", str(spec_file(tmp_path, "b.yaml", epochs=3)), "--resume", str(out)]) == 2
    assert "'epochs' was 2, now 3" in capsys.readouterr().err
    # the reports' own numbers are annotations: adding one is accepted and recorded, nothing else may change
    annotated = spec_file(tmp_path, "c.yaml", configs=[{"preset": "vanilla", "report": {"fid": 63.99, "source": "001"}}])
    assert engine.open_sweep(out, parse(yaml.safe_load(annotated.read_text())), resume=True)["rows"][0]["report"] \
        == {"fid": 63.99, "source": "001"}
    assert json.loads((out / engine.SWEEP_FILE).read_text())["rows"][0]["report"]["fid"] == 63.99
    # a record written before ganlab had a config key (here train.phases, session 13) resumes: the key's default
    # trains what the record's config trained
    old = json.loads((out / engine.SWEEP_FILE).read_text())
    for t in old["trials"]:
        del t["config"]["train"]["phases"]
    write_json(out / engine.SWEEP_FILE, old)
    engine.open_sweep(out, parse(yaml.safe_load(annotated.read_text())), resume=True)
    assert cli.main(["sweep", str(spec_file(tmp_path)), "--out", str(out)]) == 2
    assert "holds a sweep already" in capsys.readouterr().err
    assert cli.main(["sweep", "--resume", str(tmp_path)]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err


def test_table_aggregates_mean_std_and_failures():
    trials = [{"name": "a-s0", "row": "a", "seed": 0, "status": "done", "metrics": {"mnist_fid": 10.0}, "train_seconds": 5,
               "train_cpu_seconds": 4.5},
              {"name": "a-s1", "row": "a", "seed": 1, "status": "done", "metrics": {"mnist_fid": 14.0}, "train_seconds": 7,
               "train_cpu_seconds": None},  # trained (in part) before CPU seconds were kept
              {"name": "a-s2", "row": "a", "seed": 2, "status": "failed", "reason": "training diverged in epoch 3"},
              {"name": "b-s0", "row": "b", "seed": 0, "status": "pending", "planned_samplers": ["drs"]}]
    a, b, b_drs = aggregate(trials)
    assert b_drs["row"] == "b + drs" and b_drs["pending"] == [0]  # a sampler's row waits for its base
    assert a["metrics"]["mnist_fid"]["mean"] == 12.0
    assert a["metrics"]["mnist_fid"]["std"] == pytest.approx(2 ** 0.5 * 2)  # sample std of 10, 14
    assert a["metrics"]["mnist_fid"]["seeds"] == {"0": 10.0, "1": 14.0}
    assert a["failed"] == {"2": "training diverged in epoch 3"} and a["done"] == 2
    assert a["metrics"]["train_seconds"]["seeds"] == {"0": 5, "1": 7}
    assert a["metrics"]["train_cpu_seconds"]["seeds"] == {"0": 4.5}  # a missing value is not a zero
    assert b["pending"] == [0] and b["metrics"] == {}


def test_table_shows_each_seeds_mnist_fid_beside_a_headline_measured_on_fewer_seeds():
    """With the full protocol on seed 0 only, FID's cell is seed 0's; the seeds it does not cover still show, by the
    MNIST-FID every trial has."""
    from ganlab.sweeps.table import markdown

    trials = [{"name": "a-s0", "row": "a", "seed": 0, "status": "done", "metrics": {"fid": 40.0, "mnist_fid": 150.0}},
              {"name": "a-s1", "row": "a", "seed": 1, "status": "done", "metrics": {"mnist_fid": 170.0}}]
    sweep = {"rows": [{"name": "a"}], "evaluate": {"n": 100, "ref": "test", "full": False, "full_seeds": [0]},
             "epochs": 2, "seeds": [0, 1]}
    head, _, row = markdown(aggregate(trials), sweep).splitlines()[2:5]
    cells = dict(zip(head.split(" | "), row.split(" | ")))
    assert cells["FID"] == "40.00" and cells["per seed (FID)"] == "s0: 40.00"
    assert cells["MNIST-FID"] == "160.00 ± 14.14" and cells["per seed (MNIST-FID)"] == "s0: 150.00, s1: 170.00"


def test_resume_with_other_seeds_replans_only_trials_that_have_not_started(tmp_path, capsys):
    out = tmp_path / "sw"

    def spec(name, **over):
        return parse(yaml.safe_load(spec_file(tmp_path, name, **over).read_text()))

    three = {"configs": ["vanilla", "wgan-gp"], "seeds": [0, 1, 2]}
    record = engine.open_sweep(out, spec("a.yaml", **three), resume=False)
    for row in record["rows"]:
        del row["full_seeds"]  # as sweeps recorded their rows before a row had full_seeds
    write_json(out / engine.SWEEP_FILE, record)
    (out / "trials" / "vanilla-s1").mkdir(parents=True)  # a trial that has started
    # the third seed kept for one row only (issue 19: for the best rows and the collapsing ones)
    # and every seed of that row measured on the full protocol
    narrowed = {"configs": ["vanilla", {"preset": "wgan-gp", "seeds": [0, 1, 2], "full_seeds": [0, 1, 2]}], "seeds": [0, 1]}
    sweep = engine.open_sweep(out, spec("b.yaml", **narrowed), resume=True)
    assert [t["name"] for t in sweep["trials"]] == ["vanilla-s0", "wgan-gp-s0", "vanilla-s1", "wgan-gp-s1", "wgan-gp-s2"]
    (change,) = sweep["replans"]
    assert (change["added"], change["dropped"], change["not_full"]) == ([], ["vanilla-s2"], [])
    assert change["full"] == ["wgan-gp-s0", "wgan-gp-s1", "wgan-gp-s2"]
    assert "added none; dropped vanilla-s2; the full protocol also for wgan-gp-s0, wgan-gp-s1, wgan-gp-s2" \
        in capsys.readouterr().out
    assert json.loads((out / engine.SWEEP_FILE).read_text())["trials"] == sweep["trials"]  # what --resume runs next
    assert engine.open_sweep(out, spec("b.yaml", **narrowed), resume=True) == sweep  # the same SPEC again: no change
    assert engine.open_sweep(out, None, resume=True) == sweep
    write_table(out)  # the table says what was dropped (its rows show the seeds they plan: vanilla 0/2)
    table = (out / "table.md").read_text()
    assert "Replanned on " in table and "dropped vanilla-s2; the full protocol also for wgan-gp-s0" in table
    assert "the full protocol on wgan-gp's seeds [0, 1, 2]" in table and "| vanilla | 0/2 |" in table
    with pytest.raises(GanlabError, match=r"drops trials that have started \(vanilla-s1"):
        engine.open_sweep(out, spec("c.yaml", configs=["vanilla", "wgan-gp"], seeds=[0]), resume=True)
    back = engine.open_sweep(out, spec("d.yaml", **three), resume=True)["replans"][1]
    assert (back["added"], back["full"], back["not_full"]) == (["vanilla-s2"], [], ["wgan-gp-s0", "wgan-gp-s1", "wgan-gp-s2"])
    reordered = engine.open_sweep(out, spec("f.yaml", **{**three, "seeds": [2, 1, 0]}), resume=True)
    assert reordered["trials"][0]["name"] == "vanilla-s2" and len(reordered["replans"]) == 2  # an order is no replan
    # a row added (e.g. a diagnosed variant of a row): its trials are added, the other rows' are kept
    grown = engine.open_sweep(out, spec("h.yaml", **{**three, "configs": ["vanilla", "wgan-gp", "hinge"]}), resume=True)
    assert grown["replans"][-1]["added"] == ["hinge-s0", "hinge-s1", "hinge-s2"] and not grown["replans"][-1]["dropped"]
    assert [t["name"] for t in grown["trials"]][:3] == ["vanilla-s0", "wgan-gp-s0", "hinge-s0"]
    with pytest.raises(GanlabError, match="the SPEC differs"):  # a row kept under its name, with another config
        engine.open_sweep(out, spec("i.yaml", **{**three, "configs": [
            "vanilla", {"preset": "wgan-gp", "set": {"optim.lr_d": 3e-4}}, "hinge"]}), resume=True)
    with pytest.raises(GanlabError, match="the SPEC differs"):  # the same, with all its seeds replaced
        engine.open_sweep(out, spec("k.yaml", **{**three, "configs": [
            "vanilla", "wgan-gp", {"preset": "hinge", "seeds": [5], "set": {"optim.lr_d": 3e-4}}]}), resume=True)
    shrunk = engine.open_sweep(out, spec("j.yaml", **three), resume=True)  # dropped again: none of it had started
    assert shrunk["replans"][-1]["dropped"] == ["hinge-s0", "hinge-s1", "hinge-s2"]
    with pytest.raises(GanlabError, match="'epochs' was 2, now 3"):  # anything else is still refused
        engine.open_sweep(out, spec("e.yaml", **narrowed, epochs=3), resume=True)
    with pytest.raises(GanlabError, match=r"full_seeds \[7\] names seed 7, which the row does not run"):
        spec("g.yaml", configs=[{"preset": "vanilla", "full_seeds": [7]}])


def test_a_sweep_recorded_before_precision_was_auto_resumes_in_fp32_and_replans_arithmetic(tmp_path, monkeypatch):
    """Rows now carry their arithmetic (auto resolved where the SPEC is read); a record without it trained in fp32,
    the default then. Its SPEC pinned to fp32 resumes it unchanged; left on auto (bf16 here) it is refused, as a
    machine's resolution is no plan. Pinned to bf16, it replans the trials that have not started; one that has started,
    or a run adopted into an added seed, keeps its fp32, and the table says which seed trained in which."""
    from ganlab import devices
    from ganlab.training import config as config_mod

    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": True)
    out = tmp_path / "sw"

    def spec(name, **over):
        return parse(yaml.safe_load(spec_file(tmp_path, name, **over).read_text()))

    record = engine.open_sweep(out, spec("a.yaml", set={**TINY, "train.precision": "fp32"}), resume=False)
    assert all(t["config"]["train"]["precision"] == "fp32" for t in record["trials"])
    for row in record["rows"]:  # as sweeps recorded their rows before session 18
        del row["overrides"]["train.precision"]
        del row["auto_precision"]
    write_json(out / engine.SWEEP_FILE, record)
    assert "replans" not in engine.open_sweep(out, spec("b.yaml", set={**TINY, "train.precision": "fp32"}), resume=True)
    with pytest.raises(GanlabError, match="precision' was 'fp32', now 'bf16'"):
        engine.open_sweep(out, spec("c.yaml"), resume=True)  # auto: bf16 on this machine, but not a plan
    (out / "trials" / "vanilla-s0").mkdir(parents=True)  # a trial that has started
    adopted = out / "trials" / "vanilla-s2"  # a run trained elsewhere in fp32, for a seed the new plan adds
    adopted.mkdir()
    (adopted / "config.yaml").write_text(yaml.safe_dump(record["trials"][0]["config"]))
    assert config_mod.load(adopted / "config.yaml", stored=True).train.precision == "fp32"
    bf16 = {"set": {**TINY, "train.precision": "bf16"}, "seeds": [0, 1, 2]}
    sweep = engine.open_sweep(out, spec("d.yaml", **bf16), resume=True)
    assert {t["name"]: t["config"]["train"]["precision"] for t in sweep["trials"]} == \
        {"vanilla-s0": "fp32", "vanilla-s1": "bf16", "vanilla-s2": "fp32"}
    (change,) = sweep["replans"]
    assert change["precision"] == {"vanilla-s1": "bf16"} and change["added"] == ["vanilla-s2"]
    assert change["kept"] == {"vanilla-s0": "fp32", "vanilla-s2": "fp32"} and "keep" not in change
    assert json.loads((out / engine.SWEEP_FILE).read_text())["trials"] == sweep["trials"]  # what --resume runs
    again = engine.open_sweep(out, spec("d.yaml", **bf16), resume=True)
    assert again["trials"] == sweep["trials"] and len(again["replans"]) == 1  # started trials keep fp32: no replan
    assert engine.open_sweep(out, None, resume=True)["trials"] == sweep["trials"]
    with pytest.raises(GanlabError, match="'epochs' was 2, now 3"):  # anything else is still refused
        engine.open_sweep(out, spec("e.yaml", **bf16, epochs=3), resume=True)
    write_table(out)
    table = (out / "table.md").read_text()
    # the table counts what the sweep's message names (the arithmetic column says each seed's)
    assert "1 trial not started train in bf16 (2 started trials keep their arithmetic)" in table
    assert "vanilla-s1 train in bf16 (vanilla-s0 fp32, vanilla-s2 fp32: started, keep their arithmetic)" in \
        replan_text(change)
    assert "Trained in bf16 and fp32: the arithmetic column says each seed's." in table
    assert "| vanilla | 0/3 | fp32 (s0, s2), bf16 (s1) |" in table
    fresh = engine.open_sweep(tmp_path / "new", spec("c.yaml"), resume=False)
    assert {t["config"]["train"]["precision"] for t in fresh["trials"]} == {"bf16"}
    assert fresh["rows"][0]["overrides"]["train.precision"] == "bf16" and fresh["rows"][0]["auto_precision"]


def _final_weights(sweep: Path) -> dict:
    out = {}
    for trial in sorted((sweep / "trials").iterdir()):
        ck = torch_load(Run(trial).last)
        out[trial.name] = (ck["G"], ck["D"], ck["epoch"])
    return out


def _wait_unlocked(trials: Path, timeout: float = 60) -> None:
    """After a SIGKILL, Ray's workers die with their raylet; wait until no process holds a trial's run lock."""
    end = time.time() + timeout
    for run in trials.iterdir():
        while True:
            try:
                with RunLock(run):
                    break
            except GanlabError:
                assert time.time() < end, f"{run} still locked {timeout}s after the kill"
                time.sleep(0.5)


def test_embedded_sweep_killed_mid_trial_resumes_bit_exactly(tmp_path, cache_dir):
    spec = spec_file(tmp_path, set={**TINY, "data.subset": 2048}, epochs=4)
    ref = tmp_path / "ref"
    done = run_cli(["sweep", str(spec), "--out", str(ref), "--cpus", "2"])
    assert done.returncode == 0, done.stderr
    assert "vanilla-s0: epoch 4/4" in done.stdout and "vanilla-s1: done" in done.stdout
    table = json.loads((ref / "table.json").read_text())
    (row,) = table["rows"]
    assert row["done"] == 2 and set(row["metrics"]["mnist_fid"]["seeds"]) == {"0", "1"}
    assert row["metrics"]["mnist_fid"]["std"] is not None
    assert "| vanilla | 2/2 |" in (ref / "table.md").read_text()
    assert list((ref / "trials" / "vanilla-s0" / "tb").glob("events.out.tfevents.*"))  # TensorBoard curves

    # the same sweep, SIGKILLed (driver, Ray and trials: the process group) once a trial has finished an epoch
    cut = tmp_path / "cut"
    proc = subprocess.Popen(GANLAB + ["sweep", str(spec), "--out", str(cut), "--cpus", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        end = time.time() + 300
        while time.time() < end:
            rows = [len(p.read_text().splitlines()) for p in cut.glob("trials/*/metrics.jsonl")]
            if rows and max(rows) >= 1:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = [json.loads(l)["epoch"] for p in cut.glob("trials/*/metrics.jsonl") for l in p.read_text().splitlines()]
    assert killed_at and max(killed_at) < 4  # it was mid-trial
    _wait_unlocked(cut / "trials")
    resumed = run_cli(["sweep", "--resume", str(cut), "--cpus", "2"])
    assert resumed.returncode == 0, resumed.stderr
    a, b = _final_weights(ref), _final_weights(cut)
    assert a.keys() == b.keys() == {"vanilla-s0", "vanilla-s1"}
    for name in a:
        assert a[name][2] == b[name][2] == 4
        for sa, sb in zip(a[name][:2], b[name][:2]):
            for k in sa:
                assert torch.equal(sa[k], sb[k]), (name, k)
    ta, tb = (json.loads((d / "table.json").read_text())["rows"][0]["metrics"]["mnist_fid"] for d in (ref, cut))
    assert ta == tb

    # the HTML report of a sweep: its table (one row per config, seeds linked to their trials) and every trial
    assert cli.main(["compare", str(ref), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<h2>Sweep ref</h2>" in page and '<a href="#vanilla-s0">s0</a>' in page
    assert '<section class="run" id="vanilla-s1">' in page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_on_a_loopback_ray_cluster(tmp_path, cache_dir):
    """ray start --head on 127.0.0.1 (token auth on), a 2-trial sweep with --address, then the head is stopped."""
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    import secrets

    # token authentication on, with a token of this test's own (a fresh machine has no ~/.ray/auth_token)
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0"}
    head = subprocess.Popen([str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
                             f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                             "--disable-usage-stats"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        spec = spec_file(tmp_path, seeds=[0], configs=["vanilla", "wgan-gp"], epochs=1)
        out = tmp_path / "cluster"
        for _ in range(60):  # the head takes a few seconds to listen
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        res = run_cli(["sweep", str(spec), "--out", str(out), "--address", f"127.0.0.1:{port}"], env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"the Ray cluster at 127.0.0.1:{port}" in res.stdout
        rows = json.loads((out / "table.json").read_text())["rows"]
        assert [r["row"] for r in rows] == ["vanilla", "wgan-gp"] and all(r["done"] == 1 for r in rows)
    finally:
        head.send_signal(signal.SIGTERM)  # 'ray start --block' stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def test_a_cluster_that_is_not_there_is_a_one_line_error(tmp_path):
    port = _free_port()
    res = run_cli(["sweep", str(spec_file(tmp_path)), "--out", str(tmp_path / "x"), "--address", f"127.0.0.1:{port}"],
                  env={**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.strip().startswith("ganlab: error: could not start the Ray cluster at 127.0.0.1:")
    assert len(res.stderr.strip().splitlines()) == 1


def test_optuna_search_minimises_the_objective_on_the_training_reference(tmp_path, cache_dir):
    spec = spec_file(tmp_path, seeds=[0], epochs=1,
                     search={"metric": "mnist_fid", "trials": 2, "space": {"optim.lr_d": {"loguniform": [1e-4, 1e-3]}}})
    out = tmp_path / "search"
    res = run_cli(["sweep", str(spec), "--out", str(out), "--cpus", "2"])
    assert res.returncode == 0, res.stdout + res.stderr
    table = json.loads((out / "table.json").read_text())
    rows = table["rows"]
    assert len(rows) == 2 and all(r["row"].startswith("vanilla_lr_d=") for r in rows)
    objectives = [r["metrics"]["objective"]["mean"] for r in rows]
    assert objectives == sorted(objectives)  # best first
    for r in rows:  # chosen on the training reference; the table's metrics are on the test set (evaluate.ref)
        trial = out / "trials" / r["trials"][0]
        (train_eval,) = (trial / "evals").glob("last--prior--ref-mnist-train*.json")
        assert json.loads(train_eval.read_text())["mnist_fid"] == pytest.approx(r["metrics"]["objective"]["mean"])
        assert json.loads((trial / "evals" / "last--prior.json").read_text())["ref"] == "mnist-test"
        lr = float(r["row"].split("=")[1])
        assert 1e-4 <= lr <= 1e-3


def test_samplers_on_each_base_are_chosen_on_training_images(tmp_path, cache_dir):
    """A row's samplers run inside its trials: the DRS percentile is chosen by MNIST-FID against training
    images, then the chosen chain is measured on the test set; the table gets one row per base + sampler."""
    samplers = [{"name": "drs", "chain": "drs", "choose": {"drs.percentile": [20, 80]}},
                {"name": "trunc", "chain": "truncation(psi=1.0)"}]
    spec = spec_file(tmp_path, seeds=[0], epochs=1, configs=[{"preset": "vanilla", "samplers": samplers}])
    out = tmp_path / "sw"
    res = run_cli(["sweep", str(spec), "--out", str(out), "--cpus", "1"])
    assert res.returncode == 0, res.stdout + res.stderr
    trial = json.loads((out / "trials" / "vanilla-s0" / "trial.json").read_text())
    drs = trial["samplers"]["drs"]
    picked = min(drs["selection"], key=lambda s: s["mnist_fid"])
    assert drs["chosen"] == {"drs.percentile": picked["value"]}
    assert all(s["ref"].startswith("mnist-train") for s in drs["selection"])
    assert drs["metrics"]["ref"] == "mnist-test" and drs["chain"] == f"drs(percentile={picked['value']})"
    assert drs["metrics"]["sampler"]["acceptance_rate"] < 1
    rows = {r["row"]: r for r in json.loads((out / "table.json").read_text())["rows"]}
    assert list(rows) == ["vanilla", "vanilla + drs", "vanilla + trunc"]
    assert rows["vanilla + drs"]["chosen"] == {"0": drs["chosen"]}
    assert rows["vanilla + trunc"]["metrics"]["mnist_fid"]["mean"] == trial["samplers"]["trunc"]["metrics"]["mnist_fid"]


def test_a_diverging_trial_fails_alone_with_its_reason_and_the_sweep_goes_on(tmp_path, cache_dir):
    spec = spec_file(tmp_path, seeds=[0], epochs=2, configs=[
        "vanilla", {"preset": "vanilla", "name": "exploding", "set": {"optim.lr_g": 1.0e6, "optim.lr_d": 1.0e6}}])
    out = tmp_path / "sw"
    res = run_cli(["sweep", str(spec), "--out", str(out), "--cpus", "2"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "exploding-s0: failed: training diverged in epoch" in res.stdout and "vanilla-s0: done" in res.stdout
    rows = {r["row"]: r for r in json.loads((out / "table.json").read_text())["rows"]}
    assert rows["vanilla"]["done"] == 1
    assert rows["exploding"]["done"] == 0 and rows["exploding"]["failed"]["0"].startswith("training diverged in epoch")
    assert "| exploding | 0/1 |" in (out / "table.md").read_text() and "s0: training diverged" in (out / "table.md").read_text()
    assert res.stderr.strip() == ""  # Ray's own log noise stays out of the terminal


def test_a_sampler_is_measured_again_when_its_choice_grid_changes(tmp_path, monkeypatch):
    """A trial's earlier sampler record is kept only for the same chain and grid: widening a DRS percentile grid
    (as the reports' SPEC did after seed 0 chose the grid's edge) must choose again over the new grid."""
    from ganlab.sweeps import samplers as smp

    scored = []

    def fake_score(run_dir, specs, evaluate, ref, full, cache_dir):
        scored.append((smp.text(specs), ref))
        options = dict(a.split("=") for a in specs[0][1])  # e.g. ("drs", ["percentile=90"])
        return None, {"sampler": "drs"}, {"mnist_fid": 100.0 - float(options["percentile"]), "ref": ref}

    def fake_save(run_dir, res, images):
        path = tmp_path / f"{len(scored)}.json"
        write_json(path, res)
        return path

    monkeypatch.setattr(smp, "_score", fake_score)
    monkeypatch.setattr(smp, "save_run_evaluation", fake_save)
    evaluate = {"n": 10, "ref": "test", "full": False}
    narrow = smp.check_items([{"name": "drs", "chain": "drs", "choose": {"drs.percentile": [50, 90]}}], "s")
    first = smp.evaluate_samplers(tmp_path, narrow, evaluate, None)
    assert first["drs"]["chosen"] == {"drs.percentile": 90} and len(scored) == 3
    assert smp.evaluate_samplers(tmp_path, narrow, evaluate, None, first) == first and len(scored) == 3  # kept
    wide = smp.check_items([{"name": "drs", "chain": "drs", "choose": {"drs.percentile": [50, 90, 99]}}], "s")
    again = smp.evaluate_samplers(tmp_path, wide, evaluate, None, first)
    assert again["drs"]["chosen"] == {"drs.percentile": 99} and len(scored) == 3 + 4
    assert [s["value"] for s in again["drs"]["selection"]] == [50, 90, 99]


def test_dead_stretch_counts_the_final_run_of_one_image_epochs():
    from ganlab.sweeps.stop import dead_stretch

    rows = [{"epoch": e, "g_pixel_std": v} for e, v in enumerate([0.3, 0.001, 0.2, 0.005, 0.0, 0.002], 1)]
    assert dead_stretch(rows, 3) == (4, 6) and dead_stretch(rows, 4) is None
    assert dead_stretch([{"epoch": 1}], 1) is None  # rows written before g_pixel_std existed never count
    frozen = [{"epoch": e, "g_pixel_std": 0.03, "g_saturated": 0.52} for e in (1, 2, 3)]  # md-gan-s0: G unchanged
    assert dead_stretch(frozen, 2) == (2, 3) and dead_stretch(frozen, 3) is None  # the first one had no before
    moving = [{"epoch": e, "g_pixel_std": 0.03 + e * 1e-7, "g_saturated": 0.52} for e in (1, 2, 3)]
    assert dead_stretch(moving, 1) is None
    # with g_drift logged, frozen means G's images moved < FROZEN_DRIFT (saturating-s0: ~8e-5 per epoch), bit-equal
    # numbers or not; a working G's images move (>= 7e-3 per epoch late in the reports' runs)
    drift = [{"epoch": e, "g_pixel_std": 0.064 + e * 1e-5, "g_saturated": 0.0, "g_drift": d}
             for e, d in enumerate([0.3, 0.05, 8e-4, 8e-5, 2e-4, 0.02, 9e-5, 1e-4], 1)]
    assert dead_stretch(drift, 2) == (7, 8) and dead_stretch(drift, 3) is None
    assert dead_stretch(drift[:5], 3) == (3, 5)
    # under a decaying learning rate the threshold shrinks with it: a G at 5 % of its rate moving 2e-4 per epoch
    # (1e-3 would call it frozen) is alive; at its full rate the same drift is dead
    decaying = [{"epoch": e, "g_pixel_std": 0.3, "g_saturated": 0.0, "g_drift": 2e-4 if e > 1 else 0.1,
                 "lr_g": 1e-4 * (0.05 if e > 1 else 1.0)} for e in range(1, 6)]
    assert dead_stretch(decaying, 3) is None
    assert dead_stretch([{**r, "lr_g": 1e-4} for r in decaying], 3) == (2, 5)


def test_a_collapsed_trial_is_stopped_measured_and_kept_stopped(tmp_path, cache_dir):
    """stop: {collapsed_epochs: 2}: a trial whose G gives one image (here: started from a G with every output
    saturated, so no gradient passes tanh) is stopped after 2 such epochs of its 4, measured, and recorded as
    collapsed without samplers; a healthy trial runs its budget; the stopped run is not trained again."""
    from ganlab.sweeps.engine import train_trial
    from ganlab.sweeps.stop import Collapsed
    from ganlab.training import config as c
    from ganlab.training.loop import train

    seedrun = train(c.load(None, ["data.subset=64", "train.epochs=1", "train.threads=1"]), tmp_path / "seed",
                    progress=False)
    ck = torch_load(Run(seedrun).last)
    ck["G"]["fc4.weight"].zero_()
    ck["G"]["fc4.bias"].copy_(torch.where(torch.arange(784) % 2 == 0, 60.0, -60.0))
    torch.save(ck, tmp_path / "dead.pt")
    spec = spec_file(tmp_path, seeds=[0], epochs=4, stop={"collapsed_epochs": 2}, configs=[
        "vanilla", {"preset": "vanilla", "name": "dead", "set": {"train.init_from": str(tmp_path / "dead.pt")},
                    "samplers": [{"name": "trunc", "chain": "truncation(psi=1.0)"}]}])
    out = tmp_path / "sw"
    res = run_cli(["sweep", str(spec), "--out", str(out), "--cpus", "2"])
    assert res.returncode == 0, res.stdout + res.stderr
    dead = json.loads((out / "trials" / "dead-s0" / "trial.json").read_text())
    assert dead["status"] == "done" and dead["epochs"] == 2
    assert dead["collapsed"]["first"] == 1 and dead["collapsed"]["last"] == 2
    assert dead["metrics"]["classes_covered"] <= 2 and "samplers" not in dead
    alive = json.loads((out / "trials" / "vanilla-s0" / "trial.json").read_text())
    assert alive["epochs"] == 4 and "collapsed" not in alive
    rows = {r["row"]: r for r in json.loads((out / "table.json").read_text())["rows"]}
    assert rows["dead"]["collapsed"]["0"]["first"] == 1
    assert rows["dead + trunc"]["failed"] == {"0": "its base collapsed (epoch 1)"}
    assert "s0: collapsed from epoch 1 (stopped at 2)" in (out / "table.md").read_text()
    trial = {"name": "dead-s0", "config": json.loads(json.dumps(
        engine._sweep_record(parse(yaml.safe_load(spec.read_text())))["trials"][1]["config"]))}
    with pytest.raises(Collapsed):  # adopted again (a resume, a new sweep folder): not trained further
        train_trial(trial, out / "trials" / "dead-s0", 1, cache_dir, None, {"collapsed_epochs": 2})
    assert len((out / "trials" / "dead-s0" / "metrics.jsonl").read_text().splitlines()) == 2


def test_the_full_protocol_for_some_seeds_only(tmp_path):
    """evaluate.full_seeds: [0] measures FID, P, R, D, C on seed 0 of every row (and its samplers), classifier
    metrics on the other seeds; a record made before the key existed still resumes."""
    from ganlab.sweeps.spec import evaluation_for

    spec = parse(yaml.safe_load(spec_file(tmp_path, evaluate={"n": 100, "full_seeds": [0]}).read_text()))
    assert spec.evaluate["full_seeds"] == [0] and not spec.evaluate["full"]
    assert evaluation_for(spec.evaluate, {"seed": 0})["full"] and not evaluation_for(spec.evaluate, {"seed": 1})["full"]
    assert evaluation_for({**spec.evaluate, "full": True}, {"seed": 1})["full"]
    # a row's own full_seeds (issue 19: every seed of the best rows on the full protocol), the others as evaluate says
    rows = parse(yaml.safe_load(spec_file(tmp_path, "rows.yaml", evaluate={"n": 100, "full_seeds": [0]}, seeds=[0, 1],
                                          configs=["vanilla", {"preset": "r1", "full_seeds": [0, 1]}]).read_text()))
    assert {t["name"]: evaluation_for(rows.evaluate, t)["full"] for t in rows.trials()} == \
        {"vanilla-s0": True, "r1-s0": True, "vanilla-s1": False, "r1-s1": True}
    old = engine._sweep_record(parse(yaml.safe_load(spec_file(tmp_path, "old.yaml").read_text())))
    old["evaluate"].pop("full_seeds")  # as sweeps recorded it before
    new = engine._sweep_record(parse(yaml.safe_load(spec_file(tmp_path, "new.yaml").read_text())))
    assert engine._what_runs(old) == engine._what_runs(new)


def test_a_trial_recorded_before_a_config_key_existed_is_adopted_not_failed(tmp_path, cache_dir):
    """A finished trial whose sweep record predates train.phases (session 13's restart of the reports' sweep) is
    adopted as finished, not refused as 'another config'; and a trial that fails after it finished keeps its
    finished record inside the failure."""
    from ganlab.sweeps.engine import _fail, train_trial
    from ganlab.training import config as c
    from ganlab.training.loop import train

    run = train(c.load(None, ["data.subset=64", "train.epochs=1", "train.threads=1"]), tmp_path / "t", progress=False)
    old = c.to_dict(c.load(None, ["data.subset=64", "train.epochs=1"]))
    del old["train"]["phases"]  # as the record stored it
    got = train_trial({"name": "t", "config": old}, Path(run), 1, cache_dir, None)
    assert got["epochs"] == 1
    done = {"name": "t", "status": "done", "metrics": {"mnist_fid": 1.0}}
    write_json(Path(run) / "trial.json", done)
    _fail(Path(run), {"name": "t"}, "some failure\nwith a second line")
    kept = json.loads((Path(run) / "trial.json").read_text())
    assert kept["status"] == "failed" and kept["reason"] == "some failure" and kept["earlier"] == done


def test_trials_run_without_ray_and_their_packed_folders_are_adopted(tmp_path, cache_dir):
    """scripts/device_trials.py (trials of a sweep folder in parallel processes, no Ray, e.g. on a lent GPU): the
    trial folder it writes and packs, without optimiser states, is adopted by the sweep as finished: not trained
    again, its evaluation reused."""
    spec = spec_file(tmp_path, seeds=[0], epochs=1, set={**TINY, "data.subset": 64}, evaluate={"n": 100})
    sweep = tmp_path / "sw"
    sweep.mkdir()
    write_json(sweep / "sweep.json", engine._sweep_record(parse(yaml.safe_load(spec.read_text()))))
    env = {**os.environ, "GANLAB_CACHE": str(cache_dir)}
    res = subprocess.run([sys.executable, "scripts/device_trials.py", str(sweep), "--trials", "vanilla-s0",
                          "--device", "cpu", "--workers", "1", "--deadline", "500", "--every", "0.5",
                          "--pack", str(tmp_path / "pack")], capture_output=True, text=True, timeout=600, env=env,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0 and "finished 1: ['vanilla-s0']" in res.stdout, res.stdout + res.stderr
    here = tmp_path / "here"
    here.mkdir()
    (here / "sweep.json").write_bytes((sweep / "sweep.json").read_bytes())
    parts = sorted((tmp_path / "pack").glob("trials.tar.*"))
    (tmp_path / "all.tar").write_bytes(b"".join(p.read_bytes() for p in parts))
    subprocess.run(["tar", "xf", str(tmp_path / "all.tar"), "-C", str(here)], check=True)
    ck = torch_load(here / "trials" / "vanilla-s0" / "checkpoints" / "last.pt")
    assert "opt_g" not in ck and "G" in ck and "D" in ck
    record = json.loads((here / "sweep.json").read_text())
    before = (here / "trials" / "vanilla-s0" / "metrics.jsonl").read_text()
    final = engine.execute_trial(record["trials"][0], engine._spec_from(record), here, cache_dir=cache_dir)
    assert final["status"] == "done" and final["epochs"] == 1 and final["device"].startswith("cpu")
    assert (here / "trials" / "vanilla-s0" / "metrics.jsonl").read_text() == before  # not trained again


def test_a_sampler_measured_before_its_trial_record_was_written_is_not_measured_again(tmp_path, monkeypatch):
    """A sweep stopped after a sampler's full-protocol measurement was kept in RUN/evals, but before the trial's
    record was written (session 14 redid two such 10k Inception passes, ~1 h each): the kept measurement is used."""
    from ganlab.report.collect import evaluation_path
    from ganlab.sweeps import samplers as smp

    scored = []
    monkeypatch.setattr(smp, "_score", lambda *a: scored.append(a) or (None, {}, {"mnist_fid": 1.0, "ref": "x"}))
    monkeypatch.setattr(smp, "save_run_evaluation", lambda run, res, images: write_json(tmp_path / "new.json", res)
                        or tmp_path / "new.json")
    items = smp.check_items([{"name": "trunc", "chain": "truncation(psi=2.0,mode=hard)"}], "s")
    path = evaluation_path(tmp_path, {"checkpoint": "last", "weights": "ema", "sampler_spec": items[0]["chain"],
                                      "ref": "mnist-test"})
    kept = {"n": 100, "ref": "mnist-test", "seed": 0, "fid": 47.4, "mnist_fid": 91.7, "label": path.stem,
            "sampler_spec": items[0]["chain"], "features": "7ff4a85c3a6378f0-pytorch-fid-bilinear299-v1-fp32"}
    for other in ({"n": 50}, {"features": "7ff4a85c3a6378f0-pytorch-fid-bilinear299-v1-bf16"},
                  {"sampler_spec": "truncation(psi=2.0_mode=hard)"}):  # measured otherwise (or a colliding name)
        write_json(path, {**kept, **other})
        smp.evaluate_samplers(tmp_path, items, {"n": 100, "ref": "test", "full": True}, None)
    assert len(scored) == 3
    write_json(path, kept)
    got = smp.evaluate_samplers(tmp_path, items, {"n": 100, "ref": "test", "full": True}, None)
    assert len(scored) == 3 and got["trunc"]["metrics"]["fid"] == 47.4


def test_a_sweep_restored_from_its_committed_records_adopts_the_ended_trials(tmp_path, cache_dir):
    """A machine that lost the sweep folder (a fresh clone) gets it back from the records committed with
    scripts/sweep_records.py: the trial that ended is adopted from its records, without weights, not trained or
    measured again; the one that had only started (no record, weights lost) is left out and trains from epoch 1."""
    spec = spec_file(tmp_path, seeds=[0, 1], epochs=1, set={**TINY, "data.subset": 64}, evaluate={"n": 100})
    sweep = tmp_path / "sw"
    sweep.mkdir()
    record = engine._sweep_record(parse(yaml.safe_load(spec.read_text())))
    write_json(sweep / "sweep.json", record)
    trials = {t["name"]: t for t in record["trials"]}
    done = engine.execute_trial(trials["vanilla-s0"], engine._spec_from(record), sweep, cache_dir=cache_dir)
    started = sweep / "trials" / "vanilla-s1"
    engine.execute_trial(trials["vanilla-s1"], engine._spec_from(record), sweep, cache_dir=cache_dir)
    (started / "trial.json").unlink()  # as if killed before its end: metrics and weights on disk, no record
    script = [sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "sweep_records.py")]
    subprocess.run(script + [str(sweep), str(tmp_path / "records")], check=True, capture_output=True)
    assert not list((tmp_path / "records").rglob("*.pt"))  # no weights in the records
    res = subprocess.run(script + ["--restore", str(tmp_path / "records"), str(tmp_path / "back")],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "1 ended trial(s); train again from their first epoch: vanilla-s1" in res.stdout
    back = tmp_path / "back"
    assert sorted(p.name for p in (back / "trials").iterdir()) == ["vanilla-s0"]
    before = (back / "trials" / "vanilla-s0" / "metrics.jsonl").read_text()
    again = engine.execute_trial(trials["vanilla-s0"], engine._spec_from(record), back, cache_dir=cache_dir)
    assert again["metrics"] == done["metrics"]
    assert (back / "trials" / "vanilla-s0" / "metrics.jsonl").read_text() == before  # not trained again
    assert not (back / "trials" / "vanilla-s0" / "checkpoints").exists()
    fresh = engine.execute_trial(trials["vanilla-s1"], engine._spec_from(record), back, cache_dir=cache_dir)
    assert fresh["status"] == "done" and fresh["epochs"] == 1
    again = subprocess.run(script + ["--restore", str(tmp_path / "records"), str(back)], capture_output=True, text=True)
    assert again.returncode != 0 and "holds a sweep already" in again.stderr
    # a finished trial that owes a measurement the sweep now plans (here the full protocol, as a replan can ask) needs
    # its weights: left out, trained again
    owing = json.loads((tmp_path / "records" / "sweep.json").read_text())
    owing["evaluate"]["full_seeds"] = [0]
    (tmp_path / "records" / "sweep.json").write_text(json.dumps(owing))
    res = subprocess.run(script + ["--restore", str(tmp_path / "records"), str(tmp_path / "owing")],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "0 ended trial(s); train again from their first epoch: vanilla-s0, vanilla-s1" \
        in res.stdout


def test_a_carried_checkpoint_continues_a_trial_on_another_machine_as_if_uninterrupted(tmp_path, cache_dir):
    """Trials longer than a session on machines that do not persist: ``sweep_records.py --carry`` commits an
    unfinished trial's last.pt with its records, ``--restore`` puts it back, and the trial continues from that epoch
    to the same weights, metrics rows and measurement as a run that was never interrupted. Once the trial has ended,
    the next copy of the records drops the carried checkpoint."""
    from ganlab.training import config as config_mod
    from ganlab.training.loop import train

    spec = spec_file(tmp_path, seeds=[0], epochs=2, set={**TINY, "data.subset": 64}, evaluate={"n": 100})
    record = engine._sweep_record(parse(yaml.safe_load(spec.read_text())))
    trial = record["trials"][0]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    for folder in (whole, cut):
        folder.mkdir()
        write_json(folder / "sweep.json", record)
    done = engine.execute_trial(trial, engine._spec_from(record), whole, cache_dir=cache_dir)
    cfg = config_mod.from_dict(config_mod.as_stored(trial["config"]))
    cfg.train.threads = 1
    train(cfg, cut / "trials" / trial["name"], until_epoch=1, progress=False, cache_dir=cache_dir)  # then the machine goes
    script = [sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "sweep_records.py")]
    records = tmp_path / "records"
    plain = subprocess.run(script + [str(cut), str(records)], capture_output=True, text=True)
    assert plain.returncode == 0 and not list(records.rglob("*.pt"))  # without --carry: no weights
    res = subprocess.run(script + ["--carry", str(cut), str(records)], capture_output=True, text=True)
    assert res.returncode == 0 and f"carried the last checkpoint of {trial['name']} (epoch 1)" in res.stdout, res.stderr
    # the machine goes on: it trains to the end, then the records are copied without --carry before the measurement;
    # the carried epoch-1 checkpoint must not be measured as the trained run (it trains on from there instead)
    train(None, cut / "trials" / trial["name"], resume=True, progress=False, cache_dir=cache_dir)
    assert subprocess.run(script + [str(cut), str(records)], capture_output=True).returncode == 0
    assert (records / "trials" / trial["name"] / "summary.json").is_file()
    res = subprocess.run(script + ["--restore", str(records), str(tmp_path / "back")], capture_output=True, text=True)
    assert res.returncode == 0 and f"continue from their carried checkpoint: {trial['name']} (epoch 1)" in res.stdout
    back = tmp_path / "back"
    assert not (back / "trials" / trial["name"] / "summary.json").exists()
    again = engine.execute_trial(trial, engine._spec_from(record), back, cache_dir=cache_dir)
    def numbers(m):  # not the timings
        return {k: v for k, v in m.items() if "second" not in k and not k.endswith("_per_s")}

    assert again["status"] == "done" and numbers(again["metrics"]) == numbers(done["metrics"])
    assert "mnist_fid" in numbers(done["metrics"])
    rows = [numbers(json.loads(line))
            for run in (whole, back) for line in (run / "trials" / trial["name"] / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and rows[:2] == rows[2:]
    a, b = (torch_load(run / "trials" / trial["name"] / "checkpoints" / "last.pt") for run in (whole, back))
    assert all(torch.equal(a["G"][k], b["G"][k]) for k in a["G"])
    res = subprocess.run(script + ["--carry", str(back), str(records)], capture_output=True, text=True)
    assert res.returncode == 0 and "carried the" not in res.stdout and not list(records.rglob("*.pt"))
