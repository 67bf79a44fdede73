"""The deploy pipeline as data: an ordered list of stages (see :mod:`deepctl.stages.catalog`)."""
