#!/bin/bash
# The idle window of session 19: stop the jobs, measure the evaluation, resume the jobs.
set -u
OUT=/work/main/docs/results/metric-speed
LOG=$OUT/idle-session19.log
cd /work/wt-19b; export PYTHONPATH=/work/wt-19b
BEST=$(pgrep -f "ganlab train --resume /work/compute/best")
for pg in $(pgrep -f "ganlab sweep"); do kill -TERM -- -$pg; done
kill -STOP $BEST
for i in $(seq 60); do pgrep -f "ImplicitFunc|ganlab sweep" > /dev/null || break; sleep 5; done
git -C /work/wt-19b checkout -q --detach b53a958
sleep 45
{ echo "== idle window, commit $(git rev-parse --short HEAD)"; date; uptime; } >> $LOG
.venv/bin/python benchmarks/metric_speed.py --json $OUT/idle-session19.json >> $LOG 2>&1
for P in bf16-stem fp32; do
  uptime >> $LOG
  /usr/bin/time -f "$P wall %e s" .venv/bin/ganlab evaluate --run /work/scratch/evalcopy/vanilla-s0 --precision $P --quiet --json $OUT/evaluate-vanilla-s0-$P.json >> $LOG 2>&1
done
uptime >> $LOG
.venv/bin/python /work/scratch/bs2.py bf16-stem 50,100,200 >> $LOG 2>&1
{ uptime; date; echo "== resuming the jobs"; } >> $LOG
kill -CONT $BEST
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/reports-100e --cpus 2 > /work/compute/reports-100e-13.log 2>&1 < /dev/null &
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/issue20-methods --cpus 1 > /work/compute/issue20-methods-5.log 2>&1 < /dev/null &
sleep 5
echo done >> $LOG
