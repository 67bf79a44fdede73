"""Render deepctl's Helm releases with the real pinned charts, offline (test helper).

The charts come from ``../shared/charts-src/<chart>-<version>/`` (complete upstream chart
directories, dependencies unpacked; never copied into this project). ``helm-python-sdk`` runs
Helm's own Go code in-process: it merges the chart's defaults with deepctl's values,
validates ``values.schema.json`` of the chart and of its subcharts, and renders the templates
as ``helm template`` would (no cluster: ``lookup`` returns nothing). A values file the chart
rejects raises :class:`helm_python.errors.HelmValuesError` or ``HelmRenderError``.

Renders are cached by (chart directory, release, namespace, values text), so the tests of a
module render each distinct values file once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.addons.playbook import ReleasePlan

CHARTS_SRC = Path(__file__).resolve().parents[3] / "shared" / "charts-src"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def require_charts() -> Path:
    """The charts folder, or skip the test with the reason."""
    if not CHARTS_SRC.is_dir():
        pytest.skip(f"pinned chart sources absent: {CHARTS_SRC} (../shared/charts-src)")
    try:
        import helm_python  # noqa: F401
    except ImportError:
        pytest.skip("helm-python-sdk is not installed (pip install -e '.[test]')")
    return CHARTS_SRC


def chart_dir(chart: str, version: str) -> Path:
    path = require_charts() / f"{chart}-{version}"
    if not (path / "Chart.yaml").is_file():
        pytest.skip(f"chart {chart} {version} absent from {CHARTS_SRC}")
    return path


@dataclass(frozen=True)
class Rendered:
    """The objects one release renders to (NOTES.txt left out)."""

    release: str
    namespace: str
    objects: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.release}: {len(found)} {kind} named {name!r}"
        return found[0]


_CACHE: dict[tuple[str, str, str, str], Rendered] = {}


def render_chart(directory: Path, values: dict[str, Any], name: str, namespace: str) -> Rendered:
    """Render one chart directory with ``values`` (uncached; raises the sdk's errors)."""
    import helm_python as helm

    with helm.Chart.load(directory) as chart:
        manifests = chart.render(values, name=name, namespace=namespace, is_install=True)
    objects = tuple(
        doc for path, body in sorted(manifests.items()) if not path.endswith("NOTES.txt")
        for doc in yaml.load_all(body, Loader=Loader) if doc
    )
    return Rendered(name, namespace, objects)


def render_plan(item: ReleasePlan) -> Rendered:
    """What ``helm upgrade --install`` of this planned release would create."""
    release = item.release
    directory = chart_dir(release.chart.name, item.version)
    key = (str(directory), release.name, release.namespace, item.values)
    if key not in _CACHE:
        values = yaml.safe_load(item.values) or {}
        _CACHE[key] = render_chart(directory, values, release.name, release.namespace)
    return _CACHE[key]
