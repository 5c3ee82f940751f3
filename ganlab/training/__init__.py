"""Training: the config tree (``config``), the step and its terms, the ``Trainer`` and the loop (``loop.train``).
Import what you need from its module: the package imports nothing, so that reading a run's config (``runs``) does
not load the training loop."""
