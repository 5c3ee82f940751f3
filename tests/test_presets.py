"""benchmarks/presets.py: the issue-4 table runner trains each preset once, resumes, reuses evaluations."""
import importlib.util
import json
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("presets", Path(__file__).resolve().parents[1] / "benchmarks" / "presets.py")
presets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(presets)

TINY = ["--set", "data.subset=640", "--set", "eval.every=0", "--threads", "1", "--mnist-only", "--n", "200", "--quiet"]


def test_table_of_two_presets_then_rerun_reuses_everything(tmp_path, cache_dir, capsys):
    out = tmp_path / "p"
    assert presets.main(["--epochs", "1", "--out", str(out), "--only", "vanilla", "wgan-gp"] + TINY) == 0
    table = json.loads((out / "table.json").read_text())
    rows = {r["preset"]: r for r in table["rows"]}
    assert set(rows) == {"vanilla", "wgan-gp"}
    # 640 images / batch 64 = 10 batches: the NS preset steps G on each, WGAN-GP after every 5th critic step
    assert rows["vanilla"]["g_steps"] == 10 and rows["wgan-gp"]["g_steps"] == 2
    assert rows["wgan-gp"]["loss"] == "wgan" and rows["wgan-gp"]["n_critic"] == 5
    assert all(r["metrics"]["classes_covered"] >= 1 and "fid" not in r["metrics"] for r in rows.values())
    md = (out / "table.md").read_text()
    assert md.count("\n| vanilla |") == 1 and md.count("\n| wgan-gp |") == 1 and "MNIST-FID" in md
    from PIL import Image

    with Image.open(out / "grids.png") as im:  # one panel per preset, six to a row
        assert im.width > 2 * im.height > 0
    assert rows["vanilla"]["grid"] == "grids/vanilla.png"  # the table's folder holds each preset's grid
    assert (out / "grids" / "vanilla.png").read_bytes() == \
        (out / "vanilla" / "evals" / rows["vanilla"]["metrics"]["grid"]).read_bytes()
    weights = (out / "vanilla" / "checkpoints" / "last.pt").stat().st_mtime_ns
    evals = (out / "vanilla" / "evals" / "last--prior.json").stat().st_mtime_ns
    assert presets.main(["--epochs", "1", "--out", str(out), "--only", "vanilla"] + TINY) == 0
    assert (out / "vanilla" / "checkpoints" / "last.pt").stat().st_mtime_ns == weights  # not retrained
    assert (out / "vanilla" / "evals" / "last--prior.json").stat().st_mtime_ns == evals  # not re-evaluated


def test_update_completes_an_earlier_table_without_its_runs(tmp_path, cache_dir, capsys):
    import shutil

    first, second = tmp_path / "first", tmp_path / "second"
    assert presets.main(["--epochs", "1", "--out", str(first), "--only", "vanilla", "wgan-gp"] + TINY) == 0
    earlier = json.loads((first / "table.json").read_text())
    shutil.rmtree(first / "vanilla")  # the earlier runs are gone (another session, another machine)
    shutil.rmtree(first / "wgan-gp")
    assert presets.main(["--epochs", "1", "--out", str(second), "--only", "wgan-gp", "hinge",
                         "--update", str(first / "table.json")] + TINY) == 0
    table = json.loads((second / "table.json").read_text())
    assert [r["preset"] for r in table["rows"]] == ["hinge", "vanilla", "wgan-gp"]
    rows = {r["preset"]: r for r in table["rows"]}
    assert rows["vanilla"] == earlier["rows"][0]  # kept as it was
    assert rows["wgan-gp"]["run"] == str(second / "wgan-gp")  # replaced by this invocation's run
    assert (second / "grids" / "vanilla.png").read_bytes() == (first / "grids" / "vanilla.png").read_bytes()
    assert (second / "table.md").read_text().count("\n| vanilla |") == 1
    # a table of another budget does not merge
    capsys.readouterr()
    assert presets.main(["--epochs", "2", "--out", str(tmp_path / "third"), "--only", "wgan-gp",
                         "--update", str(first / "table.json")] + TINY) == 2
    assert "do not merge" in capsys.readouterr().err
    assert not (tmp_path / "third").exists()  # refused before any training


def test_interrupted_preset_is_resumed(tmp_path, cache_dir):
    from ganlab.training import config as C, train

    out = tmp_path / "p"
    cfg = C.load("configs/vanilla.yaml", ["train.epochs=2", "seed=0", "data.subset=640", "eval.every=0",
                                           "train.threads=1"])
    train(cfg, out / "vanilla", until_epoch=1, progress=False)
    assert presets.main(["--epochs", "2", "--out", str(out), "--only", "vanilla"] + TINY) == 0
    assert json.loads((out / "vanilla" / "summary.json").read_text())["epochs"] == 2
    # the same folder with another budget or another override is refused, not silently reused
    for change in (["--epochs", "3"], ["--epochs", "2", "--set", "optim.lr_g=0.001"]):
        assert presets.main(change + ["--out", str(out), "--only", "vanilla"] + TINY) == 2


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "1", "--only", "nope"], "unknown preset(s) nope; accepted: ac-head"),
    (["--epochs", "0"], "--epochs 0 must be >= 1"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, argv, message):
    assert presets.main(argv + ["--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
