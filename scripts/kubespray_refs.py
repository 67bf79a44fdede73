"""Every variable name a Kubespray tree defines or reads, found by parsing it (not by grep).

Used by scripts/gen_kubespray_data.py. Scanned: the playbooks at the top of the tree and in
playbooks/, every role (defaults, vars, tasks, handlers, meta, templates), the sample
inventory and the checks Kubespray's CI runs after a deploy (tests/testcases). A name counts when it is

- defined: a key of a defaults/vars file, of a play's or task's ``vars:``, of ``set_fact``,
  a ``register:`` or a ``loop_var``;
- read: any variable a Jinja expression uses - ``{{ ... }}`` and ``{% ... %}`` in YAML values
  and in templates, and the bare expressions of ``when``, ``that``, ``failed_when``,
  ``changed_when`` and ``until`` - including names only tested (``x is defined``) or
  defaulted (``x | default(...)``);
- read through ``hostvars[host].name`` / ``hostvars[host]['name']`` or ``vars['name']``.

Names Ansible itself provides (facts, magic variables) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, TemplateError, nodes
from jinja2.meta import find_undeclared_variables

CONDITION_KEYS = frozenset({"when", "that", "failed_when", "changed_when", "until"})
DEFINING_KEYS = frozenset({"vars", "set_fact", "ansible.builtin.set_fact"})
# Provided by Ansible at run time, never set by an inventory.
ANSIBLE_MAGIC = frozenset(
    {
        "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short",
        "inventory_dir", "inventory_file", "play_hosts", "ansible_play_hosts",
        "ansible_play_batch", "ansible_play_hosts_all", "playbook_dir", "role_path", "role_name",
        "item", "omit", "vars", "environment", "lookup", "query", "q", "now", "undef",
        "range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "ansible_facts",
        "ansible_loop", "ansible_index_var", "ansible_parent_role_names", "ansible_role_names",
        "ansible_check_mode", "ansible_version", "ansible_run_tags", "ansible_skip_tags",
        "ansible_config_file", "ansible_limit", "ansible_verbosity", "ansible_forks",
        "ansible_search_path", "ansible_dependent_role_names", "ansible_play_name",
        "ansible_play_role_names", "ansible_collection_name", "ansible_playbook_python",
        "ansible_inventory_sources", "ansible_diff_mode", "true", "false", "none",
        "True", "False", "None",
    }
)


class _Loader(yaml.SafeLoader):
    """Safe loader that reads any tag (``!unsafe``, ``!vault``) as plain data."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _any_tag)

class _AnyName(dict[str, Any]):
    """Filters and tests by any name (Ansible's and collections' are not loaded here)."""

    def __contains__(self, key: object) -> bool:
        return True

    def get(self, key: str, default: Any = None) -> Any:  # the compiler's look-up
        return super().get(key, _any_filter)


def _any_filter(*args: Any, **kwargs: Any) -> Any:
    return None


ENV = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
ENV.filters = _AnyName(ENV.filters)
ENV.tests = _AnyName(ENV.tests)


def names_in_template(text: str) -> set[str]:
    """Variables a Jinja template reads (also those only tested or defaulted)."""
    try:
        tree = ENV.parse(text)
        return set(find_undeclared_variables(tree)) | _subscripted_names(tree)
    except TemplateError:
        return set()


def names_in_expression(text: str) -> set[str]:
    return names_in_template("{{ " + text + " }}")


def _subscripted_names(tree: nodes.Template) -> set[str]:
    """``hostvars[h].x``, ``hostvars[h]['x']`` and ``vars['x']``: x."""
    out: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = node.node
        if isinstance(node, nodes.Getattr):
            key: object = node.attr
        elif isinstance(node.arg, nodes.Const):
            key = node.arg.value
        else:
            continue
        if not isinstance(key, str):
            continue
        of_vars = isinstance(base, nodes.Name) and base.name == "vars"
        of_hostvars = (isinstance(base, nodes.Getitem) and isinstance(base.node, nodes.Name)
                       and base.node.name == "hostvars")
        if of_vars or of_hostvars:
            out.add(key)
    return out


def names_in_data(data: Any, *, defining: bool = False) -> Iterator[str]:
    """Names a parsed YAML document of a role or playbook defines or reads."""
    if isinstance(data, dict):
        for key, value in data.items():
            if defining and isinstance(key, str):
                yield key
            if key in CONDITION_KEYS:
                for expression in value if isinstance(value, list) else [value]:
                    if isinstance(expression, str):
                        yield from names_in_expression(expression)
                    elif isinstance(expression, bool):
                        continue
            elif key == "register" and isinstance(value, str):
                yield value
            elif key == "loop_control" and isinstance(value, dict):
                if isinstance(value.get("loop_var"), str):
                    yield value["loop_var"]
                yield from names_in_data(value)
            else:
                yield from names_in_data(value, defining=key in DEFINING_KEYS)
    elif isinstance(data, list):
        for item in data:
            yield from names_in_data(item)
    elif isinstance(data, str) and ("{{" in data or "{%" in data):
        yield from names_in_template(data)


def _load_all(path: Path) -> list[Any]:
    try:
        return list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
    except (yaml.YAMLError, UnicodeDecodeError):
        return []


def _is_vars_file(path: Path) -> bool:
    return any(part in ("defaults", "vars", "group_vars", "host_vars") for part in path.parts)


def scan_tree(root: Path) -> set[str]:
    """Every variable name the Kubespray tree at ``root`` defines or reads."""
    found: set[str] = set()
    yaml_files = [*root.glob("*.yml"), *(root / "playbooks").rglob("*.yml"),
                  *(root / "roles").rglob("*.yml"), *(root / "roles").rglob("*.yaml"),
                  *(root / "inventory" / "sample").rglob("*.yml"),
                  *(root / "tests" / "testcases").rglob("*.yml")]
    for path in sorted(yaml_files):
        is_vars = _is_vars_file(path.relative_to(root))
        for document in _load_all(path):
            found.update(names_in_data(document, defining=is_vars))
    for path in sorted((root / "roles").rglob("templates/**/*")):
        if path.is_file():
            try:
                found |= names_in_template(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                continue
    return {name for name in found if _is_variable_name(name)}


def _is_variable_name(name: str) -> bool:
    if name in ANSIBLE_MAGIC or not name.isidentifier() or name.startswith("__"):
        return False
    # Facts (ansible_os_family, ansible_default_ipv4...) are gathered, not set by inventories.
    return not name.startswith("ansible_")
