"""``deepctl executor check``: is spec.executor ready to run Ansible (docs/executor.md)?"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import print_table
from deepctl.errors import ExitCode, UsageError
from deepctl.executor.check import ExecutorNotReady, check_executor
from deepctl.executor.target import executor_configs, with_executor
from deepctl.shellwords import deepctl_command
from deepctl.workspace import open_workspace

MARKS = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}


def check(spec: Path, *, state_dir: Path | None, as_json: bool, accept_new_hosts: bool,
          executor: str | None) -> None:
    ws = with_executor(open_workspace(spec, state_dir), executor)
    if not executor_configs(ws.cluster):  # spec.executor or spec.executors
        raise UsageError(f"{spec} has no spec.executor: Ansible runs on this machine",
                         hint=f"add spec.executor to {spec} (docs/executor.md), or give the "
                         "machine's address with --executor")
    checks = check_executor(ws, accept_new_hosts=accept_new_hosts)
    bad = [c for c in checks if c.status == "error"]
    if as_json:  # the result is the document; no second one for the error
        print_json({"checks": [c.to_json() for c in checks], "ready": not bad})
        if bad:
            raise typer.Exit(ExitCode.PREFLIGHT)
        return
    else:
        table = Table(title="Executor checks", title_justify="left")
        for column in ("check", "result", "message"):
            table.add_column(column)
        for c in checks:
            table.add_row(escape(c.name), MARKS[c.status], escape(c.message))
        print_table(stdout(), table)
    if bad:
        raise ExecutorNotReady(
            f"the executor is not ready: {len(bad)} check(s) failed",
            hint="; ".join(dict.fromkeys(c.hint for c in bad if c.hint))
            + f"; then rerun `{deepctl_command('executor', 'check', spec)}`")
