"""The cluster spec: models, loading with positions, and semantic rules."""
