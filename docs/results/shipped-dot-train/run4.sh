#!/bin/bash
# Issue 20: other refiners on the shipped pair, alone and after its DOT, on 10,000 training images (MNIST-FID).
set -e
cd /work/wt-16b
export PYTHONPATH=/work/wt-16b OMP_NUM_THREADS=1
G=checkpoints/G.pth
OUT=/work/compute/shipped-dot/chains
mkdir -p $OUT
DOT="--sampler dot --sampler-opt steps=40 --sampler-opt lr=0.01"
run() { name=$1; shift; date; .venv/bin/ganlab evaluate --checkpoint $G "$@" --n 10000 --mnist-only --ref train --json $OUT/$name.json --quiet; }
run dgflow --sampler dgflow
run ddls --sampler ddls
run dot40-dgflow $DOT --sampler dgflow
run dot40-ddls $DOT --sampler ddls
date
