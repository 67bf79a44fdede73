"""The spec's JSON Schema, from the models."""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster


def spec_json_schema() -> dict[str, Any]:
    schema = Cluster.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "deepctl Cluster spec (deepctl/v1alpha1)"
    return schema
