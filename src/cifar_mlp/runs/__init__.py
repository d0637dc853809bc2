"""Runs stored once, and where they train: the store, the runner, executors and sweeps."""
