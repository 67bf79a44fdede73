"""The ``deepctl`` program: a Ctrl-C at any moment ends it without a traceback.

``@command`` (cli_support) turns a Ctrl-C inside a command into "canceled" and exit 130. This
covers the rest: a Ctrl-C while Python is still loading deepctl, typer and their imports,
and one more Ctrl-C while deepctl is already on its way out (a second press after the first
was handled), which Python would otherwise report from its exit hooks.
"""

from __future__ import annotations

import signal
import sys

CANCELED = 130  # ExitCode.CANCELED, without importing deepctl.errors before the try below


def main() -> None:
    code: int | str | None = 0
    try:
        from deepctl.cli.application import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        sys.stderr.write("canceled\n")
        code = CANCELED
    except SystemExit as done:
        code = done.code
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the user asked to stop: we are stopping
    sys.exit(code)
