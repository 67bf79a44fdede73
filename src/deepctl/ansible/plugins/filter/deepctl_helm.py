"""``deepctl_helm_action``: what to do with one Helm release, decided in Python.

Used by ``templates/playbooks/helm-release.yml``. Ansible loads this file by path
(``ANSIBLE_FILTER_PLUGINS``), so it imports nothing from deepctl; deepctl's tests import it
as :mod:`deepctl.ansible.plugins.filter.deepctl_helm` and check :func:`helm_action` by
equality.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

ACTIONS = ("skip", "rollback", "uninstall", "upgrade")


def _json(text: str | None, empty: Any) -> Any:
    text = (text or "").strip()
    return json.loads(text) if text else empty


def helm_action(list_stdout: str | None, values_stdout: str | None, desired_values: str,
                chart: str, version: str) -> dict[str, str]:
    """``{"status", "action"}`` for a release, from ``helm list -o json`` and ``helm get
    values -o json`` output and the values deepctl wants.

    Same chart version and same values on a deployed release: skip. A release stuck in
    pending-upgrade/pending-rollback: roll back (then upgrade). A stuck first install
    (pending-install): uninstall (then install). Anything else (absent, failed, changed):
    upgrade --install.
    """
    releases = _json(list_stdout, [])
    found = releases[0] if releases else {}
    status = str(found.get("status") or "absent")
    current = _json(values_stdout, None) or {}
    desired = yaml.safe_load(desired_values) or {}
    same = (status == "deployed" and found.get("chart") == f"{chart}-{version}"
            and current == desired)
    if same:
        action = "skip"
    elif status in ("pending-upgrade", "pending-rollback"):
        action = "rollback"
    elif status == "pending-install":
        action = "uninstall"
    else:
        action = "upgrade"
    return {"status": status, "action": action}


class FilterModule:
    def filters(self) -> dict[str, Callable[..., dict[str, str]]]:
        return {"deepctl_helm_action": helm_action}
