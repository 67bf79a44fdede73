"""Filter plugins (ANSIBLE_FILTER_PLUGINS points here: see deepctl.ansible.environment)."""
