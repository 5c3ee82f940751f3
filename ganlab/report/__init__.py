"""Reports: comparing runs and sample sets on one protocol (``ganlab compare``): ``collect`` (runs, evaluations and
sweeps as rows), ``compare`` (the HTML page and leaderboard), ``figures``. The package imports nothing, so that a
sweep can save an evaluation (``collect``) without loading the page."""
