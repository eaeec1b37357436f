"""Training: label assignment, losses, pair sampling, the train loop (import submodules directly)."""
