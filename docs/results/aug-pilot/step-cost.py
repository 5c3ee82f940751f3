import time, torch, statistics
from ganlab.training.step import GANStep
from ganlab.training.terms import DAugment
from ganlab.losses import build_loss
from ganlab.models import Generator, build_discriminator
torch.set_num_threads(1)
def make(terms):
    torch.manual_seed(0)
    G, D = Generator(), build_discriminator("mlp")
    return GANStep(G, D, build_loss("ns"), torch.optim.Adam(G.parameters(), fused=True), torch.optim.Adam(D.parameters(), fused=True), terms=terms, generator=torch.Generator().manual_seed(0))
variants = {"plain": make([]), "shift+cutout p=1": make([DAugment(["shift", "cutout"], 1.0)]),
            "ada 5 augs p=0.5": make([DAugment(["shift", "affine", "brightness", "contrast", "cutout"], 0.5, target=0.6)])}
x = torch.rand(64, 784) * 2 - 1; z = torch.randn(64, 100)
acc = GANStep.stats("cpu")
times = {k: [] for k in variants}
for rep in range(7):
    for k, st in variants.items():
        t0 = time.perf_counter()
        for i in range(50): st(x, z, i + 1, acc)
        times[k].append(time.perf_counter() - t0)
base = times["plain"]
for k, v in times.items():
    ratios = [a / b for a, b in zip(v, base)]
    print(f"{k:20s} median {statistics.median(v)/50*1000:.2f} ms/step  ratio to plain median {statistics.median(ratios):.3f} (range {min(ratios):.2f}-{max(ratios):.2f})")
