cd /work/wt-aug; export PYTHONPATH=/work/wt-aug
out=/work/compute/aug-pilot/diffaugment-20-s1
[ -f $out/summary.json ] || .venv/bin/ganlab train --config configs/diffaugment.yaml --seed 1 --set train.epochs=20 --set train.threads=1 --set train.sample_every=5 --set train.checkpoint_every=5 --out $out --quiet
.venv/bin/ganlab evaluate --run $out --mnist-only --ref train --json $out/eval-train.json --quiet 2>&1 | tail -1
