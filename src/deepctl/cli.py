"""Command-line wiring. Each command parses its options and calls one function of
:mod:`deepctl.commands`; heavy libraries (ansible, paramiko, kubernetes) are imported only
inside those, so ``deepctl --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from deepctl import __version__
from deepctl.cli_support import command, set_debug

app = typer.Typer(
    name="deepctl",
    help="Turn GPU servers into a Kubernetes platform for ML, from one typed cluster spec.\n\n"
    "Start with `deepctl init`, check with `deepctl validate cluster.yaml`, see the plan with "
    "`deepctl deploy cluster.yaml --dry-run`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
kubespray_app = typer.Typer(help="Manage the Kubespray tree deepctl drives.", no_args_is_help=True)
app.add_typer(kubespray_app, name="kubespray")

SpecArg = Annotated[Path, typer.Argument(help="The cluster spec file (YAML).", show_default=False)]
StateDirOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option("--state-dir", help="State directory (default: .deepctl/<name>/ beside the spec)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deepctl {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    set_debug(debug)


@app.command()
@command
def init(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the spec.")] = Path(
        "cluster.yaml"
    ),
    name: Annotated[Optional[str], typer.Option(help="Cluster name.")] = None,  # noqa: UP045
    control_plane: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--control-plane", help="Control-plane address (repeatable)."),
    ] = None,
    worker: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--worker", help="Worker address (repeatable)."),
    ] = None,
    gpu_worker: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--gpu-worker", help="GPU worker address (repeatable)."),
    ] = None,
    user: Annotated[Optional[str], typer.Option(help="SSH user.")] = None,  # noqa: UP045
    identity_file: Annotated[
        Optional[str], typer.Option(help="SSH private key.")  # noqa: UP045
    ] = None,
    no_gpu: Annotated[bool, typer.Option("--no-gpu", help="Disable the GPU addon.")] = False,
    example: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Write an example: single-node, ha or gpu-cluster."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented cluster spec.

    Examples:

    * `deepctl init --example gpu-cluster -o cluster.yaml`
    * `deepctl init --name lab --control-plane 10.0.0.11 --gpu-worker 10.0.0.31 --user ubuntu`
    * `deepctl init` (asks interactively on a terminal)
    """
    from deepctl.commands import init as impl

    impl.run(
        output=output, name=name, control_planes=control_plane or [], workers=worker or [],
        gpu_workers=gpu_worker or [], user=user, identity_file=identity_file, no_gpu=no_gpu,
        example=example, force=force,
    )


@app.command()
@command
def validate(
    spec: SpecArg,
    state_dir: StateDirOpt = None,
    strict: StrictOpt = False,
    json_output: JsonOpt = False,
    no_kubespray: Annotated[
        bool, typer.Option("--no-kubespray", help="Skip Kubespray's own inventory checks.")
    ] = False,
) -> None:
    """Validate a spec, render its Kubespray inventory, and run Kubespray's inventory checks.

    Every problem is reported at once as FILE:LINE:COL: field.path: message (exit code 2).

    Examples: `deepctl validate cluster.yaml`, `deepctl validate cluster.yaml --json`
    """
    from deepctl.commands import validate as impl

    impl.run(spec, state_dir=state_dir, strict=strict, as_json=json_output,
             kubespray=not no_kubespray)


@app.command()
@command
def deploy(
    spec: SpecArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; contact no host.")
    ] = False,
    state_dir: StateDirOpt = None,
    strict: StrictOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Deploy the cluster: preflight, Kubespray, then the platform stages.

    Examples: `deepctl deploy cluster.yaml --dry-run`, `deepctl deploy cluster.yaml --yes`
    """
    from deepctl.commands import deploy as impl

    impl.run(spec, dry_run=dry_run, state_dir=state_dir, strict=strict, as_json=json_output)


@app.command()
@command
def schema() -> None:
    """Print the JSON Schema of the cluster spec (for editors and linters).

    Example: `deepctl schema > deepctl.schema.json`
    """
    from deepctl.commands import schema as impl

    impl.run()


@kubespray_app.command("fetch")
@command
def kubespray_fetch(
    tag: Annotated[str, typer.Option(help="Kubespray tag.")] = "v2.31.0",
    repo: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Git URL to clone from (default: upstream, or $DEEPCTL_KUBESPRAY_REPO)."),
    ] = None,
) -> None:
    """Clone the pinned Kubespray release into the cache (~/.cache/deepctl/kubespray/TAG).

    Example: `deepctl kubespray fetch`
    """
    from deepctl.commands import kubespray as impl

    impl.fetch(tag, repo)


def main() -> None:
    app()
