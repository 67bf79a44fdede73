"""The URL of a Kubespray download whose output Kubespray hid (``no_log``).

Kubespray's ``Download_file | Download item`` runs with ``no_log``: when it fails, its result
holds only ``censored``, yet the URL it tried is exactly what an air-gapped user must mirror.
The events do name the file (``file_path_cached``, see :mod:`deepctl.ansible.explain`), so
:func:`download_url` renders, with Ansible's own templating, the ``downloads`` entry of the
Kubespray tree whose ``dest`` is that file, from the same variables the run used: the tree's
``kubespray_defaults`` role, deepctl's inventory (spec.kubesprayVars included) and the host's
cached facts. Nothing is run and nothing connects. Rendering takes a few seconds, so it is
done only for a failed hidden download.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deepctl.ansible.explain import safe_url

DEFAULTS_ROLE = Path("roles") / "kubespray_defaults"


def _load_dir(loader: Any, directory: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yml")):
        data = loader.load_from_file(str(path))
        if isinstance(data, dict):
            out.update(data)
    return out


def host_facts(fact_cache: Path | None, host: str) -> dict[str, Any]:
    """The facts Ansible cached for ``host`` (jsonfile cache: one JSON file per host)."""
    if fact_cache is None:
        return {}
    try:
        data = json.loads((fact_cache / host).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def candidates(downloads: Mapping[str, Any], component: str | None) -> list[str]:
    """Keys of ``downloads`` to try, the one named like the component's last part first."""
    keys = [k for k, v in downloads.items() if isinstance(v, Mapping) and "url" in v]
    name = (component or "").rsplit("/", 1)[-1].replace("-", "_")
    return sorted(keys, key=lambda k: (k != name, k))


def download_url(tree: Path, inventory_dir: Path, host: str, file_name: str, *,
                 facts: Mapping[str, Any] | None = None, component: str | None = None
                 ) -> str | None:
    """The URL Kubespray downloads ``file_name`` (the basename of its ``dest``) from, for
    ``host``; ``None`` when no download writes that file or it cannot be rendered."""
    from ansible.errors import AnsibleError

    try:
        return _download_url(tree, inventory_dir, host, file_name, facts or {}, component)
    except (AnsibleError, OSError, ValueError, TypeError, KeyError):
        return None  # best effort: the failure is reported without it


def _download_url(tree: Path, inventory_dir: Path, host: str, file_name: str,
                  facts: Mapping[str, Any], component: str | None) -> str | None:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    role = tree / DEFAULTS_ROLE
    defaults = _load_dir(loader, role / "defaults" / "main")
    downloads = defaults.get("downloads")
    if not isinstance(downloads, Mapping):
        return None
    inventory = InventoryManager(loader=loader, sources=[str(inventory_dir)])
    found = inventory.get_host(host)
    if found is None:
        return None
    inventory_vars = VariableManager(loader=loader, inventory=inventory).get_vars(
        host=found, include_hostvars=False)
    # Ansible's precedence: role defaults < inventory < facts < role vars
    variables = {**defaults, **inventory_vars, **facts,
                 **_load_dir(loader, role / "vars" / "main")}
    templar = Templar(loader=loader, variables=variables)
    return _render(templar, downloads, candidates(downloads, component), file_name)


def _render(templar: Any, downloads: Mapping[str, Any], keys: Iterable[str],
            file_name: str) -> str | None:
    from ansible.errors import AnsibleError

    for key in keys:
        entry = downloads[key]
        try:
            dest = str(templar.template(entry.get("dest", "")))
            if dest.rsplit("/", 1)[-1] != file_name:
                continue
            url = templar.template(entry["url"])
        except AnsibleError:
            continue  # an entry that needs variables of another role: not this one
        return safe_url(str(url)) if url else None
    return None
