#!/bin/bash
# Second idle window of session 19: Inception img/s by batch size, fp32 and bf16-stem; then resume the jobs.
set -u
OUT=/work/main/docs/results/metric-speed
LOG=$OUT/batch-speed-session19.log
cd /work/wt-19b; export PYTHONPATH=/work/wt-19b
BEST=$(pgrep -f "ganlab train --resume /work/compute/best")
for pg in $(pgrep -f "ganlab sweep"); do kill -TERM -- -$pg; done
kill -STOP $BEST
for i in $(seq 60); do pgrep -f "ImplicitFunc|ganlab sweep" > /dev/null || break; sleep 5; done
sleep 90
{ echo "== idle window 2, commit $(git rev-parse --short HEAD)"; date; uptime; } >> $LOG
.venv/bin/python benchmarks/machine.py >> $LOG 2>&1
.venv/bin/python /work/scratch/bs2.py bf16-stem 25,32,50,100 >> $LOG 2>&1
.venv/bin/python /work/scratch/bs2.py fp32 25,32,50,100 >> $LOG 2>&1
.venv/bin/python benchmarks/machine.py >> $LOG 2>&1
{ uptime; date; echo "== resuming the jobs"; } >> $LOG
kill -CONT $BEST
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/reports-100e --cpus 2 > /work/compute/reports-100e-14.log 2>&1 < /dev/null &
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/issue20-methods --cpus 1 > /work/compute/issue20-methods-6.log 2>&1 < /dev/null &
sleep 5
echo done >> $LOG
