"""Air-gap artifacts: what a spec needs, and a mirror of it."""
