#!/bin/bash
# pilots for conv-d-s0's collapse onto ones (session 26), one thread each beside the sweep; C = conv-d-s0's config
cd /work/wt-26p
C=/work/compute/conv-pilot/conv-d.yaml   # = docs/results/reports-100/trials/conv-d-s0/config.yaml
P=/work/compute/conv-pilot
T() { name=$1; shift; PYTHONPATH=/work/wt-26p .venv/bin/ganlab train --config $C --set train.threads=1 --out $P/$name --quiet "$@" > $P/$name.log 2>&1; echo "$name rc=$?"; }
case $1 in
  bn) T conv-bn-s0 --set model.discriminator=conv-bn --set train.epochs=20 ;;   # DCGAN's rule: batch norm in D (stopped by hand after epoch 10: collapsed)
  slow) T conv-lrd2e-5-s0 --set optim.lr_d=2.0e-5 --set train.epochs=20 ;;     # D 10x slower than G (stopped by hand after epoch 10: collapsed)
  r1) T conv-r1-s0 --set regularizers.r1=10.0 --set train.epochs=10 ;;     # the r1 row's objective (R1, gamma 10) with the conv D (stopped by hand after epoch 5, for time)
  r1grid) PYTHONPATH=/work/wt-26p .venv/bin/ganlab generate --run $P/conv-r1-s0 --n 100 --format npz --out /tmp/s.npz --grid $P/conv-r1-s0/grid-epoch5.png ;;
  eval) for r in conv-bn-s0 conv-lrd2e-5-s0 conv-r1-s0; do   # classifier metrics at each pilot's last epoch, vs 10k training images
          PYTHONPATH=/work/wt-26p .venv/bin/ganlab evaluate --run $P/$r --n 10000 --mnist-only --ref train --quiet --json $P/$r/eval-last-mnist-train.json; done
        for r in /work/compute/reports-100e/trials/conv-d-s0 /work/compute/unrolled-pilot/no-unroll-b05; do   # epoch 10 of the preset and of the MLP-D control
          PYTHONPATH=/work/wt-26p .venv/bin/ganlab evaluate --run $r --checkpoint epoch_10 --n 10000 --mnist-only --ref train --quiet --json /tmp/$(basename $r)-e10.json; done ;;
esac
