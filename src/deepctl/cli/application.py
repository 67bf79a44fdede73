"""Command-line wiring. Each command parses its options and calls one function of
:mod:`deepctl.cli.commands`; heavy libraries (ansible, paramiko, kubernetes) are imported only
inside those, so ``deepctl --help`` stays fast.

No ``from __future__ import annotations`` here: with it every annotation is a string that
Typer evaluates again (``typing.get_type_hints``) for each command on every start, which
cost more than half of ``deepctl --help`` (bench/startup.py).
"""


from pathlib import Path
from typing import Annotated, Optional

import typer

from deepctl import __version__
from deepctl.cli.metavars import DeepctlTyper
from deepctl.cli.support import command, set_debug

app = DeepctlTyper(
    name="deepctl",
    help="Turn GPU servers into a Kubernetes platform for ML, from one typed cluster spec.\n\n"
    "Start with `deepctl init`, check with `deepctl validate cluster.yaml`, see the plan with "
    "`deepctl deploy cluster.yaml --dry-run`.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
kubespray_app = DeepctlTyper(help="Manage the Kubespray tree deepctl drives.", no_args_is_help=True)
app.add_typer(kubespray_app, name="kubespray")
artifacts_app = DeepctlTyper(
    help="Air-gapped installs: list, pull and push exactly what a spec needs (docs/airgap.md).\n\n"
    "Examples: `deepctl artifacts list cluster.yaml`, "
    "`deepctl artifacts pull cluster.yaml --dest mirror/`, "
    "`deepctl artifacts push mirror/ --registry registry.lab:5000`",
    no_args_is_help=True,
)
app.add_typer(artifacts_app, name="artifacts")
executor_app = DeepctlTyper(
    help="Run Ansible on a machine next to the cluster (spec.executor, docs/executor.md).\n\n"
    "Example: `deepctl executor check cluster.yaml --accept-new-hosts`",
    no_args_is_help=True,
)
app.add_typer(executor_app, name="executor")

SpecArg = Annotated[Path, typer.Argument(help="The cluster spec file (YAML).", show_default=False)]
StateDirOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option("--state-dir", help="State directory (default: .deepctl/NAME/ beside the spec)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Warnings are errors: any warning (spec, SSH key, host check) fails the "
    "command as an error of its kind would (docs/exit-codes.md).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the stage plan; contact no host, change nothing.")
]
AcceptNewHostsOpt = Annotated[
    bool,
    typer.Option("--accept-new-hosts", help="Trust and record unknown SSH host keys (first use)."),
]
ExecutorOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--executor", metavar="ADDRESS",
                 help="Run Ansible on this machine (overrides spec.executor.address)."),
]
FromOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--from", help="Start at this stage (earlier ones are not run)."),
]
OnlyOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--only", help="Run only this stage (repeatable)."),
]
SkipOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--skip", help="Do not run this stage (repeatable)."),
]
RestartOpt = Annotated[
    bool, typer.Option("--restart", help="Run every stage again, even those up to date.")
]


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
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(metavar="NAME", help="Cluster name (lower-case RFC 1123 label).  "
                     "[default: gpu-lab]"),
    ] = None,
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
    user: Annotated[
        Optional[str], typer.Option(help="SSH user.  [default: ubuntu]")  # noqa: UP045
    ] = None,
    identity_file: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="SSH private key.  [default: ~/.ssh/id_ed25519]"),
    ] = None,
    no_gpu: Annotated[bool, typer.Option("--no-gpu", help="Disable the GPU addon.")] = False,
    example: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(metavar="single-node|ha|gpu-cluster",
                     help="Write this example spec instead (see docs/init.md)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented cluster spec.

    \b
    Examples:
      deepctl init --example gpu-cluster -o cluster.yaml
      deepctl init --name lab --control-plane 10.0.0.11 --gpu-worker 10.0.0.31
      deepctl init        (asks interactively on a terminal)
    """
    from deepctl.cli.commands import init as impl

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
    from deepctl.cli.commands import validate as impl

    impl.run(spec, state_dir=state_dir, strict=strict, as_json=json_output,
             kubespray=not no_kubespray)


@app.command()
@command
def preflight(
    spec: SpecArg,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
    strict: StrictOpt = False,
    accept_new_hosts: Annotated[
        bool,
        typer.Option("--accept-new-hosts",
                     help="Record unknown SSH host keys (trust on first use)."),
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Hosts checked at once.")
    ] = 32,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Per-host SSH timeout in seconds.")
    ] = 10.0,
    executor: ExecutorOpt = None,
) -> None:
    """Check every host over SSH before touching any: OS, resources, ports, identity, GPUs.

    Changes nothing on the hosts. Exit codes: 0 ok, 3 errors (or warnings, with --strict).

    Examples: `deepctl preflight cluster.yaml`, `deepctl preflight cluster.yaml --json`,
    `deepctl preflight cluster.yaml --accept-new-hosts` (first contact)
    """
    from deepctl.cli.commands import preflight as impl

    impl.run(spec, state_dir=state_dir, as_json=json_output, strict=strict,
             accept_new_hosts=accept_new_hosts, concurrency=concurrency, timeout=timeout,
             executor=executor)


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
    yes: YesOpt = False,
    accept_new_hosts: AcceptNewHostsOpt = False,
    from_stage: FromOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    restart: RestartOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Deploy the cluster: preflight, Kubespray, then the platform stages.

    Stages that finished with the same inputs are skipped; after a failure, running it again
    resumes at the failed stage. Live progress on a terminal, plain lines otherwise, JSON
    lines with --json. Ctrl-C cancels cleanly (exit 130).

    Examples: `deepctl deploy cluster.yaml --dry-run`, `deepctl deploy cluster.yaml --yes`,
    `deepctl deploy cluster.yaml --only verify`, `deepctl deploy cluster.yaml --restart`
    """
    from deepctl.cli.commands import deploy as impl

    impl.run(spec, dry_run=dry_run, state_dir=state_dir, strict=strict, as_json=json_output,
             yes=yes, accept_new_hosts=accept_new_hosts, from_stage=from_stage, only=only,
             skip=skip, restart=restart, executor=executor)


@executor_app.command("check")
@command
def executor_check(
    spec: SpecArg,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
    accept_new_hosts: AcceptNewHostsOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Check the executor: SSH, ansible-runner, Ansible and Kubespray's Python requirements,
    disk space, and that it reaches every host over SSH. Each failure comes with its fix.

    Example: `deepctl executor check cluster.yaml --accept-new-hosts`
    """
    from deepctl.cli.commands import executor as impl

    impl.check(spec, state_dir=state_dir, as_json=json_output,
               accept_new_hosts=accept_new_hosts, executor=executor)


@app.command()
@command
def status(
    spec: SpecArg,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1, help="Seconds between refreshes with --watch.")
    ] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, metavar="SECONDS",
                            help="Deadline for reading the cluster (each refresh with --watch); "
                            "past it: exit 4.")
    ] = 30,
    nodes: Annotated[
        str, typer.Option("--nodes", metavar="auto|all",
                          help="auto: past 20 nodes, identical healthy nodes on one row per "
                          "kind and the others one by one; all: one row per node.")
    ] = "auto",
    wide: Annotated[bool, typer.Option("--wide", help="Same as --nodes all.")] = False,
) -> None:
    """Show nodes, GPUs, platform addons and run history of a deployed cluster.

    Exit codes: 0 healthy (or not deployed yet), 1 degraded, 2 spec error, 4 API unreachable
    or not answering within --timeout.

    Examples: `deepctl status cluster.yaml`, `deepctl status cluster.yaml --json`,
    `deepctl status cluster.yaml --watch --interval 10`
    """
    from deepctl.cli.commands import status as impl

    impl.run(spec, state_dir=state_dir, as_json=json_output, watch=watch, interval=interval,
             timeout=timeout, all_nodes=impl.all_nodes(spec, nodes, wide))


@app.command()
@command
def runs(
    spec: SpecArg,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
    limit: Annotated[
        Optional[int], typer.Option("--limit", min=1, help="Show at most N runs.")  # noqa: UP045
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete old runs: keep the newest --keep runs, "
                           "each command's last successful one and its last unfinished one.")
    ] = False,
    keep: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--keep", min=1, help="Runs --prune keeps (default: $DEEPCTL_KEEP_RUNS or 20)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --prune: list what it would delete; delete nothing.")
    ] = False,
) -> None:
    """List the runs of a cluster, newest first: id, command, start, duration, result.

    Every run is pruned the same way after it ends (DEEPCTL_KEEP_RUNS, default 20).

    Examples: `deepctl runs cluster.yaml`, `deepctl runs cluster.yaml --json` (with per-stage
    durations), `deepctl runs cluster.yaml --prune --keep 5 --dry-run`
    """
    from deepctl.cli.commands import runs as impl

    if prune:
        impl.prune(spec, state_dir=state_dir, keep=keep, as_json=json_output, dry_run=dry_run)
        return
    impl.check_list_options(keep=keep, dry_run=dry_run)
    impl.runs(spec, state_dir=state_dir, limit=limit, as_json=json_output)


@app.command()
@command
def logs(
    spec: SpecArg,
    run: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="Run id (or a unique prefix); default: the newest run."),
    ] = None,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Show the log of a run (default: the newest).

    Examples: `deepctl logs cluster.yaml`, `deepctl logs cluster.yaml 20261127T121530Z`
    """
    from deepctl.cli.commands import runs as impl

    impl.logs(spec, run, state_dir=state_dir, as_json=json_output)


@app.command("add-node")
@command
def add_node(
    spec: SpecArg,
    name: Annotated[
        Optional[str], typer.Option("--name", help="Node name (RFC 1123 label).")  # noqa: UP045
    ] = None,
    address: Annotated[
        Optional[str], typer.Option("--address", help="Where to reach it over SSH.")  # noqa: UP045
    ] = None,
    hosts: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--hosts", help="A batch of workers: YAML list of spec.hosts entries."),
    ] = None,
    internal_address: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--internal-address", help="Cluster-internal IP."),
    ] = None,
    role: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--role", help="worker (default), control-plane or etcd; repeatable."),
    ] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help="The host has NVIDIA GPUs.")] = False,
    label: Annotated[
        Optional[list[str]], typer.Option("--label", help="k=v node label.")  # noqa: UP045
    ] = None,
    taint: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--taint", help="key=value:Effect taint."),
    ] = None,
    ssh_port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--ssh-port", min=1, max=65535, help="SSH port, if not spec.ssh.port."),
    ] = None,
    ssh_user: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--ssh-user", help="SSH user, if not spec.ssh.user."),
    ] = None,
    state_dir: StateDirOpt = None,
    yes: YesOpt = False,
    accept_new_hosts: AcceptNewHostsOpt = False,
    json_output: JsonOpt = False,
    dry_run: DryRunOpt = False,
    from_stage: FromOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    restart: RestartOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Add a host to the cluster, and to the spec once it has joined (comments kept, backup).

    Only the new host is configured: Kubespray facts on all hosts, then scale.yml --limit NEW
    (cluster.yml for control-plane/etcd). Re-run the same command to resume a failed one, or
    drop the pending host with remove-node. It stays pending until every stage but the checks
    (preflight, verify) succeeded.

    Examples: `deepctl add-node cluster.yaml --name gpu3 --address 10.0.0.33 --gpu --yes`,
    `deepctl add-node cluster.yaml --name gpu3 --address 10.0.0.33 --gpu --only preflight`,
    `deepctl add-node cluster.yaml --hosts new-workers.yaml --yes` (a batch of workers)
    """
    from deepctl.cli.commands import add_node as impl
    from deepctl.cli.commands.node_options import selection

    impl.add_node(spec, state_dir=state_dir, name=name, address=address, hosts_file=hosts,
                  internal_address=internal_address, roles=role or [], gpu=gpu,
                  labels=label or [], taints=taint or [], ssh_port=ssh_port, ssh_user=ssh_user,
                  yes=yes, accept_new_hosts=accept_new_hosts, as_json=json_output,
                  dry_run=dry_run, chosen=selection(from_stage, only, skip, restart),
                  executor=executor)


@app.command("remove-node")
@command
def remove_node(
    spec: SpecArg,
    name: Annotated[str, typer.Argument(help="The host to remove.", show_default=False)],
    force: Annotated[
        bool, typer.Option("--force", help="The host is dead: remove it without resetting it.")
    ] = False,
    state_dir: StateDirOpt = None,
    yes: YesOpt = False,
    json_output: JsonOpt = False,
    dry_run: DryRunOpt = False,
    from_stage: FromOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    restart: RestartOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Drain and remove a node (Kubespray remove-node.yml), then drop it from the spec.

    Refuses to remove the last control plane or to break etcd quorum.

    Examples: `deepctl remove-node cluster.yaml wk3 --yes`,
    `deepctl remove-node cluster.yaml wk3 --only remove --yes` (keep it in the spec for now)
    """
    from deepctl.cli.commands import remove_node as impl
    from deepctl.cli.commands.node_options import selection

    impl.remove_node(spec, name, state_dir=state_dir, force=force, yes=yes,
                     as_json=json_output, dry_run=dry_run,
                     chosen=selection(from_stage, only, skip, restart), executor=executor)


@app.command()
@command
def reset(
    spec: SpecArg, state_dir: StateDirOpt = None, yes: YesOpt = False,
    json_output: JsonOpt = False, dry_run: DryRunOpt = False, executor: ExecutorOpt = None,
) -> None:
    """Wipe Kubernetes from every host (Kubespray reset.yml). Asks first unless --yes.

    Example: `deepctl reset cluster.yaml`
    """
    from deepctl.cli.commands import reset as impl

    impl.reset(spec, state_dir=state_dir, yes=yes, as_json=json_output, dry_run=dry_run,
               executor=executor)


@app.command()
@command
def upgrade(
    spec: SpecArg,
    to: Annotated[str, typer.Option("--to", help="Target Kubernetes version (one minor up).")],
    state_dir: StateDirOpt = None,
    yes: YesOpt = False,
    json_output: JsonOpt = False,
    dry_run: DryRunOpt = False,
    from_stage: FromOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    restart: RestartOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Upgrade Kubernetes one minor version (Kubespray upgrade-cluster.yml); updates the spec.

    Examples: `deepctl upgrade cluster.yaml --to 1.35.4`,
    `deepctl upgrade cluster.yaml --to 1.35.4 --dry-run`
    """
    from deepctl.cli.commands import upgrade as impl
    from deepctl.cli.commands.node_options import selection

    impl.upgrade(spec, state_dir=state_dir, to=to, yes=yes, as_json=json_output,
                 dry_run=dry_run, chosen=selection(from_stage, only, skip, restart),
                 executor=executor)


@app.command()
@command
def verify(
    spec: SpecArg,
    level: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--level", metavar="quick|standard|full",
                     help="How deep to look; default: spec.verify.level (quick)."),
    ] = None,
    nodes: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--nodes", metavar="HOST", help="Only these hosts (repeat the option)."),
    ] = None,
    render: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--render", metavar="DIR",
                     help="Write the manifests the level applies to DIR; contact nothing."),
    ] = None,
    drain: Annotated[
        bool, typer.Option("--drain", help="Cordon and drain the checked GPU nodes first "
                           "(their pods are evicted); uncordoned after.")
    ] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="Also show what fell since the last verify run.")
    ] = False,
    report: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--report", metavar="FILE.html",
                     help="Write the findings as one self-contained HTML page."),
    ] = None,
    yes: YesOpt = False,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """Prove the GPU platform works and performs, node by node (docs/verify.md).

    quick: nodes Ready, GPUs allocatable, CUDA smoke Job on every GPU node; standard: + DCGM
    diagnostics level 2 and single-node NCCL all-reduce against the expected figures; full:
    + DCGM level 3 and multi-node all-reduce. Exit codes: 0 all passed, 1 a check failed,
    2 usage or spec error.

    Examples: `deepctl verify cluster.yaml`, `deepctl verify cluster.yaml --level standard
    --nodes gpu1`, `deepctl verify cluster.yaml --level full --render ./verify-manifests`
    """
    from deepctl.cli.commands import verify as impl

    impl.run(spec, level=level, nodes=nodes, render=render, state_dir=state_dir,
             as_json=json_output, compare=compare, report=report, drain=drain, yes=yes,
             executor=executor)


@app.command()
@command
def kubeconfig(
    spec: SpecArg,
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("-o", "--output", help="Write a copy that reaches the API from here."),
    ] = None,
    state_dir: StateDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Print the path of the admin kubeconfig, or write a copy with -o.

    Examples: `export KUBECONFIG=$(deepctl kubeconfig cluster.yaml)`,
    `deepctl kubeconfig cluster.yaml -o ~/.kube/lab.conf`
    """
    from deepctl.cli.commands import kubeconfig as impl

    impl.kubeconfig(spec, state_dir=state_dir, output=output, as_json=json_output)


@app.command()
@command
def schema() -> None:
    """Print the JSON Schema of the cluster spec (for editors and linters).

    Example: `deepctl schema > deepctl.schema.json`
    """
    from deepctl.cli.commands import schema as impl

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
    from deepctl.cli.commands import kubespray as impl

    impl.fetch(tag, repo)


InsecureRegistryOpt = Annotated[
    bool,
    typer.Option("--insecure-registry",
                 help="The registry speaks plain HTTP or has an unverifiable certificate."),
]
AuthfileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--authfile", help="Registry credentials file (containers-auth.json format)."),
]


CaFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--ca-file", help="CA (PEM) that signed the registry's certificate."),
]

OsOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--os", help="OS of the GPU hosts for the driver image tag, e.g. ubuntu24.04 "
                 "(repeatable; default: what preflight saw)."),
]


@artifacts_app.command("list")
@command
def artifacts_list(
    spec: SpecArg,
    json_output: JsonOpt = False,
    mirror: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--mirror", help="Also say how much of the list this mirror directory has."),
    ] = None,
    os_tags: OsOpt = None,
) -> None:
    """List exactly the files, images and charts this spec needs (its enabled parts only).

    Examples: `deepctl artifacts list cluster.yaml`, `deepctl artifacts list cluster.yaml --json`
    """
    from deepctl.cli.commands import artifacts as impl

    impl.list_(spec, as_json=json_output, mirror=mirror, stated_os=os_tags or [])


@artifacts_app.command("pull")
@command
def artifacts_pull(
    spec: SpecArg,
    dest: Annotated[Path, typer.Option("--dest", help="The mirror directory to fill.")],
    files_from: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--files-from", help="Files from this files_repo mirror URL, not the internet."),
    ] = None,
    images_from: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--images-from",
                     help="Images from this registry (HOST:PORT, registry_host layout)."),
    ] = None,
    charts_from: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--charts-from", help="Charts from this Helm repository URL."),
    ] = None,
    insecure_registry: InsecureRegistryOpt = False,
    arch: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--arch", help="Image architecture (repeatable; default: image_arch or amd64)."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Downloads at once.")] = 8,
    authfile: AuthfileOpt = None,
    ca_file: CaFileOpt = None,
    os_tags: OsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Fill a mirror directory: DIR/files (sha256-verified), DIR/images (OCI), DIR/charts.

    Resumable: what is already there and verified is skipped. Needs skopeo for images.

    Examples: `deepctl artifacts pull cluster.yaml --dest mirror/`,
    `deepctl artifacts pull cluster.yaml --dest mirror/ --files-from http://proxy/files`
    """
    from deepctl.cli.commands import artifacts as impl

    impl.pull(spec, dest=dest, files_from=files_from, images_from=images_from,
              charts_from=charts_from, insecure_registry=insecure_registry, arches=arch or [],
              workers=workers, authfile=authfile, as_json=json_output, ca_file=ca_file,
              stated_os=os_tags or [])


@artifacts_app.command("push")
@command
def artifacts_push(
    source: Annotated[Path, typer.Argument(help="A mirror directory filled by `artifacts pull`.",
                                           show_default=False)],
    registry: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--registry", help="HOST:PORT of the air-gap registry (default: the spec's)."),
    ] = None,
    insecure_registry: InsecureRegistryOpt = False,
    authfile: AuthfileOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Images pushed at once.")] = 4,
    ca_file: CaFileOpt = None,
    spec: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--spec", help="Take registry, insecureRegistry and caFile from this "
                     "spec's offline block."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Push the images of a mirror directory into a registry (Kubespray's registry_host layout).

    Files and charts need no push: serve DIR/files and DIR/charts with any web server.

    Examples: `deepctl artifacts push mirror/ --registry registry.lab:5000 --ca-file ca.pem`,
    `deepctl artifacts push mirror/ --spec cluster.yaml`
    """
    from deepctl.cli.commands import artifacts as impl

    impl.push(source, registry=registry, insecure_registry=insecure_registry, authfile=authfile,
              workers=workers, as_json=json_output, ca_file=ca_file, spec=spec)


def main() -> None:
    from deepctl.cli.lazy_root import lazy_root

    lazy_root(app)()


@app.command("vars")
@command
def vars_(spec: SpecArg, json_output: JsonOpt = False) -> None:
    """List every Kubespray variable deepctl sets: value, source, Kubespray's default.

    Source is the typed spec field, deepctl's own reason (derived), or kubesprayVars.
    Examples: `deepctl vars cluster.yaml`, `deepctl vars cluster.yaml --json`
    """
    from deepctl.cli.commands import vars as impl

    impl.run(spec, as_json=json_output)


@app.command("import")
@command
def import_(
    inventory: Annotated[Path, typer.Argument(help="Kubespray inventory directory or hosts file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Spec file to write.")],
    name: Annotated[
        Optional[str], typer.Option(help="Cluster name (default: the inventory's directory).")  # noqa: UP045
    ] = None,
    identity_file: Annotated[
        Optional[str], typer.Option(help="SSH key, where the inventory names none.")  # noqa: UP045
    ] = None,
    user: Annotated[
        Optional[str], typer.Option(help="SSH user, where the inventory names none.")  # noqa: UP045
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Write a deepctl spec from an existing Kubespray inventory (hosts.yaml or inventory.ini,
    group_vars/, host_vars/), read through ansible-inventory.

    Typed fields where deepctl has them; kubesprayVars (Ansible templates kept) for the rest;
    roles from the groups. What cannot be expressed is an error naming it (exit 2).
    Example: `deepctl import inventory/mycluster -o cluster.yaml --user ubuntu`
    """
    from deepctl.cli.commands import import_ as impl

    impl.run(inventory, output, name=name, identity_file=identity_file, user=user,
             as_json=json_output)
