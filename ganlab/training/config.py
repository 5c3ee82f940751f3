"""Training configuration: a dataclass tree loaded from YAML, with ``--set a.b=value`` overrides.

Unknown keys and ill-typed values are errors that name the key and what is accepted.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..data import augment
from ..data.augment import compose
from ..devices import emulated_bf16, resolve_precision
from ..errors import GanlabError
from ..io import read_yaml
from ..losses import LOSSES
from ..metrics import registry
from ..models import DISCRIMINATORS


#: the presets, one YAML per method (configs/NAME.yaml): what sweeps name and what the platform template is
PRESETS = Path(__file__).resolve().parents[2] / "configs"

@dataclass
class DataConfig:
    dataset: str = "mnist"
    #: use only the first N training images (0 = all 60000); for tests and quick looks
    subset: int = 0


@dataclass
class ModelConfig:
    discriminator: str = "mlp"
    #: spectral normalisation on every layer of D (Miyato et al. 2018)
    spectral_norm: bool = False
    #: D's output dimension: 1 (a logit or score), or the embedding size d >= 2 for the md-gan loss
    d_out: int = 1
    #: AC-GAN-style auxiliary classifier head on D's features, trained on the real labels (G stays unconditional)
    ac_head: bool = False


@dataclass
class OptimConfig:
    name: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    #: none, step, linear, cosine, plateau (see ganlab/training/schedules.py); per epoch, both optimisers
    schedule: str = "none"
    step_size: int = 30
    gamma: float = 0.5
    patience: int = 2


@dataclass
class RegularizerConfig:
    """Weights of the D penalties (0 = off); see ganlab/losses/penalties.py."""

    gp: float = 0.0
    r1: float = 0.0
    r2: float = 0.0


@dataclass
class ConsistencyConfig:
    """bCR / zCR weights (0 = off); see ganlab/losses/consistency.py."""

    bcr_real: float = 0.0
    bcr_fake: float = 0.0
    #: bCR's augmentation T, applied in order: shift, cutout, hflip (changes digits), identity
    augment: list[str] = field(default_factory=lambda: ["shift", "cutout"])
    zcr_dis: float = 0.0
    zcr_gen: float = 0.0
    zcr_sigma: float = 0.03


@dataclass
class LatentConfig:
    """z's distribution in training and sampling (ganlab/latent/priors.py)."""

    prior: str = "normal"
    components: int = 10
    mean_scale: float = 1.0
    sigma: float = 1.0
    learnable: bool = False


@dataclass
class SchemeSettings:
    """How each step trains (training/terms.py): the loss and the schemes. Shared by the MNIST loop's ``train`` and
    the 2-d toys' ``train`` sections, so both accept the same keys with the same meaning."""

    loss: str = "ns"
    #: with model.ac_head: weight of the head's cross-entropy on real labels in D's loss
    ac_weight: float = 1.0
    #: with model.ac_head: weight of the head's prediction entropy on fakes in G's loss (clear digits)
    ac_g_entropy: float = 0.0
    #: with model.ac_head: weight of the entropy of the head's *mean* prediction over a batch of fakes, maximised in
    #: G's loss (balanced classes; CatGAN, Springenberg 2016: G minimises E H[p(y|G(z))] - H[E p(y|G(z))])
    ac_g_balance: float = 0.0
    #: cn-lsgan: weight lambda_2 of E[(G(z) - x)^2] in G's loss
    cn_lambda2: float = 0.1
    #: md-gan: edge length of the simplex of Gaussian means in D's embedding space
    mdgan_distance: float = 5.0
    #: D steps per G step
    n_critic: int = 1
    #: clip every D weight to [-c, c] after each D step (WGAN, c = 0.01); 0 = off
    clip_d: float = 0.0
    #: unrolled GAN: G's loss looks k simulated D steps ahead (Metz et al. 2017); 0 = off
    unroll: int = 0
    #: step size of the simulated D steps (0 = optim.lr_d)
    unroll_lr: float = 0.0
    #: latent optimisation (LOGAN, Wu et al. 2019): each step's codes first take one natural-gradient ascent
    #: step on D(G(z)), z += alpha * g / (beta + ||g||^2); alpha 0 = off
    latent_opt_alpha: float = 0.0
    latent_opt_beta: float = 5.0
    #: how many such steps each code takes before the step uses it (LOGAN takes one; issue 20's "several
    #: latent-optimisation steps per training step")
    latent_opt_steps: int = 1
    #: feature matching (Salimans et al. 2016): add w * ||E f(x) - E f(G(z))||^2 on D's last hidden layer to G's loss
    feature_matching: float = 0.0
    #: exponential moving average of G's weights (decay, e.g. 0.999; 0 = off); sampling and evaluation use it
    ema: float = 0.0
    #: augment every image D sees in training, reals and fakes, differentiably (DiffAugment, Zhao et al. 2020; ADA,
    #: Karras et al. 2020): names of data/augment.py in order, e.g. [shift, cutout] (MNIST) or [jitter] (instance
    #: noise; with identity, the only ones the 2-d toys take); [] = off
    d_augment: list[str] = field(default_factory=list)
    #: the probability that an image takes each augmentation (DiffAugment: 1); with ada_target, where p starts (ADA:
    #: 0), and where it starts again at each of train.phases
    d_augment_p: float = 1.0
    #: ADA: adapt p so that E[sign D(x_real)] stays at this target (Karras et al.: 0.6, i.e. 80 % of the reals get a
    #: positive logit); 0 = p stays fixed
    ada_target: float = 0.0
    #: ADA: p can move from 0 to 1 in this many thousand real images (Karras et al.: 500)
    ada_kimg: float = 500.0
    #: the arithmetic of training: auto (default) = bf16 autocast where the hardware multiplies bf16 natively (a CPU
    #: with AVX-512 BF16 or AMX, a CUDA GPU with bf16), else fp32; or fp32 (exact) or bf16 by name. bf16 is
    #: 1.8-1.9x fp32's speed on AVX-512 BF16 and was shown harmless on vanilla and WGAN-GP, 100 epochs, 3 seeds each
    #: way, on CPU (docs/RESULTS.md §4). auto is resolved when the config is read: a run's config.yaml holds what it
    #: trained in
    precision: str = "auto"


@dataclass
class TrainConfig(SchemeSettings):
    epochs: int = 100
    batch_size: int = 64
    #: write a sample grid every N epochs (and after the last)
    sample_every: int = 10
    #: keep a numbered checkpoint every N epochs (``last`` is written after every epoch)
    checkpoint_every: int = 10
    #: torch threads for training (0 = torch's default)
    threads: int = 0
    device: str = "auto"
    #: warm start: a checkpoint written by ganlab train (a run's .pt) whose G, G's EMA, D and prior start this
    #: run; the optimisers, schedules and epoch count start fresh ("" = train from scratch)
    init_from: str = ""
    #: the run in phases, each like a warm start from the previous one's last epoch: fresh optimisers, the lr
    #: schedule restarted over the phase's epochs, the data order and the terms' randomness drawn again from the
    #: seed; G, its EMA, D and the prior carry on. ``[{epochs: 80}, {epochs: 40, set: {train.latent_opt_alpha: 0.9}}]``:
    #: ``set`` changes keys of train (not epochs, batch_size, device, threads, init_from, phases), optim (not name),
    #: regularizers or consistency for that phase, relative to this config. The epochs must add up to
    #: ``train.epochs``. [] = one phase
    phases: list[dict] = field(default_factory=list)


@dataclass
class EvalConfig:
    #: evaluate every N epochs (0 = never); keeps checkpoints/best.pt by ``metric``
    every: int = 0
    #: samples per evaluation (fixed z, drawn from ``seed``)
    n: int = 5000
    seed: int = 0
    #: also compute the Inception protocol (FID, P, R, D, C, KID): minutes instead of seconds
    full: bool = False
    #: the periodic metric the best checkpoint minimises: mnist_fid (always available), kl_to_uniform, or on the
    #: full protocol fid or kid_mean (metrics/registry.py: every registered number where lower is better)
    metric: str = "mnist_fid"
    #: what the periodic metric (and so the best checkpoint and a plateau schedule) is measured against: 10,000
    #: MNIST training images (train, the default: it chooses), the MNIST test set (test), or a PATH of images
    ref: str = "train"
    precision: str = "fp32"


@dataclass
class Config:
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)
    regularizers: RegularizerConfig = field(default_factory=RegularizerConfig)
    consistency: ConsistencyConfig = field(default_factory=ConsistencyConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


CHOICES = {
    "data.dataset": ("mnist",),
    "optim.name": ("adam", "rmsprop"),
    "latent.prior": ("normal", "mixture"),
    "optim.schedule": ("none", "step", "linear", "cosine", "plateau"),
    "train.device": ("auto", "cpu", "cuda"),
    "train.precision": ("auto", "fp32", "bf16"),
    "eval.precision": ("fp32", "bf16", "bf16-stem"),
}
POSITIVE = {"train.epochs", "train.batch_size", "train.n_critic", "train.sample_every", "train.checkpoint_every",
            "optim.lr_g", "optim.lr_d", "eval.n", "model.d_out", "latent.components", "latent.sigma", "train.mdgan_distance", "optim.step_size", "optim.gamma",
            "train.latent_opt_beta", "train.latent_opt_steps"}
NON_NEGATIVE = {"train.cn_lambda2", "train.ac_weight", "train.ac_g_entropy", "train.ac_g_balance", "latent.mean_scale", "consistency.bcr_real", "consistency.bcr_fake", "consistency.zcr_dis", "consistency.zcr_gen",
                "consistency.zcr_sigma", "train.feature_matching", "train.unroll", "train.unroll_lr", "train.latent_opt_alpha", "optim.patience", "data.subset", "train.threads", "eval.every", "train.clip_d",
                "regularizers.gp", "regularizers.r1", "regularizers.r2"}


def _coerce(key: str, typ: Any, value: Any) -> Any:
    """Convert ``value`` to ``typ`` or raise a GanlabError naming ``key``."""
    origin = typing.get_origin(typ)
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes", "on"):
                return True
            if str(value).lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if typ is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
        if origin is tuple:
            args = typing.get_args(typ)
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if not isinstance(value, (list, tuple)) or len(value) != len(args):
                raise ValueError
            return tuple(_coerce(key, a, v) for a, v in zip(args, value))
        if typ is dict:
            if not isinstance(value, dict):
                raise ValueError
            return dict(value)
        if origin is list:
            (arg,) = typing.get_args(typ)
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if value is None:
                return []
            if not isinstance(value, (list, tuple)):
                raise ValueError
            return [_coerce(key, arg, v) for v in value]
    except (ValueError, TypeError, yaml.YAMLError):
        pass
    else:
        if origin not in (tuple, list) and typ not in (bool, int, float, str, dict):
            raise GanlabError(f"config key '{key}' has an unsupported type {typ}")
    name = getattr(typ, "__name__", str(typ))
    raise GanlabError(f"config key '{key}' = {value!r} is not a valid {name}")


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _apply(obj: Any, mapping: dict, prefix: str = "") -> None:
    if not isinstance(mapping, dict):
        raise GanlabError(f"config section '{prefix.rstrip('.') or '<root>'}' must be a mapping, got {mapping!r}")
    hints = _hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    for key, value in mapping.items():
        full = prefix + str(key)
        if key not in names:
            raise GanlabError(f"unknown config key '{full}'; accepted keys{' in ' + prefix.rstrip('.') if prefix else ''}: "
                              f"{', '.join(names)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            _apply(current, value, full + ".")
        else:
            setattr(obj, key, _coerce(full, hints[key], value))


def eval_metrics() -> tuple[str, ...]:
    """What ``eval.metric`` accepts: every registered metric number where lower is better (the best checkpoint is
    the one with the lowest)."""
    return tuple(n.key for n in registry.numbers(scalar=True) if n.better == "lower")


def _resolved_set(mapping: dict, device: str) -> dict:
    """A phase's ``set`` with ``train.precision: auto`` (dotted or nested) resolved as the run's own."""
    out = dict(mapping)
    if out.get("train.precision") == "auto":
        out["train.precision"] = resolve_precision("auto", device)
    if isinstance(out.get("train"), dict) and out["train"].get("precision") == "auto":
        out["train"] = {**out["train"], "precision": resolve_precision("auto", device)}
    return out


def precisions(train) -> list[str]:
    """The arithmetic a run trains in: its own ``train.precision`` and each phase's that sets one (``train`` a config's
    train section, as a dataclass or a dict)."""
    get_ = (lambda o, k, d=None: o.get(k, d)) if isinstance(train, dict) else (lambda o, k, d=None: getattr(o, k, d))
    out = [get_(train, "precision", "fp32")]
    for phase in get_(train, "phases", None) or []:
        given = phase.get("set", {}) if isinstance(phase, dict) else {}
        for value in (given.get("train.precision"), (given.get("train") or {}).get("precision")):
            if value:
                out.append(value)
    return out


def emulated_bf16_warning(train) -> str | None:
    """The warning of ``devices.emulated_bf16`` when the run (or a phase of it) pins bf16 on hardware that emulates it
    (``train`` as in ``precisions``), else None."""
    device = train.get("device", "auto") if isinstance(train, dict) else train.device
    return next((w for w in (emulated_bf16(p, device) for p in precisions(train)) if w), None)


def validate(cfg: Config) -> Config:
    for key, choices in CHOICES.items():
        value = get(cfg, key)
        if value not in choices:
            raise GanlabError(f"config key '{key}' = {value!r} is not accepted; accepted: {', '.join(choices)}")
    # auto: what this machine runs natively (devices.py); the resolved value is what a run's config.yaml holds, for
    # the run and for each of its phases that sets it
    cfg.train.precision = resolve_precision(cfg.train.precision, cfg.train.device)
    for phase in cfg.train.phases:
        if isinstance(phase, dict) and isinstance(phase.get("set"), dict):
            phase["set"] = _resolved_set(phase["set"], cfg.train.device)
    for key in POSITIVE:
        if not get(cfg, key) > 0:
            raise GanlabError(f"config key '{key}' = {get(cfg, key)!r} must be > 0")
    for key in NON_NEGATIVE:
        if get(cfg, key) < 0:
            raise GanlabError(f"config key '{key}' = {get(cfg, key)!r} must be >= 0")
    if cfg.train.clip_d and cfg.model.spectral_norm:
        raise GanlabError("config keys 'train.clip_d' and 'model.spectral_norm' do not combine: clipping the "
                          "weights of a spectrally normalised D is meaningless; choose one Lipschitz constraint")
    if not all(0 <= b < 1 for b in cfg.optim.betas):
        raise GanlabError(f"config key 'optim.betas' = {list(cfg.optim.betas)} is not accepted; each beta must be "
                          f"in [0, 1) (e.g. [0.5, 0.999])")
    if not 0 <= cfg.train.ema < 1:
        raise GanlabError(f"config key 'train.ema' = {cfg.train.ema} must be in [0, 1) (0 = off, e.g. 0.999)")

    check_loss_output(cfg.train.loss, cfg.model.d_out)

    compose(cfg.consistency.augment)  # names checked here, not mid-run
    if cfg.optim.schedule == "plateau" and not cfg.eval.every:
        raise GanlabError("config key 'optim.schedule' = 'plateau' needs eval.every > 0 (it follows the periodic metric)")
    metrics = eval_metrics()
    if cfg.eval.metric not in metrics:
        raise GanlabError(f"config key 'eval.metric' = {cfg.eval.metric!r} is not accepted; accepted: {', '.join(metrics)}")
    if registry.features_of(cfg.eval.metric) == "inception" and not cfg.eval.full:
        raise GanlabError(f"config key 'eval.metric' = '{cfg.eval.metric}' needs eval.full = true (it is measured on "
                          f"Inception features, the full protocol)")
    if cfg.eval.ref not in ("train", "test") and not Path(cfg.eval.ref).exists():
        raise GanlabError(f"config key 'eval.ref' = {cfg.eval.ref!r} is not accepted; accepted: train (default), test, "
                          f"or the path of a folder of PNGs or a .npy of images")
    if cfg.eval.every and cfg.eval.n < 6:
        raise GanlabError(f"config key 'eval.n' = {cfg.eval.n} must be >= 6 (the nearest-neighbour metrics need k + 1)")
    # names resolved by registries

    if cfg.train.loss not in LOSSES:
        raise GanlabError(f"config key 'train.loss' = {cfg.train.loss!r} is not accepted; accepted: {', '.join(sorted(LOSSES))}")
    if cfg.model.discriminator not in DISCRIMINATORS:
        raise GanlabError(f"config key 'model.discriminator' = {cfg.model.discriminator!r} is not accepted; "
                          f"accepted: {', '.join(sorted(DISCRIMINATORS))}")
    check_unrolling(cfg.train.loss, cfg.train.unroll, cfg.model.ac_head)
    check_ac_terms(cfg.train, cfg.model.ac_head)
    check_d_augment(cfg.train)
    _check_phases(cfg)
    return cfg


#: what a phase may not change: the run's shape (data, model, prior, budget) and its bookkeeping
PHASE_FIXED = {"train.epochs", "train.batch_size", "train.device", "train.threads", "train.init_from", "train.phases",
               "train.sample_every", "train.checkpoint_every", "optim.name"}
PHASE_SECTIONS = ("train", "optim", "regularizers", "consistency")


def _check_phases(cfg: Config) -> None:
    if not cfg.train.phases:
        return
    for i, phase in enumerate(cfg.train.phases):
        where = f"train.phases[{i}]"
        if set(phase) - {"epochs", "set"}:
            raise GanlabError(f"config key '{where}' has unknown keys {sorted(set(phase) - {'epochs', 'set'})}; "
                              f"accepted: epochs, set")
        epochs = phase.get("epochs")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise GanlabError(f"config key '{where}.epochs' = {epochs!r} must be an integer >= 1")
        changes = phase.get("set") or {}
        if not isinstance(changes, dict):
            raise GanlabError(f"config key '{where}.set' must be a mapping of config keys to values, e.g. "
                              f"{{train.latent_opt_alpha: 0.9}}")
        for key in changes:
            if key in PHASE_FIXED or str(key).split(".")[0] not in PHASE_SECTIONS:
                raise GanlabError(f"config key '{where}.set' changes {key!r}, which cannot change between phases; "
                                  f"accepted: keys of {', '.join(PHASE_SECTIONS)} except "
                                  f"{', '.join(sorted(PHASE_FIXED))}")
        try:
            phase_config(cfg, i)  # each phase's config is checked like a whole config
        except GanlabError as e:
            raise GanlabError(f"in {where}: {e}") from None
    total = sum(p["epochs"] for p in cfg.train.phases)
    if total != cfg.train.epochs:
        raise GanlabError(f"config key 'train.phases': the phases' epochs add up to {total}, but train.epochs = "
                          f"{cfg.train.epochs}; make them equal")


def phase_config(cfg: Config, index: int) -> Config:
    """The config phase ``index`` trains with: ``cfg`` with the phase's ``set`` applied (the config itself when the
    run has no phases)."""
    if not cfg.train.phases:
        return cfg
    out = copy.deepcopy(cfg)
    out.train.phases = []
    _apply(out, dotted_tree(cfg.train.phases[index].get("set") or {}))
    return validate(out)


def phase_starts(cfg: Config) -> list[int]:
    """The epoch count before each phase begins: [0] for a run without phases, [0, 80, 180] for 80 + 100 + ..."""
    starts = [0]
    for phase in cfg.train.phases[:-1]:
        starts.append(starts[-1] + phase["epochs"])
    return starts


def phase_of(cfg: Config, epochs_done: int) -> int:
    """The phase that trains the epoch after ``epochs_done`` (the last one once the run is over)."""
    return max(i for i, start in enumerate(phase_starts(cfg)) if start <= epochs_done)


def phase_epochs(cfg: Config, index: int) -> int:
    return cfg.train.phases[index]["epochs"] if cfg.train.phases else cfg.train.epochs


def check_loss_output(loss: str, d_out: int) -> None:
    """md-gan reads an embedding from D; every other loss one score per image."""
    if (loss == "md-gan") != (d_out > 1):
        raise GanlabError(f"config keys 'train.loss' = {loss!r} and 'model.d_out' = {d_out} do not combine: "
                          "md-gan needs an embedding (d_out >= 2), every other loss d_out = 1")


def check_unrolling(loss: str, unroll: int, ac_head: bool) -> None:
    """What unrolled D steps cannot go with: a relativistic loss (it would compare the unrolled D's fakes with the
    current D's reals) and D's class head (the simulated steps would differentiate a head they do not use)."""
    if unroll and getattr(LOSSES.get(loss), "g_needs_real", False):
        raise GanlabError(f"config keys 'train.unroll' and 'train.loss' = {loss!r} do not combine: the relativistic "
                          f"loss would compare the unrolled D's fakes with the current D's reals")
    if unroll and ac_head:
        raise GanlabError("config keys 'train.unroll' and 'model.ac_head' do not combine: the simulated D steps do "
                          "not train the class head")


def check_ac_terms(train: SchemeSettings, ac_head: bool) -> None:
    """G's AC terms read D's class head: without model.ac_head they would be silently ignored."""
    for key in ("ac_g_entropy", "ac_g_balance"):
        if getattr(train, key) and not ac_head:
            raise GanlabError(f"config key 'train.{key}' = {getattr(train, key)!r} needs D's class head: set "
                              f"model.ac_head=true, or leave train.{key} at 0")


def check_d_augment(train: SchemeSettings, accepted: tuple[str, ...] = tuple(augment.AUGMENTATIONS)) -> None:
    """D's augmentation (train.d_augment ...): known names (of ``accepted``: the toys take the shape-free ones), a
    probability, and ADA only with a loss whose output's sign says real or fake."""
    augment.check(train.d_augment, accepted, "train.d_augment")
    if not 0 <= train.d_augment_p <= 1:
        raise GanlabError(f"config key 'train.d_augment_p' = {train.d_augment_p!r} must be in [0, 1]")
    if not 0 <= train.ada_target < 1:
        raise GanlabError(f"config key 'train.ada_target' = {train.ada_target!r} must be in [0, 1) (0 = a fixed p; "
                          f"ADA's: 0.6)")
    if not train.ada_kimg > 0:
        raise GanlabError(f"config key 'train.ada_kimg' = {train.ada_kimg!r} must be > 0")
    if train.ada_target and not train.d_augment:
        raise GanlabError("config key 'train.ada_target' needs train.d_augment (the augmentations whose probability "
                          "it adapts), e.g. [shift, cutout]")
    if train.d_augment and not train.ada_target and not train.d_augment_p:
        raise GanlabError("config keys 'train.d_augment' and 'train.d_augment_p' = 0 with a fixed p (ada_target 0) "
                          "never augment; give p > 0, or an ada_target for p to start at 0 and adapt")
    if train.ada_target and train.d_augment_p == 1:
        raise GanlabError("config keys 'train.ada_target' and 'train.d_augment_p' = 1 (a fixed p's default): set "
                          "train.d_augment_p to where ADA's p starts, e.g. 0 as Karras et al.")
    if train.ada_target and not getattr(LOSSES.get(train.loss), "sign_means_real", True):
        accepted_losses = ", ".join(sorted(n for n, c in LOSSES.items() if c.sign_means_real))
        raise GanlabError(f"config keys 'train.ada_target' and 'train.loss' = {train.loss!r} do not combine: ADA "
                          f"reads overfitting from the sign of D's output, which this loss does not give; accepted "
                          f"losses: {accepted_losses} (or a fixed train.d_augment_p)")


def get(cfg: Config, dotted: str) -> Any:
    obj = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def dotted_tree(flat: dict) -> dict:
    """``{"optim.lr_d": 1, "train.ema": 0.9}`` -> ``{"optim": {"lr_d": 1}, "train": {"ema": 0.9}}``."""
    tree: dict = {}
    for key, value in flat.items():
        node = tree
        *parents, last = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def parse_overrides(items: list[str] | None) -> dict:
    """``["train.epochs=5", "optim.lr_g=1e-4"]`` -> nested dict with YAML-parsed values."""
    tree: dict = {}
    for item in items or []:
        if "=" not in item:
            raise GanlabError(f"--set '{item}' is not of the form key=value (for example train.epochs=5)")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise GanlabError(f"--set '{item}' conflicts with another --set for '{part}'")
        node[parts[-1]] = value
    return tree


#: keys whose default changed after configs were stored without them: such a stored config (a run's config.yaml,
#: a sweep's record) trained with the old value, so it reads with it (train.precision: auto since session 18)
STORED_DEFAULTS = {"train.precision": "fp32"}


def as_stored(mapping: dict) -> dict:
    """A stored config (a run's, a sweep trial's) with ``STORED_DEFAULTS`` filled in where it lacks the key."""
    out = copy.deepcopy(mapping)
    for key, value in STORED_DEFAULTS.items():
        *sections, name = key.split(".")
        node = out
        for section in sections:
            if not isinstance(node.get(section, {}), dict):
                break  # not a mapping: from_dict says so
            node = node.setdefault(section, {})
        else:
            node.setdefault(name, value)
    return out


def from_dict(mapping: dict | None, overrides: list[str] | None = None, root=Config, check=None):
    """A ``root`` dataclass tree from a mapping and ``key=value`` overrides, checked by ``check``."""
    cfg = root()
    _apply(cfg, mapping or {})
    _apply(cfg, parse_overrides(overrides))
    return (check or validate)(cfg)


def load(path: str | os.PathLike | None, overrides: list[str] | None = None, root=Config, check=None,
         stored: bool = False):
    """A config from a YAML file and ``key=value`` overrides; ``stored``: the file is a run's record (``as_stored``)."""
    mapping: dict = {}
    if path is not None:
        mapping = read_yaml(path)
        sections = ", ".join(f.name for f in dataclasses.fields(root))
        if mapping is None:
            raise GanlabError(f"config file {path} is empty; a config needs at least one section ({sections})")
        if not isinstance(mapping, dict):
            raise GanlabError(f"config file {path} must hold a mapping of sections ({sections})")
    return from_dict(as_stored(mapping) if stored else mapping, overrides, root, check)


def to_dict(cfg) -> dict:
    def conv(v):
        if isinstance(v, tuple):
            return list(v)
        return v
    return {k: ({kk: conv(vv) for kk, vv in v.items()} if isinstance(v, dict) else conv(v))
            for k, v in dataclasses.asdict(cfg).items()}


def dump(cfg) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)
