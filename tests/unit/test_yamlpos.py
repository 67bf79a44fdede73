"""deepctl.clusterspec.yamlpos: plain data plus the position of every key and value, and refusal
of hostile YAML (duplicate keys, alias bombs, deep nesting, tags, several documents)."""

from __future__ import annotations

import textwrap

import pytest

from deepctl.clusterspec.yamlpos import (
    MAX_DEPTH,
    MAX_NODES,
    Positions,
    YamlPositionError,
    parse_with_positions,
)


def parse(text: str) -> tuple[object, Positions]:
    return parse_with_positions(textwrap.dedent(text))


def error_of(text: str) -> YamlPositionError:
    with pytest.raises(YamlPositionError) as info:
        parse(text)
    return info.value


def test_values_and_keys_have_one_based_line_and_column() -> None:
    data, pos = parse(
        """\
        metadata:
          name: lab
        spec:
          hosts:
            - name: cp1
              roles: [control-plane, etcd]
        """
    )
    assert data == {
        "metadata": {"name": "lab"},
        "spec": {"hosts": [{"name": "cp1", "roles": ["control-plane", "etcd"]}]},
    }
    assert pos.keys[("metadata",)] == (1, 1)
    assert pos.keys[("metadata", "name")] == (2, 3)
    assert pos.values[("metadata", "name")] == (2, 9)
    assert pos.values[("spec", "hosts", 0)] == (5, 7)
    assert pos.keys[("spec", "hosts", 0, "name")] == (5, 7)
    assert pos.values[("spec", "hosts", 0, "name")] == (5, 13)
    assert pos.values[("spec", "hosts", 0, "roles")] == (6, 14)
    assert pos.values[("spec", "hosts", 0, "roles", 1)] == (6, 30)


def test_find_falls_back_to_the_nearest_ancestor() -> None:
    _, pos = parse(
        """\
        spec:
          addons:
            gpu: {enabled: true}
        """
    )
    # spec.addons.gpu.mig is not in the file: point at the key of its nearest ancestor, gpu.
    assert pos.find(("spec", "addons", "gpu", "mig", "strategy")) == (3, 5)
    assert pos.find(("spec", "addons", "gpu", "enabled")) == (3, 20)
    assert pos.find(("spec", "addons", "gpu", "enabled"), key=True) == (3, 11)
    assert pos.find(("nothing", "here")) == (1, 1)  # the document itself


def test_scalars_are_typed_like_yaml_safe_load() -> None:
    data, _ = parse(
        """\
        a: 1
        b: "1.35"
        c: 1.35
        d: true
        e: null
        f: ~
        g: 2024-01-01x
        h: '{{ lookup("pipe", "id") }}'
        """
    )
    assert data == {
        "a": 1, "b": "1.35", "c": 1.35, "d": True, "e": None, "f": None,
        "g": "2024-01-01x", "h": '{{ lookup("pipe", "id") }}',
    }


def test_anchors_aliases_and_merge_keys_work() -> None:
    data, _ = parse(
        """\
        base: &base {user: ubuntu, port: 22}
        one:
          <<: *base
          port: 2222
        two: *base
        """
    )
    assert data["one"] == {"user": "ubuntu", "port": 2222}  # type: ignore[index]
    assert data["two"] == {"user": "ubuntu", "port": 22}  # type: ignore[index]


def test_explicit_key_overrides_a_merged_one_but_not_twice() -> None:
    data, _ = parse("b: &b {x: 1}\nm: {x: 0, <<: *b}\n")
    assert data["m"] == {"x": 0}  # type: ignore[index]
    err = error_of("b: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n  x: 3\n")
    assert "duplicate key 'x'" in err.message
    assert err.line == 5


def test_merge_of_a_non_mapping_is_an_error() -> None:
    err = error_of(
        """\
        base: &b [1, 2]
        one:
          <<: *b
        """
    )
    assert "'<<' merges only mappings" in err.message
    assert err.line == 3


def test_empty_document_is_none() -> None:
    assert parse("")[0] is None
    assert parse("# only a comment\n")[0] is None


def test_duplicate_key_is_refused_with_both_lines() -> None:
    err = error_of(
        """\
        spec:
          hosts: []
          ssh: {}
          hosts: []
        """
    )
    assert err.message == "duplicate key 'hosts' (first at line 2)"
    assert (err.line, err.column) == (4, 3)


def test_duplicate_key_in_flow_mapping() -> None:
    err = error_of("a: {x: 1, x: 2}\n")
    assert "duplicate key 'x'" in err.message
    assert (err.line, err.column) == (1, 11)


def test_syntax_error_has_the_problem_position() -> None:
    err = error_of(
        """\
        spec:
          hosts: [a, b
        kind: Cluster
        """
    )
    assert err.line == 3
    assert err.column is not None
    assert "expected" in err.message or "flow" in err.message


def test_alias_bomb_is_refused_early() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        levels.append(f"a{i}: &a{i} [{refs}]")
    err = error_of("\n".join(levels) + "\n")
    assert f"more than {MAX_NODES} nodes" in err.message
    assert err.line is not None and err.line <= 6


def test_aliases_count_towards_the_node_limit_even_when_small() -> None:
    # 10 x 10 x 10 = 1,000 nodes after expansion: well within the limit, and loads.
    data, _ = parse(
        """\
        a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
        """
    )
    assert len(data["c"]) == 10  # type: ignore[index]


def test_unknown_alias_is_an_error() -> None:
    err = error_of("a: *nowhere\n")
    assert "nowhere" in err.message
    assert err.line == 1


def test_deep_nesting_is_refused() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    err = error_of(text)
    assert f"nesting deeper than {MAX_DEPTH} levels" in err.message
    assert err.line == 1


def test_deep_block_nesting_is_refused() -> None:
    lines = [" " * i + f"k{i}:" for i in range(MAX_DEPTH + 2)]
    err = error_of("\n".join(lines) + " x\n")
    assert "nesting deeper" in err.message
    assert err.line == MAX_DEPTH + 1  # the root mapping is level 1


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['id']\n",
        "a: !!python/name:os.system\n",
        "a: !custom value\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
    ],
)
def test_tags_other_than_the_core_schema_are_refused(text: str) -> None:
    err = error_of(text)
    assert "unsupported YAML tag" in err.message or "tag" in err.message
    assert err.line == 1


def test_only_one_document() -> None:
    err = error_of("a: 1\n---\nb: 2\n")
    assert err.message == "a spec file holds exactly one YAML document"
    assert err.line == 3


def test_complex_mapping_key_is_refused() -> None:
    err = error_of("? [a, b]\n: value\n")
    assert "mapping key must be a plain value" in err.message
    assert err.line == 1


def test_tab_indentation_is_a_syntax_error_with_position() -> None:
    err = error_of("spec:\n\thosts: []\n")
    assert err.line == 2
    assert err.column == 1
