import sys, time, json, numpy as np, torch
root = sys.argv[1]; sys.path.insert(0, root)
torch.set_num_threads(2)
from ganlab.metrics import registry
from ganlab.metrics.registry import Features
d = "/root/.cache/ganlab/features/inception/7ff4a85c3a6378f0-pytorch-fid-bilinear299-v1-fp32/"
real = np.load(d + "mnist-test-6d87418db22cc802.npy").astype(np.float32).astype(np.float64)
train = np.load(d + "mnist-train10000-seed0-4cb1313c4fdfc44e.npy").astype(np.float32).astype(np.float64)
rng = np.random.default_rng(0)
sets = {"train": train,
        "collapsed": (train[rng.integers(0, 300, 10000)] + rng.normal(size=train.shape) * 0.01).astype(np.float32).astype(np.float64),
        "duplicates": train[rng.integers(0, 3000, 10000)]}
out = {}
for name, fake in sets.items():
    t0 = time.perf_counter()
    out[name] = registry.compute("inception", Features(real, fake))
    out[name]["t"] = time.perf_counter() - t0
    print(name, {k: (repr(v)) for k, v in out[name].items()}, flush=True)
json.dump(out, open(sys.argv[2], "w"), indent=1)
