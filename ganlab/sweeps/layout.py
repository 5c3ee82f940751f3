"""A sweep folder's layout (what ``ganlab sweep`` writes and ``ganlab compare`` reads):

    OUT/sweep.json          the SPEC and every trial's resolved config (what --resume runs)
    OUT/trials/NAME/        one ganlab run directory per trial, plus NAME/trial.json (status, reason, metrics)
    OUT/tune/               the Ray Tune experiment
    OUT/table.md, table.json, grids.png
"""
SWEEP_FILE = "sweep.json"
TRIAL_FILE = "trial.json"
TRIALS = "trials"
EXPERIMENT = "tune"
