"""``deepctl verify``'s pure parts: expected figures, output parsers, blame, manifests.

Nothing here runs a command: the verify stage (:mod:`deepctl.stages.verify`) applies what
:mod:`deepctl.verify.manifests` renders and hands the outputs to the parsers.
"""
