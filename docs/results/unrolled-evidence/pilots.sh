#!/bin/bash
# pilots for unrolled-s0's collapse (session 25), one thread each beside the sweep; C = unrolled-s0's config
cd /work/wt-25
C=/work/compute/unrolled-pilot/unrolled.yaml   # = docs/results/reports-100/trials/unrolled-s0/config.yaml
P=/work/compute/unrolled-pilot
T() { name=$1; shift; PYTHONPATH=/work/wt-25 .venv/bin/ganlab train --config $C --set train.threads=1 --out $P/$name --quiet "$@" > $P/$name.log 2>&1; echo "$name rc=$?"; }
case $1 in
  control) T no-unroll-b05 --set train.unroll=0 --set train.epochs=12 ;;   # the same without unrolling: NS, mlp D, Adam 2e-4 (0.5, 0.999)
  b09) T unroll5-b09 --set optim.betas=[0.9,0.999] --set train.epochs=12 ;;  # unrolled with the template's betas
  ratio) T unroll5-lrd2e-5 --set optim.lr_d=2.0e-5 --set train.epochs=6 ;;  # D 10x slower than G, as the authors' public toy code (lr_g 1e-3, lr_d 1e-4)
esac
# b09 was stopped by hand after its epoch 8 (its trend was settled). The two pilots stopped before their first
# periodic grid have one from their last.pt, 100 samples at the default seed 0:
#   ganlab generate --run $P/unroll5-b09 --n 100 --format npz --out /tmp/s.npz --grid $P/unroll5-b09/grid-epoch8.png
#   ganlab generate --run $P/unroll5-lrd2e-5 --n 100 --format npz --out /tmp/s.npz --grid $P/unroll5-lrd2e-5/grid-epoch6.png
