#!/bin/bash
# Issue 20, second part: DOT's step count at the chosen lr, and the seed noise of MNIST-FID near the optimum.
set -e
cd /work/wt-16b
export PYTHONPATH=/work/wt-16b OMP_NUM_THREADS=1
G=checkpoints/G.pth
OUT=/work/compute/shipped-dot
date
.venv/bin/ganlab sweep-sampler --checkpoint $G --sampler dot --opt lr=0.01 --param steps \
  --values 20 30 60 80 --n 10000 --mnist-only --ref train --out $OUT/steps-lr0.01
date
.venv/bin/ganlab sweep-sampler --checkpoint $G --sampler dot --opt steps=40 --param lr \
  --values 0.0075 0.01 0.0125 --n 10000 --seed 1 --mnist-only --ref train --out $OUT/lr-steps40-seed1
date
