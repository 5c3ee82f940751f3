"""Faults a careless or hostile user meets (issue 21): each ends in one line and exit code 2, never a traceback,
a silent wrong result, or a folder that cannot be used again."""
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganlab import cli
from ganlab.errors import GanlabError
from ganlab.io import torch_load, torch_save
from ganlab.models import Generator
from ganlab.runs import Run
from ganlab.training import config as c
from ganlab.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
TINY = ["data.subset=256", "train.batch_size=64", "train.sample_every=1", "train.checkpoint_every=1",
        "train.threads=1"]


def tiny(epochs=2, extra=()):
    return c.load("configs/vanilla.yaml", TINY + [f"train.epochs={epochs}", *extra])


def one_line_error(err: str, *says: str) -> None:
    err = err.rsplit("\r", 1)[-1].strip()  # after any progress bar
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for s in says:
        assert s in err, err


def generate_py(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "generate.py"), *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("bad, word", [(float("nan"), "NaN"), (float("inf"), "inf")])
def test_non_finite_generator_weights_are_refused_at_load(tmp_path, bad, word):
    state = Generator().state_dict()
    state["fc2.weight"][0, 0] = bad
    torch.save(state, tmp_path / "G.pth")
    res = generate_py("--checkpoint", str(tmp_path / "G.pth"), "--out", str(tmp_path / "samples"))
    assert res.returncode == 2
    one_line_error(res.stderr, "non-finite values", "fc2.weight")
    assert not (tmp_path / "samples").exists()


@pytest.mark.parametrize("flag", [["--batch_size", "0"], ["--n_samples", "-5"]])
def test_generate_py_refuses_non_positive_sizes_on_the_default_path(flag):
    res = generate_py(*flag)  # the shipped checkpoints/G.pth + sampler.pt
    assert res.returncode == 2
    one_line_error(res.stderr, flag[0], "must be a positive integer")


def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["generate", "--checkpoint", "checkpoints/G.pth", "--no-sampler", "--n", "10",
                     "--out", str(blocker / "samples")]) == 2
    one_line_error(capsys.readouterr().err, "ganlab: error:", str(blocker))


def test_a_full_disk_while_saving_a_checkpoint_says_so(tmp_path, monkeypatch):
    def full(obj, f, *a, **k):  # what torch's zip writer raises when the disk fills up
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 3584 vs 3478\n"
                           "PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(GanlabError, match=r"could not write .*last.pt: .*file write failed .*MiB free.*is it full"):
        torch_save({"a": torch.zeros(3)}, tmp_path / "last.pt")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left


def test_enospc_from_any_write_is_one_line(capsys):
    """The one rule of every entry point (ganlab ... and generate.py both run through errors.guarded)."""
    import errno

    from ganlab.errors import guarded

    def fail():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "runs/x/metrics.jsonl")

    assert guarded("ganlab", fail) == 2
    one_line_error(capsys.readouterr().err, "ganlab: error: no space left on device (runs/x/metrics.jsonl)")


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ganlab-pwned",))


@pytest.mark.parametrize("kind", ["truncated", "foreign", "malicious"])
def test_resume_from_a_damaged_or_hostile_last_pt_is_one_line(tmp_path, cache_dir, capsys, kind):
    run = train(tiny(1), tmp_path / "r", progress=False)
    last = Run(run).last
    if kind == "truncated":
        last.write_bytes(last.read_bytes()[:1000])
    elif kind == "foreign":
        torch.save([1, 2, 3], last)
    else:
        Path("/tmp/ganlab-pwned").unlink(missing_ok=True)
        last.write_bytes(pickle.dumps(Exploit()))
    assert cli.main(["train", "--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    one_line_error(err, str(last))
    assert "weights_only" not in err
    assert not Path("/tmp/ganlab-pwned").exists()


def test_diverging_training_stops_before_saving_bad_weights(tmp_path, cache_dir):
    cfg = tiny(5, ["optim.lr_g=1e6", "optim.lr_d=1e6"])
    with pytest.raises(GanlabError, match="training diverged in epoch"):
        train(cfg, tmp_path / "r", progress=False)
    last = Run(tmp_path / "r").last
    if last.exists():  # whatever was saved is finite
        ck = torch_load(last)
        assert all(torch.isfinite(v).all() for v in ck["G"].values())
        assert all(torch.isfinite(v).all() for v in ck["D"].values())


def test_kill_litter_is_removed_and_a_lost_last_pt_resumes_from_the_newest_epoch(tmp_path, cache_dir):
    ref = train(tiny(3), tmp_path / "ref", progress=False)
    run = train(tiny(3), tmp_path / "r", progress=False, until_epoch=2)
    r = Run(run)
    r.last.unlink()  # lost; epoch_0002.pt is complete
    litter = r.checkpoints / ".last.pt.abc123.tmp"
    litter.write_bytes(b"\0" * 1000)  # what a kill during a checkpoint write leaves
    train(None, run, resume=True, progress=False)
    assert not litter.exists()
    a, b = torch_load(Run(ref).last), torch_load(r.last)
    assert a["epoch"] == b["epoch"] == 3
    for k in a["G"]:
        assert torch.equal(a["G"][k], b["G"][k])


def test_a_config_check_that_fails_in_train_leaves_a_folder_a_fresh_start_accepts(tmp_path, cache_dir, capsys):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    out = tmp_path / "r"
    args = ["train", "--config", "configs/vanilla.yaml", "--out", str(out), "--quiet"] + \
        [f"--set={s}" for s in TINY + ["train.epochs=1"]]
    assert cli.main(args + ["--set=train.device=cuda"]) == 2
    one_line_error(capsys.readouterr().err, "'train.device' = 'cuda' but no CUDA device")
    assert not (out / "config.yaml").exists()
    assert cli.main(args) == 0
    assert Run(out).last.exists()
