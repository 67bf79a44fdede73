"""Running Ansible on an executor next to the cluster (``spec.executor``, docs/executor.md)."""
