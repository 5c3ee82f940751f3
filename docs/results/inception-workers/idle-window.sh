#!/bin/bash
# Session 20's idle window, as run from a nohup'd shell at the session's end (the sweep would have been killed by
# the session's end anyway; it resumes from its trials' last epochs): stop the sweep by SIGTERM to its process
# group, let the load settle, measure the Inception's workers against the old loop, then the whole protocol (fp32,
# the default) on feature-matching-s0's 10,000 samples, which the sweep measured with the old loop on one thread.
set -u
OUT=/work/main/docs/results/inception-workers
cd /work/wt-20e; export PYTHONPATH=/work/wt-20e
for pg in $(pgrep -f "ganlab sweep"); do kill -TERM -- -$pg; done
for i in $(seq 60); do pgrep -f "ImplicitFunc|ganlab sweep" > /dev/null || break; sleep 5; done
sleep 75
LOG=$OUT/idle-session20.log
(cd benchmarks && ../.venv/bin/python inception_workers.py --n 400 --repeats 2 --json $OUT/idle-session20.json) >> $LOG 2>&1
rm -rf /work/scratch/evalcopy; mkdir -p /work/scratch/evalcopy  # a copy: evaluate --run writes into the run's evals/
cp -r /work/compute/reports-100e/trials/feature-matching-s0 /work/scratch/evalcopy/
/usr/bin/time -f "fp32 wall %e s" .venv/bin/ganlab evaluate --run /work/scratch/evalcopy/feature-matching-s0 \
  --quiet --json $OUT/evaluate-feature-matching-s0-fp32-workers.json >> $LOG 2>&1
echo "window done $(date)" >> $LOG
