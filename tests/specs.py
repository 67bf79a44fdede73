"""Spec texts shared by the test suites."""

from __future__ import annotations

# The smallest valid spec: one host with every role, no GPU addon (so no warning).
MINIMAL_SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
  addons:
    gpu: {enabled: false}
"""
