"""The deploy engine: run records, the cluster lock, the stage pipeline, progress, signals."""
