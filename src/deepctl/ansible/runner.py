"""Run a playbook through ansible-runner, with its traps handled once, here.

- The event handler always returns True (otherwise ansible-runner drops the event from
  disk and ``stats`` stays empty).
- A ``cancel_callback`` is always passed, so ansible-runner does not install SIGINT/SIGTERM
  handlers of its own; whatever handlers were in place are restored afterwards anyway.
- ``ansible-playbook`` is taken from beside the running interpreter before PATH, so deepctl
  works from a virtual environment that is not activated (:func:`ansible_playbook_binary`;
  :func:`deepctl.ansible.environment.ansible_env` puts its directory first on PATH). A run
  looks it up once (:func:`find_tools`) and hands the :class:`AnsibleTools` to every
  playbook and every ``--list-tasks`` it starts.
- The arguments are built by a pure function (:func:`~deepctl.ansible.environment.runner_kwargs`);
  this module and :mod:`.tasklist` are the only ones that start Ansible.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepctl.ansible.environment import ansible_env, runner_kwargs
from deepctl.errors import AnsibleError, DeepctlError

if TYPE_CHECKING:
    from deepctl.ansible.remote import RemoteJob

EventHandler = Callable[[dict[str, Any]], None]


def ansible_binary(name: str) -> str:
    """An Ansible command (``ansible-playbook``, ``ansible-inventory``) beside
    ``sys.executable``, else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise AnsibleError(
            f"{name} is not installed next to deepctl nor on PATH",
            hint="reinstall deepctl (pip install deepctl) so that ansible comes with it",
        )
    return found


def ansible_playbook_binary() -> str:
    return ansible_binary("ansible-playbook")


PLAYBOOK_EXEC = "deepctl-ansible-playbook"  # ansible-playbook, stdin from /dev/null (playbook_exec)


def playbook_exec_binary() -> str | None:
    """``deepctl-ansible-playbook`` beside ``sys.executable`` (installed with deepctl), else
    None (then ansible-runner starts ``ansible-playbook`` itself)."""
    beside = Path(sys.executable).parent / PLAYBOOK_EXEC
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


@dataclass(frozen=True)
class AnsibleTools:
    """The Ansible programs a run starts, looked up once (:func:`find_tools`)."""

    playbook: str  # ansible-playbook
    exec_wrapper: str | None  # deepctl-ansible-playbook (stdin from /dev/null), if installed

    def env(self, config_path: Path | None) -> dict[str, str]:
        """The environment of every Ansible process of the run (pure)."""
        return ansible_env(config_path, self.playbook)


def find_tools() -> AnsibleTools:
    return AnsibleTools(ansible_playbook_binary(), playbook_exec_binary())


class ControllerFile(str):
    """A playbook variable's value that names a file on this machine: values files,
    manifests and Secrets deepctl wrote, a mirrored chart archive. It is a ``str`` (the path),
    so a run here reads the file where it is; a run on an executor carries a private copy in
    its job and the variable names that copy there (:mod:`deepctl.executor.job`). Every
    file of this machine a playbook reads through a variable is one of these: the one way
    such files reach the executor (Kubespray's ``artifacts_dir``/``credentials_dir``, which
    come back too, are the job builder's own)."""

    __slots__ = ()


def controller_files(value: Any) -> list[ControllerFile]:
    """Pure: the :class:`ControllerFile` s in playbook variables (nested dicts and lists),
    each once, in the order met."""
    found: dict[str, ControllerFile] = {}

    def walk(item: Any) -> None:
        if isinstance(item, ControllerFile):
            found.setdefault(str(item), item)
        elif isinstance(item, Mapping):
            for inner in item.values():
                walk(inner)
        elif isinstance(item, list | tuple):
            for inner in item:
                walk(inner)

    walk(value)
    return list(found.values())


@dataclass
class PlaybookRun:
    private_data_dir: Path
    playbook: Path
    inventory: Path
    envvars: Mapping[str, str] = field(default_factory=dict)  # over ansible_env's defaults
    extravars: Mapping[str, Any] = field(default_factory=dict)
    cmdline: str | None = None
    limit: str | None = None
    forks: int | None = None
    ident: str = "run"
    settings: Mapping[str, Any] = field(default_factory=dict)  # ansible-runner env/settings
    # jsonfile fact cache; without it ansible-runner uses one per run under artifacts/, so
    # facts gathered by one playbook (facts.yml) are lost to the next (scale.yml --limit).
    fact_cache: Path | None = None
    # spec.executor: builds the job that runs there (deepctl.executor.job); None: run here
    remote: Callable[[PlaybookRun, dict[str, str]], RemoteJob] | None = None

    @property
    def files(self) -> list[ControllerFile]:
        """The files of this machine the playbook's variables name (an executor's job
        carries them)."""
        return controller_files(self.extravars)


@dataclass
class PlaybookResult:
    rc: int
    status: str  # successful | failed | canceled | timeout
    stats: dict[str, Any]
    artifact_dir: Path


def run_playbook(
    run: PlaybookRun,
    on_event: EventHandler | None = None,
    should_cancel: Callable[[], bool] | None = None,
    tools: AnsibleTools | None = None,
) -> PlaybookResult:
    """Run one playbook and return its result; events go to ``on_event`` as they happen.
    ``tools``: the run's Ansible programs (looked up here when not given)."""
    import ansible_runner  # heavy: imported only when a playbook really runs

    def handle(event: dict[str, Any]) -> bool:
        if on_event is not None:
            on_event(event)
        return True  # keep the event: without True, ansible-runner discards it

    def cancel() -> bool:
        return bool(should_cancel and should_cancel())

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    # PATH (ansible-playbook beside deepctl first), host key checking on, deepctl's filter
    # plugins: always; the caller adds its ansible.cfg and anything else (ansible_env).
    tools = tools or find_tools()
    envvars = {**tools.env(None), **run.envvars}
    kwargs = runner_kwargs(
        private_data_dir=run.private_data_dir, playbook=run.playbook, inventory=run.inventory,
        envvars=envvars, extravars=run.extravars, ident=run.ident, cmdline=run.cmdline,
        limit=run.limit, forks=run.forks, settings=run.settings, fact_cache=run.fact_cache,
        binary=tools.exec_wrapper)
    umask = os.umask(0o077)  # artifacts, fact cache and whatever Ansible writes: private
    try:
        if run.remote is not None:  # on the executor: ansible-runner's transmit|worker|process
            return _run_remote(run, handle, cancel, envvars)
        runner = ansible_runner.run(event_handler=handle, cancel_callback=cancel, **kwargs)
    finally:
        os.umask(umask)
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
    return PlaybookResult(
        rc=int(runner.rc if runner.rc is not None else -1),
        status=str(runner.status),
        stats=dict(runner.stats or {}),
        artifact_dir=Path(runner.config.artifact_dir),
    )


def _run_remote(run: PlaybookRun, handle: Callable[[dict[str, Any]], bool],
                cancel: Callable[[], bool], envvars: dict[str, str]) -> PlaybookResult:
    from deepctl.ansible.remote import run_remote

    assert run.remote is not None
    done = run_remote(run.remote(run, envvars), run.private_data_dir, run.ident, handle, cancel)
    return PlaybookResult(done.rc, done.status, done.stats, done.artifact_dir)


def run_playbooks(runs: Sequence[PlaybookRun], handlers: Sequence[EventHandler],
                  should_cancel: Callable[[], bool], tools: AnsibleTools | None = None
                  ) -> list[PlaybookResult | DeepctlError]:
    """Run several playbooks at once, each on its executor (``run.remote`` set: slices of
    spec.executors), one thread each; ``handlers[i]`` gets run ``i``'s events (from its
    thread: the caller serialises). The umask and the signal handlers are set here, once,
    in the calling thread. A run that raises a :class:`DeepctlError` (a lost connection)
    gives it in place of its result; every run ends before this returns."""
    tools = tools or find_tools()
    envvars = {**tools.env(None)}
    results: list[PlaybookResult | DeepctlError | None] = [None] * len(runs)
    crashed: list[BaseException] = []

    def one(i: int) -> None:
        def handle(event: dict[str, Any]) -> bool:
            handlers[i](event)
            return True

        try:
            results[i] = _run_remote(runs[i], handle, should_cancel,
                                     {**envvars, **runs[i].envvars})
        except DeepctlError as error:
            results[i] = error
        except BaseException as exc:  # raised in the caller's thread below
            crashed.append(exc)

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    umask = os.umask(0o077)
    threads = [threading.Thread(target=one, args=(i,), name=f"slice-{i + 1}", daemon=True)
               for i, run in enumerate(runs) if run.remote is not None]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # a short join: Ctrl-C reaches this thread meanwhile
                thread.join(0.2)
    finally:
        os.umask(umask)
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
    if crashed:
        raise crashed[0]
    return [r if r is not None else AnsibleError(f"{runs[i].ident}: no executor to run on")
            for i, r in enumerate(results)]
