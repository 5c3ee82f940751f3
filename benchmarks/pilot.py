"""A quick pilot: train a config for a few epochs on one thread, then score the raw and the EMA generator
with the MNIST classifier (MNIST-FID on 5,000 samples, seconds). Used to choose the recipe's base.

    python benchmarks/pilot.py NAME CONFIG.yaml [key=value ...]     (CONFIG '-' for the defaults)

Prints one JSON line; the run goes to /tmp/pilot/NAME.
"""
import json
import sys
import time

from ganlab.checkpoint import Checkpoint
from ganlab.runs import Run
from ganlab.metrics.evaluate import evaluate
from ganlab.models import Generator
from ganlab.sampling import load_prior, sample_images
from ganlab.training import config as C
from ganlab.training.loop import train


def main() -> None:
    name, cfgfile, *sets = sys.argv[1:]
    cfg = C.load(cfgfile if cfgfile != "-" else None, ["train.threads=1", "train.checkpoint_every=1000"] + sets)
    t = time.time()
    run = train(cfg, f"/tmp/pilot/{name}", progress=False)
    out = {"name": name, "sets": sets, "seconds": round(time.time() - t)}
    ck = Checkpoint.load(Run(run).last)
    prior = load_prior(run, "last")
    for key, weights in (("G", "raw"), ("G_ema", "ema")):
        if weights == "raw" or ck.has_ema:
            G = Generator()
            G.load_state_dict(ck.generator(weights))
            r = evaluate(sample_images(G, 5000, seed=0, progress=False, prior=prior), full=False, progress=False)
            out[key] = round(r["mnist_fid"], 1)
            out[key + "_classes"] = r["classes_covered"]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
