#!/bin/bash
# Issue 20: the shipped DOT's step size and step count chosen again, on 10,000 MNIST *training* images (MNIST-FID),
# for the shipped G.pth + sampler.pt (the run that made them is gone). Frozen worktree of 86376c4.
set -e
cd /work/wt-16b
export PYTHONPATH=/work/wt-16b OMP_NUM_THREADS=1
G=checkpoints/G.pth
OUT=/work/compute/shipped-dot
date
.venv/bin/ganlab sweep-sampler --checkpoint $G --sampler dot --opt steps=40 --param lr \
  --values 0.005 0.0075 0.01 0.0125 0.015 0.02 --n 10000 --mnist-only --ref train --out $OUT/lr-steps40
date
