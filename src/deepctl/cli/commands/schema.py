"""``deepctl schema``."""

from __future__ import annotations

from deepctl.cli.support import print_json
from deepctl.clusterspec.schema import spec_json_schema


def run() -> None:
    print_json(spec_json_schema())
