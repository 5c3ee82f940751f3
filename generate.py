"""The platform's entry point: ``python generate.py --batch_size 64`` loads checkpoints/G.pth and writes
10,000 28x28 grayscale PNGs (0.png ... 9999.png) to samples/, as the assignment's template does.
When checkpoints/sampler.pt sits beside G.pth (``ganlab export --run RUN --sampler NAME ...``), the
samples are drawn through that fitted latent sampler (and the latent prior it carries).

It is a thin wrapper over ganlab (``ganlab generate --checkpoint checkpoints/G.pth --out samples``);
unlike ``ganlab generate`` it replaces an existing samples/ folder, as the platform expects.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ganlab.errors import GanlabError, guarded  # noqa: E402
from ganlab.latent.bundle import beside, sample_bundle  # noqa: E402
from ganlab.sampling import load_generator, sample_images, write_samples  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate 10,000 samples from checkpoints/G.pth into samples/.")
    parser.add_argument("--batch_size", type=int, default=2048,
                        help="the platform's option, checked and otherwise ignored: ganlab computes samples in fixed "
                             "chunks of 1000 rows, so the PNGs are the same for every batch size")
    parser.add_argument("--n_samples", type=int, default=10000)
    parser.add_argument("--checkpoint", default="checkpoints/G.pth")
    parser.add_argument("--out", default="samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-sampler", action="store_true", help="ignore a sampler.pt beside the checkpoint")
    args = parser.parse_args()
    return guarded("generate.py", run, args)


def run(args) -> None:
    for name in ("batch_size", "n_samples"):
        if getattr(args, name) < 1:
            raise GanlabError(f"--{name} {getattr(args, name)} is not accepted; it must be a positive integer")
    bundle = None if args.no_sampler else beside(args.checkpoint)
    note = ""
    G = load_generator(None, args.checkpoint)
    if bundle:
        images, cost = sample_bundle(G, bundle, args.n_samples, seed=args.seed)
        note = (f" through {bundle} (sampler {cost['sampler']}, acceptance {cost['acceptance_rate']:.3f}, "
                f"{cost['seconds']}s)")
    else:
        images = sample_images(G, args.n_samples, seed=args.seed)
    out = write_samples(images, args.out, "png", overwrite=True)
    print(f"wrote {len(images)} samples to {out}/{note}")


if __name__ == "__main__":
    sys.exit(main())
