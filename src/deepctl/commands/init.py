"""``deepctl init``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from deepctl.cli_support import stdout
from deepctl.consoles import escape
from deepctl.errors import UsageError
from deepctl.init_spec import (
    EXAMPLES,
    InitOptions,
    example_options,
    hosts_from_options,
    render_spec,
    write_spec,
)
from deepctl.shellwords import deepctl_command


def _ask_list(question: str, default: str = "") -> list[str]:
    answer = typer.prompt(question, default=default, show_default=bool(default))
    return [part.strip() for part in answer.replace(",", " ").split() if part.strip()]


def _interactive(opts: InitOptions) -> InitOptions:
    opts.name = typer.prompt("Cluster name", default=opts.name)
    opts.control_planes = _ask_list("Control-plane addresses (space separated)")
    opts.workers = _ask_list("Worker addresses without GPUs", default="")
    opts.gpu_workers = _ask_list("GPU worker addresses", default="")
    opts.user = typer.prompt("SSH user", default=opts.user)
    opts.identity_file = typer.prompt("SSH private key", default=opts.identity_file)
    return opts


def run(
    *,
    output: Path,
    name: str | None,
    control_planes: list[str],
    workers: list[str],
    gpu_workers: list[str],
    user: str | None,
    identity_file: str | None,
    no_gpu: bool,
    example: str | None,
    force: bool,
) -> None:
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="pass --force to overwrite it")
    if example is not None:
        if example not in EXAMPLES:
            raise UsageError(f"unknown example {example!r}", hint=f"choose one of: {', '.join(EXAMPLES)}")
        opts, hosts = example_options(example)
    else:
        opts = InitOptions(control_planes=control_planes, workers=workers, gpu_workers=gpu_workers)
        no_flags = not (control_planes or workers or gpu_workers or name or user or identity_file)
        if no_flags and sys.stdin.isatty() and sys.stdout.isatty():
            opts = _interactive(opts)
        hosts = hosts_from_options(opts)
    if name:
        opts.name = name
    if user:
        opts.user = user
    if identity_file:
        opts.identity_file = identity_file
    if no_gpu:
        opts.gpu = False
    text = render_spec(opts, hosts, output.name)
    write_spec(output, text, force=force)
    console = stdout()
    console.print(escape(f"Wrote {output} (cluster {opts.name!r}, {len(hosts)} hosts)."))
    console.print(escape(f"Next: {deepctl_command('validate', output)}  then  "
                         f"{deepctl_command('deploy', output, '--dry-run')}"))
