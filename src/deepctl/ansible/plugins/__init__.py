"""Ansible plugins deepctl ships: its decisions, in Python, for its own playbooks."""
