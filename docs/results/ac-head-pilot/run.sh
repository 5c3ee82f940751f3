#!/bin/bash
# ac-head's class imbalance (reports sweep ac-head-s0: 43 % ones): G's entropy term alone vs with CatGAN's balance
# term vs no G term; 15 epochs, seed 0, bf16, one thread, periodic classifier metrics on training images (session 20)
cd /work/wt-20c; export PYTHONPATH=/work/wt-20c
for v in "entropy:train.ac_g_entropy=0.1" "entropy-balance:train.ac_g_balance=0.1" "none:train.ac_g_entropy=0"; do
  name=${v%%:*}; sets=${v#*:}
  .venv/bin/ganlab train --config configs/ac-head.yaml --seed 0 --set train.epochs=15 --set train.precision=bf16 \
    --set train.threads=1 --set eval.every=5 --set eval.n=5000 --set eval.ref=train --set $sets \
    --out /work/compute/ac-mnist/$name --quiet 2>&1 | tail -1
done
