"""Stages: one ``Stage`` type (:mod:`.stage`), one module per stage, each command a list
(:mod:`.sequences`)."""
