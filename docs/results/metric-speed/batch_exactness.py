import sys, numpy as np, torch
sys.path.insert(0, "/work/main")
torch.set_num_threads(2)
from ganlab.data import mnist
from ganlab.metrics.inception import FeatureExtractor
x = mnist.load().test_x[:200]
for prec in ("fp32", "bf16-stem"):
    f = {bs: FeatureExtractor(prec, batch_size=bs)(x, progress=False) for bs in (100, 50, 25)}
    for bs in (50, 25):
        d = np.abs(f[bs] - f[100])
        print(prec, bs, "max abs diff vs batch 100:", d.max(), "identical rows:", int((d.max(1) == 0).sum()), "/", len(x), flush=True)
