set -e
cd /work/wt-aug; export PYTHONPATH=/work/wt-aug
for name in diffaugment ada; do
  out=/work/compute/aug-pilot/$name
  [ -f $out/summary.json ] || .venv/bin/ganlab train --config configs/$name.yaml --set train.epochs=5 --set train.threads=1 --set train.sample_every=5 --set train.checkpoint_every=5 --out $out --quiet
  .venv/bin/ganlab evaluate --run $out --mnist-only --ref train --json $out/eval-train.json --quiet | tail -1
done
