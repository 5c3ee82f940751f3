"""The saturation of G's tanh output over a run's epoch checkpoints (models.generator.saturation): the evidence
that a collapsed run's G stopped receiving gradient (every pixel at +-1, tanh' ~ 0) and maps every z to one image.

    python scripts/saturation.py RUN [RUN ...] [--json OUT.json]
"""
import argparse
import re
import sys

import torch

from ganlab.errors import GanlabError, guarded
from ganlab.io import write_json
from ganlab.models.generator import Z_DIM, Generator, saturation
from ganlab.checkpoint import Checkpoint
from ganlab.runs import Run


def main(runs: list[str], json_out: str | None) -> None:
    z = torch.randn(1000, Z_DIM, generator=torch.Generator().manual_seed(0))
    table = {}
    for path in runs:
        run = Run(path)
        cks = sorted(run.checkpoints.glob("epoch_*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
        if not cks:
            raise GanlabError(f"{path} has no epoch_N.pt checkpoints; accepted: a run directory")
        rows = []
        for ck in cks:
            G = Generator()
            G.load_state_dict(Checkpoint.load(ck).generator("raw"))
            rows.append({"epoch": int(re.sub(r"\D", "", ck.stem)), **saturation(G, z)})
        table[path] = rows
        print(path)
        print("  epoch  saturated  tanh'      median|pre|  pixel std over z")
        for r in rows:
            print(f"  {r['epoch']:5d}  {r['saturated']:9.3f}  {r['tanh_grad']:.2e}  {r['median_abs_pre']:11.1f}  "
                  f"{r['pixel_std']:.4f}")
    if json_out:
        write_json(json_out, table)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--json")
    a = p.parse_args()
    sys.exit(guarded("saturation", main, a.runs, a.json))
