import pytest

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.training import config as c


def test_defaults_are_the_platform_template():
    cfg = c.load("configs/vanilla.yaml")
    assert (cfg.train.loss, cfg.optim.name, cfg.optim.lr_g, cfg.optim.lr_d) == ("ns", "adam", 2e-4, 2e-4)
    assert cfg.optim.betas == (0.9, 0.999)
    assert (cfg.train.batch_size, cfg.train.epochs, cfg.model.discriminator) == (64, 100, "mlp")


def test_overrides_are_typed():
    cfg = c.load(None, ["train.epochs=3", "optim.betas=[0.5, 0.9]", "optim.lr_d=1e-3", "seed=7"])
    assert cfg.train.epochs == 3 and cfg.optim.betas == (0.5, 0.9) and cfg.optim.lr_d == 1e-3 and cfg.seed == 7


@pytest.mark.parametrize("native, resolved", [(True, "bf16"), (False, "fp32")])
def test_precision_auto_is_what_the_machine_runs_natively_and_is_written_resolved(native, resolved, monkeypatch, tmp_path):
    """train.precision auto (the default): bf16 autocast where bf16 products are native, else fp32; a config reads
    resolved, so a run's config.yaml records what it trained in. A name is kept on any machine."""
    from ganlab import devices

    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": native)
    assert c.load(None).train.precision == resolved
    assert c.load(None, ["train.precision=auto"]).train.precision == resolved
    assert c.load(None, ["train.precision=fp32"]).train.precision == "fp32"
    assert c.load(None, ["train.precision=bf16"]).train.precision == "bf16"
    assert f"precision: {resolved}" in c.dump(c.load(None))


def test_bf16_pinned_on_hardware_that_emulates_it_is_warned(tmp_path, monkeypatch, capsys, cache_dir):
    """A run (or a sweep SPEC) pinned to bf16 on a CPU without native bf16 trains at a fraction of fp32's speed
    (session 21: 0.13x the template): training says so on stderr before the first epoch; fp32, or bf16 where it
    is native, says nothing."""
    from ganlab import devices
    from ganlab.training.loop import train

    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": False)
    note = devices.emulated_bf16("bf16")
    assert note.startswith("warning: train.precision bf16") and "set train.precision to fp32 or auto" in note
    assert devices.emulated_bf16("fp32") is None
    tiny = ["data.subset=64", "train.batch_size=64", "train.epochs=1", "train.threads=1"]
    train(c.load("configs/vanilla.yaml", tiny + ["train.precision=fp32"]), tmp_path / "fp32", progress=False)
    assert "warning" not in capsys.readouterr().err
    train(c.load("configs/vanilla.yaml", tiny + ["train.precision=bf16"]), tmp_path / "bf16", progress=False)
    assert note in capsys.readouterr().err
    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": True)
    assert devices.emulated_bf16("bf16") is None
    phased = c.load(None, ["train.epochs=3", "train.precision=fp32",
                           "train.phases=[{epochs: 2}, {epochs: 1, set: {train.precision: bf16}}]"])
    assert c.precisions(phased.train) == c.precisions(c.to_dict(phased)["train"]) == ["fp32", "bf16"]  # both warned


def test_auto_in_a_phase_is_resolved_as_the_run(monkeypatch):
    """A phase's set may say train.precision: auto; the config records what the phase trains in, as for the run."""
    from ganlab import devices

    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": True)
    cfg = c.load(None, ["train.epochs=3", "train.precision=fp32",
                        "train.phases=[{epochs: 2}, {epochs: 1, set: {train.precision: auto}}]"])
    assert cfg.train.precision == "fp32" and cfg.train.phases[1]["set"] == {"train.precision": "bf16"}
    assert c.phase_config(cfg, 1).train.precision == "bf16"


def test_a_stored_config_without_precision_reads_as_the_fp32_it_trained_in(tmp_path, monkeypatch):
    """Runs written before train.precision had the default auto hold no key (fp32 was the default): their config
    reads as fp32 on a machine where auto would be bf16, so a resume trains on as they began; a user's config
    without the key takes auto."""
    from ganlab import devices
    from ganlab.runs import Run, load_config

    monkeypatch.setattr(devices, "native_bf16", lambda device="auto": True)
    (tmp_path / "config.yaml").write_text("seed: 3\ntrain: {epochs: 2}\n")
    assert load_config(Run(tmp_path)).train.precision == "fp32"
    assert c.load(tmp_path / "config.yaml").train.precision == "bf16"
    assert c.as_stored({"train": {"precision": "bf16"}}) == {"train": {"precision": "bf16"}}


def test_dump_roundtrip(tmp_path):
    cfg = c.load(None, ["train.epochs=3", "optim.betas=[0.5, 0.9]"])
    (tmp_path / "c.yaml").write_text(c.dump(cfg))
    assert c.load(tmp_path / "c.yaml") == cfg


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", "unknown config key 'train.epoch'; accepted keys in train: loss, ac_weight"),
    ("trian.epochs=3", "unknown config key 'trian'; accepted keys: seed, data, model, optim, train, latent, regularizers, consistency, eval"),
    ("train.epochs=three", "'train.epochs' = 'three' is not a valid int"),
    ("train.epochs=2.5", "'train.epochs' = 2.5 is not a valid int"),
    ("train.epochs=0", "'train.epochs' = 0 must be > 0"),
    ("optim.betas=0.5", "'optim.betas' = 0.5 is not a valid tuple"),
    ("train.loss=wgan-foo", "'train.loss' = 'wgan-foo' is not accepted; accepted: "),
    ("train.loss=md-gan", "md-gan needs an embedding (d_out >= 2)"),
    ("model.discriminator=resnet", "accepted: classifier-features, conv, conv-bn, mlp, mlp-dropout, mlp-wide"),
    ("optim.name=sgd", "accepted: adam, rmsprop"),
    ("train.precision=fp16", "accepted: auto, fp32, bf16"),
    ("train=3", "config section 'train' must be a mapping"),
    ("epochs", "not of the form key=value"),
])
def test_bad_config_names_the_key(override, message):
    with pytest.raises(GanlabError) as info:
        c.load(None, [override])
    assert message in str(info.value)


def test_what_unrolling_does_not_combine_with_is_refused_before_a_run():
    from ganlab.toy import train as toy

    with pytest.raises(GanlabError, match="'train.unroll' and 'train.loss' = 'rpgan' do not combine"):
        c.load(None, ["train.loss=rpgan", "train.unroll=2"])
    with pytest.raises(GanlabError, match="'train.unroll' and 'train.loss' = 'rpgan' do not combine"):
        toy.load("configs/toy/r3gan.yaml", ["train.unroll=2"])
    with pytest.raises(GanlabError, match="'train.unroll' and 'model.ac_head' do not combine"):
        c.load(None, ["model.ac_head=true", "train.unroll=2"])


def test_bad_yaml_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("train: [unclosed\n")
    with pytest.raises(GanlabError, match="not valid YAML"):
        c.load(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(GanlabError, match="must hold a mapping"):
        c.load(tmp_path / "list.yaml")
    with pytest.raises(GanlabError, match="does not exist"):
        c.load(tmp_path / "missing.yaml")


def test_cli_config_error_is_one_line(capsys, tmp_path):
    rc = main(["train", "--config", "configs/vanilla.yaml", "--set", "train.epoch=1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "train.epoch" in err
    assert not (tmp_path / "r").exists()  # nothing written for a bad config


def test_every_preset_loads():
    from pathlib import Path

    presets = sorted(Path("configs").glob("*.yaml"))
    assert len(presets) >= 6
    for p in presets:
        c.load(p)


def test_periodic_evaluation_chooses_on_training_images_by_default(tmp_path):
    """The periodic metric picks the best checkpoint (and drives a plateau schedule), so by default it is measured
    against MNIST training images; test or a path of images are one key away, anything else is a one-line error."""
    import numpy as np

    from ganlab.sweeps.spec import comparable

    assert c.load(None).eval.ref == "train"
    assert c.load(None, ["eval.ref=test"]).eval.ref == "test"
    np.save(tmp_path / "ref.npy", np.zeros((10, 28, 28), np.uint8))
    assert c.load(None, [f"eval.ref={tmp_path / 'ref.npy'}"]).eval.ref == str(tmp_path / "ref.npy")
    with pytest.raises(GanlabError, match="'eval.ref' = 'tset' is not accepted; accepted: train"):
        c.load(None, ["eval.ref=tset"])
    # a sweep compares trial configs without the evaluation settings when periodic evaluation is off
    off = c.to_dict(c.load(None, ["eval.ref=test"]))
    assert comparable(off) == comparable(c.to_dict(c.load(None)))
    on = c.to_dict(c.load(None, ["eval.every=5", "eval.ref=test"]))
    assert comparable(on) != comparable(c.to_dict(c.load(None, ["eval.every=5"])))
