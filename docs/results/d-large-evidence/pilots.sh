#!/bin/bash
# one-epoch pilots of d-large (tutorial: a D larger than G), one thread beside the sweep
cd /work/wt-25
C=/work/compute/dlarge-pilot/d-large.yaml   # = docs/results/reports-100/trials/d-large-s0/config.yaml
P=/work/compute/dlarge-pilot
T() { name=$1; shift; [ -e $P/$name/metrics.jsonl ] && return; PYTHONPATH=/work/wt-25 .venv/bin/ganlab train --config $C --set train.epochs=1 --set train.threads=1 --out $P/$name --quiet "$@" > $P/$name.log 2>&1; echo "$name rc=$?"; }
T fp32-s0 --set train.precision=fp32
T mlp-bf16-s0 --set model.discriminator=mlp
T bf16-s1 --seed 1
T bf16-s2 --seed 2
T fp32-s1 --seed 1 --set train.precision=fp32
T fp32-s0-10ep --set train.precision=fp32 --set train.epochs=10
if [ ! -e $P/s0-beyond-stop/done ]; then
  [ -e $P/s0-beyond-stop ] || { mkdir -p $P/s0-beyond-stop/checkpoints; cd /work/compute/reports-100e/trials/d-large-s0; cp config.yaml metrics.jsonl code.jsonl $P/s0-beyond-stop/; cp checkpoints/last.pt $P/s0-beyond-stop/checkpoints/; cd /work/wt-25; sed -i 's/^  epochs: 100$/  epochs: 25/' $P/s0-beyond-stop/config.yaml; }
  PYTHONPATH=/work/wt-25 .venv/bin/ganlab train --resume $P/s0-beyond-stop --quiet > $P/s0-beyond-stop.log 2>&1; echo "s0-beyond-stop rc=$?"; touch $P/s0-beyond-stop/done
fi
# then, by hand: fp32-s0-10ep continued to 30 epochs (its copy fp32-s0-30ep, epochs set to 30 in its config.yaml):
#   cp -r $P/fp32-s0-10ep $P/fp32-s0-30ep; sed -i 's/^  epochs: 10$/  epochs: 30/' $P/fp32-s0-30ep/config.yaml
#   ganlab train --resume $P/fp32-s0-30ep --quiet
# and the template's D at seed 1 (control):
#   ganlab train --config $C --set train.epochs=1 --set train.threads=1 --set model.discriminator=mlp --seed 1 --out $P/mlp-bf16-s1 --quiet
