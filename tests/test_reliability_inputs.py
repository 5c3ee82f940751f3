"""Bad or unusual inputs end in a one-line GanlabError or a correct result, never silently wrong output."""
import os
import signal
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab import cli
from ganlab.errors import GanlabError
from ganlab.latent import Context, NormalPrior, Pipeline, build_sampler
from ganlab.metrics.evaluate import MIN_IMAGES, evaluate
from ganlab.metrics.imagesets import load_images, reference
from ganlab.training import config as c


def _pngs(folder, n):
    folder.mkdir()
    for i in range(n):
        Image.fromarray(np.full((28, 28), 10 * i, np.uint8)).save(folder / f"{i}.png")
    return folder


def test_16_bit_pngs_convert_exactly_to_8_bit(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    images[0, 0, :3] = (0, 128, 255)
    for i, img in enumerate(images):
        Image.fromarray(img.astype(np.uint16) * 257).save(folder / f"{i}.png")  # a 16-bit export
        assert Image.open(folder / f"{i}.png").mode in ("I;16", "I")
    loaded = load_images(folder)
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, images)


def test_reference_path_needs_as_many_images_as_the_generated_side(tmp_path):
    assert MIN_IMAGES == 6
    small = _pngs(tmp_path / "ref5", MIN_IMAGES - 1)
    with pytest.raises(GanlabError, match=f"{small} has 5 images; the metrics need at least 6"):
        reference(str(small))
    with pytest.raises(GanlabError, match="ref5 has 5 images"):  # before any model is loaded
        evaluate(np.zeros((10, 28, 28), np.uint8), ref=str(small), full=False)
    _, images = reference(str(_pngs(tmp_path / "ref6", MIN_IMAGES)))
    assert len(images) == MIN_IMAGES


@pytest.mark.parametrize("text", ["", "# nothing here yet\n\n"])
def test_empty_config_file_is_an_error(tmp_path, capsys, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(GanlabError, match=f"config file {path} is empty; a config needs at least one section"):
        c.load(path)
    assert c.load(None) == c.validate(c.Config())  # no file at all: the defaults (auto resolved), as before
    out = tmp_path / "run"
    assert cli.main(["train", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is empty" in err and str(path) in err
    assert not out.exists()


@pytest.mark.parametrize("betas", ["[1.5, 0.999]", "[-0.1, 0.9]", "[0.9, 1.0]"])
def test_betas_outside_0_1_are_an_error(tmp_path, capsys, betas):
    path = tmp_path / "c.yaml"
    path.write_text(f"optim:\n  betas: {betas}\n")
    with pytest.raises(GanlabError, match=r"'optim.betas' = .* each beta must be in \[0, 1\)"):
        c.load(path)
    out = tmp_path / "run"
    assert cli.main(["train", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "optim.betas" in err and "[0, 1)" in err
    assert not out.exists()
    path.write_text("optim:\n  betas: [0.0, 0.99]\n")
    assert c.load(path).optim.betas == (0.0, 0.99)


def test_drs_with_no_acceptance_stops_with_a_clear_error(blob_generator):
    D = torch.nn.Linear(2, 1).requires_grad_(False)
    ctx = Context(blob_generator, D, NormalPrior(2), 2, True, batch_size=100)
    drs = build_sampler("drs", percentile=90)
    drs.load_state({"a": 1.0, "b": 0.0, "max_logit": 0.0, "gamma": 1e6})  # sigmoid(F - gamma) = 0: nothing passes

    def hung(*_):
        raise AssertionError("DRS kept sampling with zero acceptance")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(GanlabError, match=r"sampler 'drs' accepted 0 of \d+ proposals \(acceptance rate 0, "
                                              r"below 1/1000\); lower 'drs.percentile' \(now 90\)"):
            Pipeline([drs]).sample(10, ctx, torch.Generator().manual_seed(0))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert ctx.cost.tested == 1000 * 100  # bounded: MAX_TRIES x max(n, batch size) proposals


def test_png_samples_folder_is_readable_by_others(tmp_path):
    from ganlab.sampling import write_samples

    old = os.umask(0o022)
    try:
        out = write_samples(np.zeros((3, 28, 28), np.uint8), tmp_path / "samples")
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}
        write_samples(np.ones((2, 28, 28), np.uint8), out, overwrite=True)  # replacing keeps the mode
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png"]
    finally:
        os.umask(old)


def test_every_rejection_sampler_loop_is_bounded():
    """DRS and LRS share one rejection loop (latent/base.py reject): an acceptance rate of 0 ends in an error."""
    import torch

    from ganlab.latent.base import MAX_TRIES, Context, reject

    class Cost:
        tested = passed = 0

    ctx = Context.__new__(Context)
    ctx.batch_size, ctx.cost = 10, Cost()
    with pytest.raises(GanlabError, match=r"sampler 'lrs' accepted 0 of \d+ proposals .*lower 'lrs.m'"):
        reject(5, ctx, lambda b: torch.zeros(b, 2), lambda z: torch.zeros(len(z), dtype=torch.bool), "lrs",
               "lower 'lrs.m' (now 3)")
    assert ctx.cost.tested == MAX_TRIES * 10 and ctx.cost.passed == 0
