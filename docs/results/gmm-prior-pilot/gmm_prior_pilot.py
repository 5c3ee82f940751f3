import sys, time, torch, numpy as np
torch.set_num_threads(1)
from sklearn.mixture import GaussianMixture
from ganlab.sampling import load_generator
from ganlab.latent.bundle import load_bundle
from ganlab.images import to_uint8
from ganlab.metrics.evaluate import evaluate

G = load_generator(None, "checkpoints/G.pth")
pipe, ctx = load_bundle("checkpoints/sampler.pt", G)
dot = pipe.samplers[0]
print(pipe.name, {k: getattr(dot, k) for k in dot.OPTIONS})

def imgs(z):
    with torch.no_grad():
        return np.concatenate([to_uint8(G(z[i:i+1000])) for i in range(0, len(z), 1000)])

def refine(z):
    out = []
    for i in range(0, len(z), 1000):
        zi = z[i:i+1000]
        out.append(dot.sample(len(zi), ctx, lambda k, zi=zi: zi))
    return torch.cat(out)

def mf(name, z):
    r = evaluate(imgs(z), ref="train", full=False, progress=False)
    print(f"{name:32s} MNIST-FID {r['mnist_fid']:.2f}  classes {r['classes_covered']} KL {r['kl_to_uniform']:.4f} |z| {z.norm(dim=1).mean():.2f}", flush=True)

t = time.time()
z0 = torch.randn(20000, 100, generator=torch.Generator().manual_seed(1))
zs = refine(z0)
print("refined 20k in", round(time.time() - t), "s; mean shift", (zs - z0).norm(dim=1).mean().item(), flush=True)
zt = torch.randn(10000, 100, generator=torch.Generator().manual_seed(0))
mf("prior", zt)
zt_dot = refine(zt)
mf("prior + dot", zt_dot)
for K, cov in [(1, "full"), (10, "full"), (30, "full")]:
    gm = GaussianMixture(K, covariance_type=cov, random_state=0, max_iter=200, reg_covar=1e-4).fit(zs.double().numpy())
    zg, _ = gm.sample(10000)
    zg = torch.tensor(zg, dtype=torch.float32)[torch.randperm(10000, generator=torch.Generator().manual_seed(0))]
    mf(f"gmm K={K} {cov}", zg)
    mf(f"gmm K={K} {cov} + dot", refine(zg))
