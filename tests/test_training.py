import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.io import torch_load
from ganlab.losses import LOSSES
from ganlab.losses.ns import NonSaturating
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train

TINY = ["data.subset=256", "train.batch_size=64", "train.sample_every=2", "train.checkpoint_every=2", "train.threads=1"]


def tiny(epochs=3, extra=()):
    return c.load("configs/vanilla.yaml", TINY + [f"train.epochs={epochs}", *extra])


def weights(run_dir):
    ck = torch_load(Run(run_dir).last)
    return ck["G"], ck["D"], ck["opt_g"]


def assert_same_weights(a, b):
    for sa, sb in zip(a[:2], b[:2]):
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k


def test_run_directory_contents(tmp_path, cache_dir):
    run = train(tiny(), tmp_path / "r", progress=False)
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert {"loss_d", "loss_g", "d_real", "d_fake", "seconds", "images_per_s"} <= rows[0].keys()
    assert 0 < rows[-1]["d_real"] < 1 and 0 < rows[-1]["d_fake"] < 1
    assert (run / "grids" / "epoch_0002.png").exists() and (run / "grids" / "epoch_0003.png").exists()
    assert (run / "checkpoints" / "epoch_0002.pt").exists() and (run / "checkpoints" / "last.pt").exists()
    assert Run(run).checkpoint("epoch_2") == Run(run).checkpoint("epoch_0002") == run / "checkpoints" / "epoch_0002.pt"
    with pytest.raises(GanlabError, match="epoch_0002"):  # the error lists what exists
        Run(run).checkpoint("epoch_1")
    assert c.load(run / "config.yaml") == tiny()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 3
    # the process's CPU seconds per epoch and their sum: what an epoch cost on shared cores, beside its wall seconds
    assert all(r["cpu_seconds"] > 0 for r in rows)
    assert summary["cpu_seconds"] == round(sum(r["cpu_seconds"] for r in rows), 1)
    assert (run / "metrics.png").exists()
    assert not list(run.rglob("*.tmp"))


def test_cpu_seconds_are_summed_only_when_every_epoch_has_them():
    from ganlab.training.loop import cpu_seconds

    assert cpu_seconds([{"epoch": 1, "cpu_seconds": 1.5}, {"epoch": 2, "cpu_seconds": 2.0}]) == 3.5
    assert cpu_seconds([{"epoch": 1, "seconds": 9.0}, {"epoch": 2, "cpu_seconds": 2.0}]) is None  # trained before
    assert cpu_seconds([{"epoch": 1, "cpu_seconds": 1.5}, {"epoch": 3, "cpu_seconds": 2.0}]) is None  # a row lost
    assert cpu_seconds([]) is None


def test_same_seed_same_weights_and_seed_matters(tmp_path, cache_dir):
    train(tiny(2), tmp_path / "a", progress=False)
    train(tiny(2), tmp_path / "b", progress=False)
    train(tiny(2, ["seed=1"]), tmp_path / "c", progress=False)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    with pytest.raises(AssertionError):
        assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "c"))


def test_resume_matches_uninterrupted(tmp_path, cache_dir):
    train(tiny(4), tmp_path / "full", progress=False)
    train(tiny(4), tmp_path / "cut", progress=False, until_epoch=1)
    assert torch_load(Run(tmp_path / "cut").last)["epoch"] == 1
    train(None, tmp_path / "cut", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "full"), weights(tmp_path / "cut"))
    rows = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2, 3, 4]
    # G's probe numbers too: the drift of the first epoch after the resume is measured against the loaded G
    probe = ("g_saturated", "g_pixel_std", "g_drift")
    full = [json.loads(r) for r in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert [[json.loads(r)[k] for k in probe] for r in rows] == [[r[k] for k in probe] for r in full]


def test_g_drift_is_near_zero_only_for_a_g_that_does_not_learn(tmp_path, cache_dir):
    from ganlab.sweeps.stop import FROZEN_DRIFT

    moving = train(tiny(2), tmp_path / "moving", progress=False)
    frozen = train(tiny(2, ["optim.lr_g=1e-12"]), tmp_path / "frozen", progress=False)
    drift = {name: [json.loads(l)["g_drift"] for l in (run / "metrics.jsonl").read_text().splitlines()]
             for name, run in (("moving", moving), ("frozen", frozen))}
    assert min(drift["moving"]) > 10 * FROZEN_DRIFT and max(drift["frozen"]) < FROZEN_DRIFT / 100


def test_resume_after_sigkill_matches_uninterrupted(tmp_path, cache_dir):
    overrides = ["data.subset=1024", "train.epochs=40", "train.threads=1"]
    train(c.load("configs/vanilla.yaml", overrides), tmp_path / "full", progress=False)
    cmd = [sys.executable, "-m", "ganlab.cli", "train", "--config", "configs/vanilla.yaml", "--quiet",
           "--out", str(tmp_path / "killed")] + [a for o in overrides for a in ("--set", o)]
    proc = subprocess.Popen(cmd)
    metrics = tmp_path / "killed" / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = torch_load(Run(tmp_path / "killed").last)["epoch"]
    assert 3 <= done < 40, "the kill should land mid-run"
    subprocess.run([sys.executable, "-m", "ganlab.cli", "train", "--resume", str(tmp_path / "killed"), "--quiet"],
                   check=True)
    assert_same_weights(weights(tmp_path / "full"), weights(tmp_path / "killed"))


class _NaNAfter(NonSaturating):
    """NS loss that turns NaN after ``limit`` discriminator steps (the 2nd epoch of a tiny run)."""

    limit = 6

    def __init__(self):
        self.calls = 0

    def d_loss(self, real, fake):
        self.calls += 1
        out = super().d_loss(real, fake)
        return out * float("nan") if self.calls > self.limit else out


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setitem(LOSSES, "nan-test", _NaNAfter)
    cfg = tiny(5, ["train.loss=nan-test", "train.checkpoint_every=100"])  # 4 steps per epoch
    with pytest.raises(GanlabError, match=r"diverged in epoch 2 .*last good checkpoint .*epoch 1"):
        train(cfg, tmp_path / "r", progress=False)
    ck = torch_load(Run(tmp_path / "r").last)
    assert ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["G"].values())
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 1


def test_refuses_to_overwrite_a_run(tmp_path, cache_dir):
    train(tiny(1), tmp_path / "r", progress=False)
    with pytest.raises(GanlabError, match="not empty; use --resume"):
        train(tiny(1), tmp_path / "r", progress=False)


def test_resume_of_a_non_run(tmp_path):
    with pytest.raises(GanlabError, match="not a ganlab run directory"):
        train(None, tmp_path, resume=True)


def test_periodic_eval_logs_and_keeps_best(tmp_path, cache_dir):
    cfg = tiny(3, ["eval.every=1", "eval.n=200"])
    run = train(cfg, tmp_path / "r", progress=False)
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    scores = [r["eval_mnist_fid"] for r in rows]
    assert all(s > 0 for s in scores) and all(0 <= r["eval_classes_covered"] <= 10 for r in rows)
    best = torch_load(Run(run).best)
    assert best["epoch"] == rows[scores.index(min(scores))]["epoch"]
    assert best["best"] == pytest.approx(min(scores))


def test_eval_config_errors():
    with pytest.raises(GanlabError, match="needs eval.full = true"):
        c.load(None, ["eval.metric=fid"])
    with pytest.raises(GanlabError, match="accepted: fid, kid_mean, mnist_fid, kl_to_uniform"):
        c.load(None, ["eval.metric=is"])


def test_warm_start_loads_g_d_prior_and_ema_and_is_wired_into_train(tmp_path, cache_dir):
    from ganlab.training.trainer import Trainer

    src = train(tiny(2, ["train.ema=0.9"]), tmp_path / "a", progress=False)
    ck = torch_load(Run(src).last)
    trainer = Trainer(tiny(1, ["train.ema=0.9", "seed=1"]), torch.device("cpu"))
    trainer.warm_start(Run(src).last)
    for module, state in ((trainer.G, ck["G"]), (trainer.D, ck["D"]), (trainer.ema.model, ck["G_ema"])):
        for k, v in module.state_dict().items():
            assert torch.equal(v, state[k]), k
    # through train(): with a vanishing learning rate the warm-started run ends where the source ended
    run = train(tiny(1, [f"train.init_from={Run(src).last}", "optim.lr_g=1e-12", "optim.lr_d=1e-12"]),
                tmp_path / "b", progress=False)
    got = torch_load(Run(run).last)["G"]
    assert all(torch.allclose(got[k], ck["G"][k], atol=1e-6) for k in got)
    fresh = torch_load(Run(train(tiny(1, ["optim.lr_g=1e-12", "optim.lr_d=1e-12"]), tmp_path / "c",
                                 progress=False)).last)["G"]
    assert not all(torch.allclose(fresh[k], ck["G"][k], atol=1e-3) for k in fresh)


def test_warm_start_errors(tmp_path, cache_dir):
    with pytest.raises(GanlabError, match="train.init_from.*not a file"):
        train(tiny(1, [f"train.init_from={tmp_path / 'missing.pt'}"]), tmp_path / "r1", progress=False)
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    with pytest.raises(GanlabError, match="cannot be read"):
        train(tiny(1, [f"train.init_from={bad}"]), tmp_path / "r2", progress=False)
    src = train(tiny(1), tmp_path / "a", progress=False)
    with pytest.raises(GanlabError, match="D in .* does not fit"):
        train(tiny(1, [f"train.init_from={Run(src).last}", "model.discriminator=conv"]), tmp_path / "r3",
              progress=False)


def test_a_run_directory_has_one_writer_and_a_killed_writer_leaves_no_stuck_lock(tmp_path, cache_dir):
    from ganlab.runs import RunLock

    run = train(tiny(1), tmp_path / "r", progress=False)
    with RunLock(run):  # another process (here: this one) owns the run
        with pytest.raises(GanlabError, match=r"is in use by another process \(pid \d+\)"):
            train(None, run, resume=True, progress=False)
        with pytest.raises(GanlabError, match="is in use by another process"):
            train(tiny(1), run, progress=False)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from ganlab.runs import RunLock; l = RunLock(Path(sys.argv[1])).__enter__(); "
                               "print('locked', flush=True); time.sleep(60)", str(run)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(GanlabError, match=f"pid {holder.pid}"):
        train(None, run, resume=True, progress=False)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    train(None, run, resume=True, progress=False)  # the kernel released the killed holder's lock


def test_tensorboard_curves_and_grids_and_a_resume_purges_what_came_after_its_checkpoint(tmp_path, cache_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = train(tiny(3), tmp_path / "r", progress=False)
    # as if killed after epoch 3's events were written but before its checkpoint: last.pt is epoch 2's
    shutil.copy(run / "checkpoints" / "epoch_0002.pt", run / "checkpoints" / "last.pt")
    train(None, run, resume=True, progress=False)
    acc = EventAccumulator(str(run / "tb"))
    acc.Reload()
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    loss_d = acc.Scalars("train/loss_d")
    assert [e.step for e in loss_d] == [1, 2, 3]  # epoch 3 once: the first run's was purged
    assert [e.value for e in loss_d] == pytest.approx([r["loss_d"] for r in rows])
    assert [e.step for e in acc.Images("samples")] == [2, 3]  # sample_every 2, and the last epoch


def test_g_step_freezes_d_weights_and_gives_the_same_g():
    """G's step computes D's input gradient only (D's weight gradients were thrown away): D's parameters do not
    require grad inside it, require it again after, and G trains bit for bit as with D's weights differentiated
    (forced here by a term that asks for them, as unrolling does)."""
    from ganlab.losses import build_loss
    from ganlab.models import Generator, build_discriminator
    from ganlab.training.step import GANStep
    from ganlab.training.terms import Term

    seen = []

    class Spy(Term):
        def g(self, step, b):
            seen.append({p.requires_grad for p in step.D.parameters()})
            return None

    class Unfrozen(Spy):
        needs_d_weights_in_g = True

    def trained(term):
        torch.manual_seed(0)
        G, D = Generator(), build_discriminator("mlp")
        opt_g, opt_d = torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)
        step = GANStep(G, D, build_loss("ns"), opt_g, opt_d, terms=[term])
        gen, acc = torch.Generator().manual_seed(0), GANStep.stats("cpu")
        for i in range(1, 4):
            step(torch.rand(64, 784, generator=gen) * 2 - 1, torch.randn(64, 100, generator=gen), i, acc)
        assert all(p.requires_grad for p in D.parameters())
        return G.state_dict()

    frozen, unfrozen = trained(Spy()), trained(Unfrozen())
    assert seen == [{False}] * 3 + [{True}] * 3
    assert all(torch.equal(frozen[k], unfrozen[k]) for k in frozen)


PHASED = ["train.ema=0.9", "optim.schedule=linear",
          "train.phases=[{epochs: 2}, {epochs: 2, set: {train.latent_opt_alpha: 0.9, optim.lr_g: 1.0e-4}}]"]


def test_phases_are_the_chain_of_warm_starts_in_one_run(tmp_path, cache_dir):
    """A run in phases trains, bit for bit, what the chain it replaces trains: a run of the first phase, then a warm
    start from its last checkpoint with the second phase's settings (fresh optimisers, the schedule restarted, the
    data order drawn again from the seed; G, its EMA and D carried on). Cut at the phase boundary and in the middle
    of the second phase, it resumes to the same weights."""
    phased = train(tiny(4, PHASED), tmp_path / "phased", progress=False)
    first = train(tiny(2, ["train.ema=0.9", "optim.schedule=linear"]), tmp_path / "first", progress=False)
    second = train(tiny(2, ["train.ema=0.9", "optim.schedule=linear", "train.latent_opt_alpha=0.9", "optim.lr_g=1e-4",
                            f"train.init_from={Run(first).last}"]), tmp_path / "second", progress=False)
    a, b = torch_load(Run(phased).last), torch_load(Run(second).last)
    for key in ("G", "G_ema", "D"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key
    assert a["opt_g"]["param_groups"][0]["lr"] == b["opt_g"]["param_groups"][0]["lr"] == 0.0  # restarted to 0 again
    for cut in (2, 3):
        train(tiny(4, PHASED), tmp_path / f"cut{cut}", progress=False, until_epoch=cut)
        resumed = train(None, tmp_path / f"cut{cut}", resume=True, progress=False)
        assert_same_weights(weights(phased), weights(resumed))


def test_phase_config_errors():
    base = ["train.epochs=4"]
    with pytest.raises(GanlabError, match=r"phases' epochs add up to 3, but train.epochs = 4"):
        c.load(None, base + ["train.phases=[{epochs: 1}, {epochs: 2}]"])
    with pytest.raises(GanlabError, match=r"train.phases\[1\].set' changes 'model.discriminator', which cannot change"):
        c.load(None, base + ["train.phases=[{epochs: 2}, {epochs: 2, set: {model.discriminator: conv}}]"])
    with pytest.raises(GanlabError, match=r"train.phases\[0\].epochs' = 0 must be an integer >= 1"):
        c.load(None, base + ["train.phases=[{epochs: 0}, {epochs: 4}]"])
    with pytest.raises(GanlabError, match=r"unknown keys \['lr'\]"):
        c.load(None, base + ["train.phases=[{epochs: 4, lr: 1}]"])
    with pytest.raises(GanlabError, match=r"in train.phases\[1\]: config key 'train.latent_opt_alpha' = -1.0 must be >= 0"):
        c.load(None, base + ["train.phases=[{epochs: 2}, {epochs: 2, set: {train.latent_opt_alpha: -1}}]"])


@pytest.mark.parametrize("preset", sorted(p.stem for p in __import__("pathlib").Path("configs").glob("*.yaml")))
def test_every_preset_trains_in_bf16(preset, tmp_path, cache_dir):
    """bf16 autocast is the default where it is native (train.precision auto): every preset takes its steps in it,
    its terms included (R3GAN's R2 penalty once fed D a bf16 fake outside autocast and stopped with a dtype error)."""
    cfg = c.load(f"configs/{preset}.yaml", ["data.subset=128", "train.epochs=1", "train.phases=[]", "eval.n=100",
                                            "train.sample_every=1", "train.threads=1", "train.precision=bf16"])
    run = train(cfg, tmp_path / "r", progress=False)
    (row,) = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert row["epoch"] == 1 and all(torch.isfinite(torch.tensor(row[k])) for k in ("loss_d", "loss_g"))


def test_a_run_records_which_code_trained_which_epochs(tmp_path, cache_dir, monkeypatch):
    """RUN/code.jsonl and the summary name the git commit that trained each part of a run: a run resumed under a
    later commit (a sweep spanning sessions) lists both, from the epoch each began; a resume under the same code adds
    nothing; a part killed before its first checkpoint is replaced by the part that trained those epochs."""
    from ganlab.training import loop

    assert loop.code_version() is None or len(loop.code_version().split("+")[0]) == 12  # this checkout's, if any
    monkeypatch.setattr(loop, "code_version", lambda: "aaaaaaaaaaaa")
    train(tiny(epochs=4), tmp_path / "r", until_epoch=2, progress=False)
    train(None, tmp_path / "r", resume=True, until_epoch=2, progress=False)  # nothing left to train: no part
    monkeypatch.setattr(loop, "code_version", lambda: "bbbbbbbbbbbb+dirty")
    loop.note_code(Run(tmp_path / "r"), 3)  # a part that was killed before it wrote a checkpoint
    monkeypatch.setattr(loop, "code_version", lambda: "cccccccccccc")
    train(None, tmp_path / "r", resume=True, progress=False)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["code"] == [{"from_epoch": 1, "code": "aaaaaaaaaaaa"}, {"from_epoch": 3, "code": "cccccccccccc"}]
    assert len((tmp_path / "r" / "code.jsonl").read_text().splitlines()) == 3
    # a run begun before the record existed: its first part is unknown; a killed part between two of the same code
    # leaves one part
    train(tiny(epochs=4), tmp_path / "old", until_epoch=1, progress=False)
    (tmp_path / "old" / "code.jsonl").unlink()
    loop.note_code(Run(tmp_path / "old"), 2)  # under cccc, killed before its checkpoint
    monkeypatch.setattr(loop, "code_version", lambda: "dddddddddddd")
    loop.note_code(Run(tmp_path / "old"), 2)  # killed too
    monkeypatch.setattr(loop, "code_version", lambda: "cccccccccccc")
    train(None, tmp_path / "old", resume=True, progress=False)
    assert json.loads((tmp_path / "old" / "summary.json").read_text())["code"] == \
        [{"from_epoch": 1, "code": None}, {"from_epoch": 2, "code": "cccccccccccc"}]
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "code.jsonl").write_text("".join(json.dumps({"from_epoch": e, "code": v}) + "\n" for e, v in
                                                          [(1, "a"), (3, "b"), (3, "a"), (5, "c"), (9, "d")]))
    assert loop.codes(Run(tmp_path / "parts"), 8) == [{"from_epoch": 1, "code": "a"}, {"from_epoch": 5, "code": "c"}]
    with open(tmp_path / "parts" / "code.jsonl", "a") as f:
        f.write('{"from_epoch": 9\n')  # a line cut short by a kill
    assert loop.codes(Run(tmp_path / "parts"), 8) == [{"from_epoch": 1, "code": "a"}, {"from_epoch": 5, "code": "c"}]
