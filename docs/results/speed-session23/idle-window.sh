#!/bin/bash
# Session 23's idle window, run from a nohup'd shell at the session's start, before the reports' sweep resumes
# (nothing else runs): both benchmarks, then the whole protocol on the 10,000 PNGs that
# `python generate.py --batch_size 64` writes (the shipped model), in bf16-stem and fp32, each reference computed once
# first, then the sweep (started at the end of this script).
set -u
OUT=/work/main/docs/results/speed-session23
cd /work/wt-23; export PYTHONPATH=/work/wt-23
LOG=$OUT/idle-window.log
echo "window start $(date)  $(git rev-parse HEAD)" >> $LOG
(cd benchmarks && ../.venv/bin/python train_speed.py --steps 600) > $OUT/train-2threads.txt 2>&1
(cd benchmarks && ../.venv/bin/python train_speed.py --steps 400 --threads 1) > $OUT/train-1thread-a.txt 2>&1 &
(cd benchmarks && ../.venv/bin/python train_speed.py --steps 400 --threads 1) > $OUT/train-1thread-b.txt 2>&1
wait
echo "train done $(date)" >> $LOG
rm -rf /work/scratch/samples
/usr/bin/time -f "generate wall %e s" .venv/bin/python generate.py --batch_size 64 --out /work/scratch/samples >> $LOG 2>&1
(cd benchmarks && ../.venv/bin/python eval_speed.py --checkpoint ../checkpoints/G.pth --n 500 \
  --json $OUT/eval-speed-shipped-n500.json) > $OUT/eval-speed-shipped-n500.txt 2>&1
echo "eval_speed done $(date)" >> $LOG
for P in bf16-stem fp32; do
  /usr/bin/time -f "$P with the reference computed: wall %e s" .venv/bin/ganlab evaluate /work/scratch/samples \
    --precision $P --quiet --json $OUT/evaluate-shipped-$P-first.json >> $LOG 2>&1
  /usr/bin/time -f "$P, reference cached: wall %e s" .venv/bin/ganlab evaluate /work/scratch/samples \
    --precision $P --quiet --json $OUT/evaluate-shipped-$P-cached.json >> $LOG 2>&1
  echo "$P done $(date)" >> $LOG
done
echo "window done $(date)" >> $LOG
cd /work/wt-23
nohup setsid .venv/bin/ganlab sweep configs/sweeps/reports.yaml --resume /work/compute/reports-100e --cpus 2 \
  > /work/compute/reports-100e-23.log 2>&1 &
