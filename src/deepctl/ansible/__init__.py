"""deepctl's one boundary to Ansible (through ansible-runner)."""
