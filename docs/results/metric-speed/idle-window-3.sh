#!/bin/bash
# Third idle window of session 19: the whole protocol in bf16-stem at the new Inception batch (25); then resume.
set -u
OUT=/work/main/docs/results/metric-speed
LOG=$OUT/idle-session19.log
cd /work/wt-19b; export PYTHONPATH=/work/wt-19b
BEST=$(pgrep -f "ganlab train --resume /work/compute/best")
for pg in $(pgrep -f "ganlab sweep"); do kill -TERM -- -$pg; done
kill -STOP $BEST
for i in $(seq 60); do pgrep -f "ImplicitFunc|ganlab sweep" > /dev/null || break; sleep 5; done
git -C /work/wt-19b checkout -q --detach 2b8c985
sleep 80
{ echo "== idle window 3, commit $(git rev-parse --short HEAD) (Inception batch 25)"; date; uptime; } >> $LOG
/usr/bin/time -f "bf16-stem wall %e s" .venv/bin/ganlab evaluate --run /work/scratch/evalcopy/vanilla-s0 --precision bf16-stem --quiet --json $OUT/evaluate-vanilla-s0-bf16-stem-batch25.json >> $LOG 2>&1
{ uptime; date; echo "== resuming the jobs"; } >> $LOG
kill -CONT $BEST
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/reports-100e --cpus 2 > /work/compute/reports-100e-15.log 2>&1 < /dev/null &
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/issue20-methods --cpus 1 > /work/compute/issue20-methods-7.log 2>&1 < /dev/null &
sleep 5
echo done >> $LOG
