#!/usr/bin/env bash
# The demo, from a fresh clone: set up; draw the 10,000 platform samples from the shipped model with its
# latent sampler (python generate.py --batch_size 64, exactly what the platform runs); evaluate them with the
# full protocol; write the HTML report (shipped model next to the committed baseline evaluations); print the
# numbers. Offline except for the package registry. Time on 2 CPU cores: ~15 min for the 10,000 Inception
# passes, plus ~15 min once for the MNIST test-set reference features (cached in ~/.cache/ganlab).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
OUT=reports/demo
mkdir -p "$OUT"
python generate.py --batch_size 64
METHOD="generator + sampler in checkpoints/ (generate.py)"
if [ -f checkpoints/sampler.pt ]; then
  METHOD="shipped: $(python -c 'from ganlab.latent.bundle import describe; print(describe("checkpoints/sampler.pt"))') (generate.py)"
fi
ganlab evaluate samples --json "$OUT/shipped.json" --method "$METHOD"
ganlab compare "$OUT/shipped.json" docs/results/vanilla-100-eval-fp32.json --out "$OUT" \
  --title "ganlab demo: the shipped model (checkpoints/) vs the platform template"
python - "$OUT/shipped.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"\nshipped model, 10,000 samples vs MNIST test: FID {r['fid']:.2f}  precision {r['precision']:.3f}  "
      f"recall {r['recall']:.3f}  density {r['density']:.3f}  coverage {r['coverage']:.3f}")
print("compare with docs/RESULTS.md (section 'The shipped model'); report: reports/demo/index.html")
PY
