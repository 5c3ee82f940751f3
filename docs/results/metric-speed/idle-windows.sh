#!/bin/bash
# The three idle windows of session 19, as they were run (then as three copies of this skeleton), each with
# `idle-windows.sh N` from a nohup'd shell: stop the background jobs (sweeps by SIGTERM to their process group, the
# plain training run by SIGSTOP), let the load settle, measure, resume the jobs. Logs: idle-session19.log (windows 1
# and 3), batch-speed-session19.log (window 2). bs2.py: Inception img/s per batch size, passes alternating.
set -u
OUT=/work/main/docs/results/metric-speed
cd /work/wt-19b; export PYTHONPATH=/work/wt-19b
BEST=$(pgrep -f "ganlab train --resume /work/compute/best")
for pg in $(pgrep -f "ganlab sweep"); do kill -TERM -- -$pg; done
kill -STOP $BEST
for i in $(seq 60); do pgrep -f "ImplicitFunc|ganlab sweep" > /dev/null || break; sleep 5; done
case $1 in
  1) git -C /work/wt-19b checkout -q --detach b53a958; sleep 45; LOG=$OUT/idle-session19.log
     .venv/bin/python benchmarks/metric_speed.py --json $OUT/idle-session19.json >> $LOG 2>&1
     for P in bf16-stem fp32; do
       /usr/bin/time -f "$P wall %e s" .venv/bin/ganlab evaluate --run /work/scratch/evalcopy/vanilla-s0 --precision $P \
         --quiet --json $OUT/evaluate-vanilla-s0-$P.json >> $LOG 2>&1
     done
     .venv/bin/python $OUT/bs2.py bf16-stem 50,100,200 >> $LOG 2>&1 ;;
  2) sleep 90; LOG=$OUT/batch-speed-session19.log
     .venv/bin/python benchmarks/machine.py >> $LOG 2>&1
     .venv/bin/python $OUT/bs2.py bf16-stem 25,32,50,100 >> $LOG 2>&1
     .venv/bin/python $OUT/bs2.py fp32 25,32,50,100 >> $LOG 2>&1
     .venv/bin/python benchmarks/machine.py >> $LOG 2>&1 ;;
  3) git -C /work/wt-19b checkout -q --detach 2b8c985; sleep 80; LOG=$OUT/idle-session19.log
     /usr/bin/time -f "bf16-stem wall %e s" .venv/bin/ganlab evaluate --run /work/scratch/evalcopy/vanilla-s0 \
       --precision bf16-stem --quiet --json $OUT/evaluate-vanilla-s0-bf16-stem-batch25.json >> $LOG 2>&1 ;;
esac
kill -CONT $BEST
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/reports-100e --cpus 2 > /work/compute/reports-100e-N.log 2>&1 < /dev/null &
nohup setsid .venv/bin/ganlab sweep --resume /work/compute/issue20-methods --cpus 1 > /work/compute/issue20-methods-N.log 2>&1 < /dev/null &
