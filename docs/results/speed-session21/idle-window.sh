#!/bin/bash
# session 21's idle window: the sweep stopped; benchmarks side by side on the final code
set -x
cd "$1"; export PYTHONPATH=$PWD:$PWD/benchmarks; O=/work/compute/idle21
cat /proc/loadavg > $O/load-start.txt

.venv/bin/python benchmarks/joint_pass.py --steps 100 --repeats 3 --threads 1 > $O/joint-pass-1thread.txt 2>&1
.venv/bin/python benchmarks/train_speed.py --steps 400 > $O/train-speed-2threads.txt 2>&1

cat /proc/loadavg > $O/load-end.txt
echo idle window done
