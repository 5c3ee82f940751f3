#!/bin/bash
# Issue 20, third part: DRS before the shipped DOT (rejecting the codes the critic scores worst), chosen on train images.
set -e
cd /work/wt-16b
export PYTHONPATH=/work/wt-16b OMP_NUM_THREADS=1
G=checkpoints/G.pth
OUT=/work/compute/shipped-dot/drs-dot
mkdir -p $OUT
for p in 20 50 80; do
  date
  .venv/bin/ganlab evaluate --checkpoint $G --sampler drs --sampler-opt percentile=$p --sampler dot --sampler-opt steps=40 \
    --sampler-opt lr=0.01 --n 10000 --mnist-only --ref train --json $OUT/drs$p-dot40.json --quiet
done
date
