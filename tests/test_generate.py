import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.latent.bundle import describe
from ganlab.models import Generator, export_generator
from ganlab.sampling import load_generator, sample_images, write_samples
from ganlab.training import config as c
from ganlab.training.loop import train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, cache_dir):
    cfg = c.load("configs/vanilla.yaml", ["data.subset=128", "train.epochs=1", "train.threads=1"])
    return train(cfg, tmp_path_factory.mktemp("runs") / "tiny", progress=False)


def test_generate_pngs_like_the_platform(tiny_run, tmp_path, capsys):
    out = tmp_path / "samples"
    assert main(["generate", "--run", str(tiny_run), "--n", "25", "--out", str(out), "--batch-size", "10"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{i}.png" for i in range(25))
    img = Image.open(out / "0.png")
    assert img.size == (28, 28) and img.mode == "L"


def test_samples_are_computed_in_fixed_chunks():
    """G sees the same matrix shapes whoever asks: chunks of sampling.CHUNK rows (and the last remainder)."""
    from ganlab.sampling import CHUNK

    G, shapes = Generator(), []
    G.register_forward_pre_hook(lambda module, args: shapes.append(len(args[0])))
    images = sample_images(G, 2 * CHUNK + 5, seed=3, progress=False)
    assert shapes == [CHUNK, CHUNK, 5] and images.shape == (2 * CHUNK + 5, 28, 28)
    assert np.array_equal(images, sample_images(G, 2 * CHUNK + 5, seed=3, progress=False))


def test_pixel_mapping():
    G = Generator()
    with torch.no_grad():
        for p in G.parameters():
            p.zero_()
        G.fc4.bias.fill_(1e4)  # tanh -> 1 everywhere: white
    assert (sample_images(G, 2, progress=False) == 255).all()
    with torch.no_grad():
        G.fc4.bias.fill_(-1e4)
    assert (sample_images(G, 2, progress=False) == 0).all()


def test_refuses_non_empty_out_unless_overwrite(tiny_run, tmp_path, capsys):
    out = tmp_path / "samples"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    rc = main(["generate", "--run", str(tiny_run), "--n", "5", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "not empty; pass --overwrite" in err and err.count("\n") == 1
    assert (out / "keep.txt").exists()
    assert main(["generate", "--run", str(tiny_run), "--n", "5", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.png" for i in range(5)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_npz_format(tiny_run, tmp_path):
    assert main(["generate", "--run", str(tiny_run), "--n", "12", "--out", str(tmp_path / "s.npz"),
                 "--format", "npz"]) == 0
    with np.load(tmp_path / "s.npz") as z:
        assert z["images"].shape == (12, 28, 28) and z["images"].dtype == np.uint8


def test_bad_generate_inputs(tiny_run, tmp_path, capsys):
    assert main(["generate", "--run", str(tiny_run), "--checkpoint", "best", "--out", str(tmp_path / "x")]) == 2
    assert "checkpoint 'best' not found" in capsys.readouterr().err
    assert main(["generate", "--run", str(tiny_run), "--format", "jpg", "--n", "2", "--out", str(tmp_path / "y")]) == 2
    assert "accepted: png, npz" in capsys.readouterr().err
    with pytest.raises(GanlabError, match="must be positive"):
        sample_images(Generator(), 0)


def test_export_and_platform_generate_script(tiny_run, tmp_path):
    assert main(["export", "--run", str(tiny_run), "--out", str(tmp_path / "checkpoints" / "G.pth")]) == 0
    proc = subprocess.run([sys.executable, str(ROOT / "generate.py"), "--batch_size", "64", "--n_samples", "100"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "samples").glob("*.png"))) == 100
    # the same images as ganlab generate from the run (same seed)
    a = np.array(Image.open(tmp_path / "samples" / "42.png"))
    write_samples(sample_images(load_generator(tiny_run), 100, progress=False), tmp_path / "ref")
    assert np.array_equal(a, np.array(Image.open(tmp_path / "ref" / "42.png")))


def test_platform_generate_without_checkpoint(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "generate.py")], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "checkpoints/G.pth does not exist" in proc.stderr


def test_generate_grid(tiny_run, tmp_path):
    assert main(["generate", "--run", str(tiny_run), "--n", "12", "--out", str(tmp_path / "s"),
                 "--grid", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").mode == "L"


def test_shipped_sampler_reproduces_the_run_sampler(tmp_path, cache_dir):
    """export --sampler writes G.pth + sampler.pt; generate.py draws through it with no data and no run
    directory, giving the same images as the sampler on the run (mixture prior and fitted DRS state carried)."""
    cfg = c.load(None, ["data.subset=128", "train.epochs=1", "train.threads=1", "latent.prior=mixture"])
    run = train(cfg, tmp_path / "mix", progress=False)
    ship = tmp_path / "checkpoints"
    assert main(["export", "--run", str(run), "--out", str(ship / "G.pth"), "--sampler", "drs",
                 "--sampler-opt", "burn_in=400", "--sampler-opt", "percentile=70"]) == 0
    assert (ship / "sampler.pt").is_file()
    assert describe(ship / "sampler.pt") == "mix (last checkpoint, raw weights) + drs burn_in=400 percentile=70"
    with pytest.raises(GanlabError, match="not a readable ganlab sampler file"):
        describe(ship / "G.pth")
    proc = subprocess.run([sys.executable, str(ROOT / "generate.py"), "--batch_size", "64", "--n_samples", "50"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "sampler drs" in proc.stdout
    assert main(["generate", "--run", str(run), "--n", "50", "--batch-size", "64", "--out", str(tmp_path / "ref"),
                 "--sampler", "drs", "--sampler-opt", "burn_in=400", "--sampler-opt", "percentile=70"]) == 0
    for i in (0, 17, 49):
        assert np.array_equal(np.array(Image.open(tmp_path / "samples" / f"{i}.png")),
                              np.array(Image.open(tmp_path / "ref" / f"{i}.png")))
    # --no-sampler: the plain prior of G.pth
    proc = subprocess.run([sys.executable, str(ROOT / "generate.py"), "--n_samples", "5", "--no-sampler"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "through" not in proc.stdout


def test_shipped_sampler_refuses_another_generator(tiny_run, tmp_path, capsys):
    ship = tmp_path / "checkpoints"
    assert main(["export", "--run", str(tiny_run), "--out", str(ship / "G.pth"), "--sampler", "truncation"]) == 0
    export_generator(Generator(), ship / "G.pth")  # replaced behind the sampler's back
    assert main(["generate", "--checkpoint", str(ship / "G.pth"), "--n", "5", "--out", str(tmp_path / "s")]) == 2
    assert "fitted for another generator" in capsys.readouterr().err
    # exporting without --sampler removes the stale sampler.pt
    assert main(["export", "--run", str(tiny_run), "--out", str(ship / "G.pth")]) == 0
    assert not (ship / "sampler.pt").exists()


def test_weights_raw_or_ema(tmp_path):
    run = train(c.load(None, ["data.subset=128", "train.epochs=1", "train.threads=1", "train.ema=0.9"]),
                tmp_path / "ema", progress=False)
    ck = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    ema, raw = load_generator(run), load_generator(run, weights="raw")
    assert torch.equal(ema.fc1.weight, ck["G_ema"]["fc1.weight"]) and torch.equal(raw.fc1.weight, ck["G"]["fc1.weight"])
    assert not torch.equal(ema.fc1.weight, raw.fc1.weight)
    assert main(["generate", "--run", str(run), "--n", "4", "--weights", "raw", "--format", "npz",
                 "--out", str(tmp_path / "raw.npz")]) == 0


def test_the_shipped_model_and_sampler_generate(tmp_path):
    """checkpoints/G.pth and checkpoints/sampler.pt as committed: a consistent pair that needs no data."""
    ship = ROOT / "checkpoints"
    assert (ship / "G.pth").is_file()
    proc = subprocess.run([sys.executable, str(ROOT / "generate.py"), "--batch_size", "64", "--n_samples", "20",
                           "--checkpoint", str(ship / "G.pth"), "--out", str(tmp_path / "s")],
                          cwd=tmp_path, capture_output=True, text=True, env={"GANLAB_CACHE": str(tmp_path / "empty"),
                                                                             "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "s").glob("*.png"))) == 20
    if (ship / "sampler.pt").is_file():
        assert "through" in proc.stdout
    assert not (tmp_path / "empty").exists()  # no MNIST, no Inception: nothing fetched


def test_generate_py_writes_the_same_pngs_at_every_batch_size(tmp_path):
    """The platform runs ``python generate.py --batch_size 64``; its default is 2048; ganlab evaluates in 1000s.
    The shipped G + DOT (40 Adam steps, which amplify any floating-point difference between matrix shapes) must
    write the same images whatever the batch size: samples are computed in fixed chunks (sampling.CHUNK), here
    across a chunk boundary (1,005 samples)."""
    ship = ROOT / "checkpoints"
    written = {}
    for bs in ("64", "2048"):
        out = tmp_path / f"bs{bs}"
        proc = subprocess.run([sys.executable, str(ROOT / "generate.py"), "--batch_size", bs, "--n_samples", "1005",
                               "--checkpoint", str(ship / "G.pth"), "--out", str(out)],
                              cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        written[bs] = np.stack([np.array(Image.open(out / f"{i}.png")) for i in range(1005)])
    assert np.array_equal(written["64"], written["2048"])
