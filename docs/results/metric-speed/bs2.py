"""Inception img/s of one precision at several batch sizes, alternating (idle-window check)."""
import time, sys, numpy as np, torch
from ganlab.data import mnist
from ganlab.metrics.inception import FeatureExtractor
x = mnist.load().test_x[:400]
prec = sys.argv[1]
sizes = [int(s) for s in sys.argv[2].split(",")]
exts = {bs: FeatureExtractor(prec, batch_size=bs) for bs in sizes}
for e in exts.values(): e(x[:50], progress=False)
res = {bs: [] for bs in exts}
for rep in range(2):
    for bs, e in exts.items():
        t0 = time.perf_counter(); e(x, progress=False); res[bs].append(len(x) / (time.perf_counter() - t0))
print(f"threads {torch.get_num_threads()}, {len(x)} MNIST test images per pass, 2 passes alternating")
for bs, v in res.items(): print(f"{prec} batch {bs}: " + " ".join(f"{s:.1f}" for s in v) + " img/s", flush=True)
