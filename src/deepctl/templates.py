"""Locate and render deepctl's Jinja2 templates (shipped in the wheel as deepctl/templates)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2


def templates_dir() -> Path:
    """The installed templates, or the source checkout's ``templates/``."""
    installed = Path(__file__).resolve().parent / "templates"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def playbook_path(name: str) -> Path:
    """One of deepctl's own playbooks (``templates/playbooks/``: verify, GPU, addons)."""
    return templates_dir() / "playbooks" / name
