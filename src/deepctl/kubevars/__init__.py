"""Spec -> Kubespray variables: the inventory render, the GPU runtime, spec.offline's
variables, and the vars report."""
