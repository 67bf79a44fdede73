"""``deepctl init``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from deepctl.cli.support import stdout
from deepctl.consoles import escape
from deepctl.errors import Canceled, UsageError
from deepctl.init_spec import (
    EXAMPLES,
    InitOptions,
    addresses_answer_problem,
    example_options,
    hosts_from_options,
    key_answer_problem,
    name_answer_problem,
    render_spec,
    split_answer,
    user_answer_problem,
    write_spec,
)
from deepctl.shellwords import deepctl_command


def _ask(question: str, default: str, problem: Callable[[str], str | None]) -> str:
    """Ask until the answer passes ``problem`` (the spec's own check); say why it did not."""

    def check(answer: str) -> str:
        answer = answer.strip()
        reason = problem(answer)
        if reason is not None:
            raise typer.BadParameter(f"{reason}; try again")
        return answer

    result: str = typer.prompt(question, default=default, show_default=bool(default),
                               value_proc=check)
    return result


def _ask_list(question: str, taken: list[str], *, required: bool = False) -> list[str]:
    def problem(answer: str) -> str | None:
        return addresses_answer_problem(split_answer(answer), taken, required=required)

    return split_answer(_ask(question, "", problem))


def _interactive(opts: InitOptions) -> InitOptions:
    """Each answer is checked as it is typed, and asked again with the reason; Ctrl-C: 130."""
    try:
        opts.name = _ask("Cluster name", opts.name, name_answer_problem)
        opts.control_planes = _ask_list("Control-plane addresses (space separated)", [],
                                        required=True)
        opts.workers = _ask_list("Worker addresses without GPUs", opts.control_planes)
        opts.gpu_workers = _ask_list("GPU worker addresses",
                                     opts.control_planes + opts.workers)
        opts.user = _ask("SSH user", opts.user, user_answer_problem)
        opts.identity_file = _ask("SSH private key", opts.identity_file, key_answer_problem)
    except typer.Abort:  # Ctrl-C or end of input at a question
        raise Canceled("init canceled; nothing was written") from None
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
