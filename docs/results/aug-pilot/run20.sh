set -e
cd /work/wt-aug; export PYTHONPATH=/work/wt-aug
for name in diffaugment ada; do
  out=/work/compute/aug-pilot/$name-20
  [ -f $out/summary.json ] || .venv/bin/ganlab train --config configs/$name.yaml --set train.epochs=20 --set train.threads=1 --set train.sample_every=5 --set train.checkpoint_every=5 --out $out --quiet
  .venv/bin/ganlab evaluate --run $out --mnist-only --ref train --json $out/eval-train.json --quiet 2>&1 | tail -1
done
for e in 0010 0020; do
  .venv/bin/ganlab evaluate --run /work/compute/reports-100e/trials/vanilla-s0 --checkpoint epoch_$e --mnist-only --ref train --json /work/compute/aug-pilot/vanilla-s0-epoch$e-train.json --quiet 2>&1 | tail -1
done
