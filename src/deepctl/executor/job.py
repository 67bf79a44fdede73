"""Build one playbook run for the executor: the private data directory ``transmit`` sends and
the arguments the ``ansible-runner worker`` there runs with.

The Kubespray tree is sent once and kept on the executor by content hash
(``~/.cache/deepctl/trees/SHA256``). The job directory
(``~/.cache/deepctl/jobs/CLUSTER-IDENT-RANDOM``, 0700) holds the rest of what the run reads,
with paths there: deepctl's own playbooks when the run uses one, the inventory
(plus ``zz-deepctl-executor.yml``, which points each host's key at ``keys/``), the SSH keys,
the cluster's ``known_hosts`` (host keys checked from the executor too), deepctl's
``ansible.cfg`` rendered with those paths, deepctl's filter plugins, the files of this
machine the playbook's variables name (each a :class:`ControllerFile`: copied to
``files/I/NAME``, 0600, and the variable rewritten to the copy), and, under
``artifacts/IDENT/`` (which the worker streams back), the fact cache and Kubespray's
``artifacts_dir``/``credentials_dir``. After the run those three are copied back into the
state directory; the job directory is removed from the executor. When a new tree is sent,
old ones are pruned (:func:`prune_script`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shlex
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.environment import FILTER_PLUGINS, runner_kwargs
from deepctl.ansible.remote import CountingStream, RemoteJob
from deepctl.ansible.runner import ControllerFile, PlaybookRun
from deepctl.clusterspec.models import Cluster
from deepctl.errors import AnsibleError, SSHError
from deepctl.executor.target import ExecutorTarget, ssh_argv
from deepctl.fsutil import ensure_private_dir
from deepctl.kubespray.source import tree_digest
from deepctl.state import StateDir

INVENTORY_OVERRIDES = "zz-deepctl-executor.yml"  # read after hosts.yaml: its host vars win
JOBS_DIR = ".cache/deepctl/jobs"  # under the executor user's home
TREES_DIR = ".cache/deepctl/trees"  # Kubespray trees by content hash, kept between runs


def remote_state(target: ExecutorTarget, digest: str) -> tuple[str, bool]:
    """The executor user's home, and whether the tree ``digest`` is kept there (one round
    trip)."""
    tree = f'"$HOME/{TREES_DIR}/{digest}"'
    argv = ssh_argv(target, f'printf "%s\\n" "$HOME"; test -d {tree} && touch -c {tree} '
                            "&& echo kept; true")  # a use: it is kept from pruning a while
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                          check=False)
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    home = lines[0].strip() if lines else ""
    if done.returncode != 0 or not home.startswith("/"):
        said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
        raise SSHError(f"{target.label}: cannot log in: {'; '.join(said) or done.returncode}",
                       hint=f"run `{target.check_command}` (add --accept-new-hosts to "
                       "record the executor's host key on first use)")
    return home, "kept" in lines[1:]


def send_tree(target: ExecutorTarget, tree: Path, remote: str) -> int:
    """Copy ``tree`` to ``remote`` on the executor (gzip'd tar over ssh, moved into place
    when complete); the bytes sent."""
    parent, name = remote.rsplit("/", 1)
    script = (f"set -e; mkdir -p -m 700 {shlex.quote(parent)}; "
              f"t=$(mktemp -d {shlex.quote(parent)}/.incoming.XXXXXX); tar -xzf - -C \"$t\"; "
              f"mv -T \"$t\" {shlex.quote(parent + '/' + name)} 2>/dev/null || rm -rf \"$t\"")
    with subprocess.Popen(ssh_argv(target, script), stdin=subprocess.PIPE,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as upload:
        assert upload.stdin is not None
        counter = CountingStream(upload.stdin)
        with tarfile.open(fileobj=counter, mode="w|gz") as archive:
            archive.add(tree, arcname=".", filter=_no_git)
        upload.stdin.close()
        errors = upload.stderr.read().decode("utf-8", errors="replace") if upload.stderr else ""
        if upload.wait() != 0:
            raise SSHError(f"{target.label}: could not copy the Kubespray tree there: "
                           f"{errors.strip() or upload.returncode}",
                           hint="check free space in the executor user's home: "
                           f"`{target.check_command}`")
    return counter.count


KEEP_TREES = 3  # besides the one in use: the trees used last, kept when a new one comes
IDLE_MINUTES = 60  # a tree used (found kept, or a job started on it) since then is kept too


def prune_script(current: str, keep: int = KEEP_TREES, idle_minutes: int = IDLE_MINUTES) -> str:
    """Pure: the shell script that prunes ``~/.cache/deepctl/trees`` on the executor after
    the tree ``current`` was sent. Kept: ``current``, the ``keep`` used last (a use touches
    the tree's directory), any used within ``idle_minutes``, and any a running worker holds
    (each job takes a shared ``flock`` on its tree; a tree is removed under an exclusive
    one, taken without waiting). Without ``flock`` on the executor nothing is pruned.
    Leftovers of an interrupted send (a day old) or prune go too."""
    return (f'cd "$HOME/{TREES_DIR}" 2>/dev/null || exit 0; '
            "command -v flock >/dev/null 2>&1 || exit 0; n=0; "
            "for d in $(ls -1t); do "
            f'case "$d" in *[!0-9a-f]*|{current}) continue;; esac; '
            '[ ${#d} -eq 64 ] || continue; n=$((n+1)); '
            f'[ $n -le {int(keep)} ] && continue; '
            f'[ -z "$(find "$d" -maxdepth 0 -mmin -{int(idle_minutes)})" ] || continue; '
            """flock -n -x "$d" sh -c 'mv -T "$1" ".pruned.$1" && rm -rf ".pruned.$1"' _ "$d"; """
            "done; find . -maxdepth 1 \\( -name '.pruned.*' -o -name '.incoming.*' -mmin +1440 "
            "\\) -exec rm -rf {} + 2>/dev/null; true")


def prune_trees(target: ExecutorTarget, current: str) -> None:
    """Prune the executor's old trees (:func:`prune_script`); a failure only leaves them."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(ssh_argv(target, prune_script(current)), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                       check=False)


def _no_git(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if ".git" in Path(info.name).parts else info


def identity_files(cluster: Cluster, base_dir: Path | None) -> dict[str, Path]:
    """Every key Ansible logs in to the hosts with: hosts by name, and ``bastion``."""
    ssh = cluster.spec.ssh

    def resolve(path: Path) -> Path:
        path = path.expanduser()
        return base_dir / path if base_dir is not None and not path.is_absolute() else path

    keys = {h.name: resolve(h.ssh.identity_file or ssh.identity_file) for h in cluster.spec.hosts}
    if ssh.bastion is not None:
        keys["bastion"] = resolve(ssh.bastion.identity_file or ssh.identity_file)
    return keys


def key_names(keys: dict[str, Path]) -> dict[Path, str]:
    """Pure: a file name under ``keys/`` for each distinct key file."""
    return {path: f"key{i}" for i, path in enumerate(sorted(set(keys.values())))}


def inventory_overrides(keys: dict[str, Path], names: dict[Path, str], remote: str) -> str:
    """Pure: host vars that point each host at its key in the job directory."""
    hosts = {host: {"ansible_ssh_private_key_file": f"{remote}/keys/{names[path]}"}
             for host, path in sorted(keys.items()) if host != "bastion"}
    return yaml.safe_dump({"all": {"hosts": hosts}}, sort_keys=True)


def remote_settings(settings: ansible_settings.AnsibleSettings, cluster: Cluster, remote: str,
                    fact_cache: str, control_dir: str, bastion_key: str | None
                    ) -> ansible_settings.AnsibleSettings:
    """Pure: this run's Ansible settings with the executor's paths."""
    proxy = None
    bastion = cluster.spec.ssh.bastion
    if bastion is not None and bastion_key is not None:
        ssh = cluster.spec.ssh.model_copy(
            update={"bastion": bastion.model_copy(update={"identity_file": Path(bastion_key)})})
        moved = cluster.model_copy(update={"spec": cluster.spec.model_copy(update={"ssh": ssh})})
        proxy = ansible_settings.bastion_proxy(moved, Path(f"{remote}/known_hosts"))
    return replace(settings, known_hosts=Path(f"{remote}/known_hosts"),
                   fact_cache=Path(fact_cache), control_dir=Path(control_dir),
                   proxy_jump=proxy, bastion_log=None)


def _link_or_copy(src: str, dst: str) -> object:
    try:
        os.link(src, dst)
        return dst
    except OSError:
        return shutil.copy2(src, dst)


def _copy_tree(src: Path, dst: Path) -> None:
    if src.is_dir():  # never a job directory or artifacts of a run into another job
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns(".git", "executor-job*", "artifacts"),
                        dirs_exist_ok=True)


def _private_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(src, dst)
    dst.chmod(0o600)


def job_files(files: Sequence[str], remote: str) -> dict[str, str]:
    """Pure: where each file of this machine a playbook's variables name goes in the job
    (``files/I/NAME``: the name kept, a chart archive's too)."""
    return {str(path): f"{remote}/files/{i}/{Path(path).name}" for i, path in enumerate(files)}


def carry_paths(value: Any, carried: Mapping[str, str]) -> Any:
    """Pure: playbook variables with each :class:`ControllerFile` replaced by its copy in
    the job (``carried``: :func:`job_files`)."""
    if isinstance(value, ControllerFile):
        return carried[str(value)]
    if isinstance(value, Mapping):
        return {key: carry_paths(inner, carried) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [carry_paths(inner, carried) for inner in value]
    return value


def _carry(src: Path, dst: Path, ident: str) -> None:
    try:
        _private_copy(src, dst)
    except FileNotFoundError as error:
        raise AnsibleError(f"{ident}: {src}, which the playbook reads, is missing here",
                           hint="rerun the same command (deepctl writes it again)") from error


class JobBuilder:
    """Builds :class:`RemoteJob` s for one deepctl run (``PlaybookRun.remote``)."""

    def __init__(self, target: ExecutorTarget, cluster: Cluster, state: StateDir, tree: Path,
                 settings: ansible_settings.AnsibleSettings, base_dir: Path | None) -> None:
        self.target, self.cluster, self.state, self.tree = target, cluster, state, tree
        self.settings, self.base_dir = settings, base_dir
        self._home: str | None = None
        self._digest = self._tree_remote = ""
        self.tree_bytes = 0  # sent by this builder: the tree when the executor lacked it

    def __call__(self, run: PlaybookRun, envvars: dict[str, str]) -> RemoteJob:
        if self._home is None:
            self._digest = tree_digest(self.tree)
            self._home, kept = remote_state(self.target, self._digest)
            self._tree_remote = f"{self._home}/{TREES_DIR}/{self._digest}"
            if not kept:  # sent once, kept by content hash for every later run
                self.tree_bytes = send_tree(self.target, self.tree, self._tree_remote)
                prune_trees(self.target, self._digest)
        token = secrets.token_hex(4)
        remote = f"{self._home}/{JOBS_DIR}/{self.cluster.name}-{run.ident}-{token}"
        control_dir = f"/tmp/deepctl-cp-{token}"  # short: sun_path holds ~100 bytes
        stage = run.private_data_dir / f"executor-job-{run.ident}"  # slices run side by side
        shutil.rmtree(stage, ignore_errors=True)
        ensure_private_dir(stage)
        kwargs = self._stage(run, envvars, stage, remote, control_dir)
        sent = sent_digests(stage / "artifacts" / run.ident)
        quoted, cp = shlex.quote(remote), shlex.quote(control_dir)
        tree = shlex.quote(self._tree_remote)
        # the worker holds a shared lock on its tree (fd 9) while it runs: never pruned then
        start = (f"umask 077 && mkdir -p {quoted} && echo $$ > {quoted}/worker.pid && "
                 f"exec 9<{tree} && {{ ! command -v flock >/dev/null || flock -s 9; }} && "
                 f"touch -c {tree} && exec ansible-runner worker --private-data-dir {quoted}")
        stop = f"kill -TERM $(cat {quoted}/worker.pid) 2>/dev/null; true"
        # a worker still running (its connection dropped): SIGTERM, so that ansible-runner
        # kills ansible-playbook, up to 10 s; then control sockets and the job go
        clean = (f"p=$(cat {quoted}/worker.pid 2>/dev/null); if [ -n \"$p\" ]; then "
                 "kill -TERM $p 2>/dev/null; i=0; while kill -0 $p 2>/dev/null && "
                 "[ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done; fi; "
                 f"for s in {cp}/*; do [ -S \"$s\" ] && ssh -o ControlPath=\"$s\" -O exit x; "
                 f"done 2>/dev/null; rm -rf {quoted} {cp}")
        tree_bytes, self.tree_bytes = self.tree_bytes, 0
        return RemoteJob(
            label=self.target.label, stage_dir=stage, kwargs=kwargs, tree_bytes=tree_bytes,
            worker_argv=ssh_argv(self.target, start), cancel_argv=ssh_argv(self.target, stop),
            cleanup_argv=ssh_argv(self.target, clean),
            finish=lambda artifacts: self._collect(artifacts, sent),
            check_command=self.target.check_command)

    def _stage(self, run: PlaybookRun, envvars: dict[str, str], stage: Path, remote: str,
               control_dir: str) -> dict[str, Any]:
        """Fill ``stage`` (the job directory as sent) and return the worker's arguments."""
        playbook = self._playbook(run.playbook, stage, remote)
        _copy_tree(run.inventory, stage / "inventory")
        keys = identity_files(self.cluster, self.base_dir)
        names = key_names(keys)
        for path, name in names.items():
            _private_copy(path, stage / "keys" / name)
        (stage / "inventory" / INVENTORY_OVERRIDES).write_text(
            inventory_overrides(keys, names, remote), encoding="utf-8")
        if self.state.known_hosts.exists():
            _private_copy(self.state.known_hosts, stage / "known_hosts")
        carried = job_files(run.files, remote)  # values files, manifests, Secrets: 0600
        for local, there in carried.items():
            _carry(Path(local), stage / Path(there).relative_to(remote), run.ident)
        shutil.copytree(FILTER_PLUGINS, stage / "plugins" / "filter",
                        ignore=shutil.ignore_patterns("__pycache__"))
        back = stage / "artifacts" / run.ident
        _copy_tree(self.state.fact_cache, back / "fact_cache")
        _copy_tree(self.state.artifacts_dir, back / "kubespray" / "artifacts")
        _copy_tree(self.state.credentials_dir, back / "kubespray" / "credentials")
        ensure_private_dir(back / "fact_cache")
        fact_cache = f"{remote}/artifacts/{run.ident}/fact_cache"
        bastion_key = names.get(keys["bastion"]) if "bastion" in keys else None
        settings = remote_settings(self.settings, self.cluster, remote, fact_cache, control_dir,
                                   f"{remote}/keys/{bastion_key}" if bastion_key else None)
        (stage / "ansible.cfg").write_text(ansible_settings.render_ansible_cfg(
            settings, ansible_settings.read_base_cfg(self.tree), Path(self._tree_remote)),
            encoding="utf-8")
        env = {key: value.replace(str(self.tree), self._tree_remote)
               for key, value in envvars.items() if key != "PATH"}
        env["ANSIBLE_CONFIG"] = f"{remote}/ansible.cfg"
        env["ANSIBLE_FILTER_PLUGINS"] = f"{remote}/plugins/filter"
        extravars = {**carry_paths(run.extravars, carried),
                     "artifacts_dir": f"{remote}/artifacts/{run.ident}/kubespray/artifacts",
                     "credentials_dir": f"{remote}/artifacts/{run.ident}/kubespray/credentials"}
        # paths inside the job as sent: transmit makes them relative, the worker joins them
        # to its own directory (a relative inventory would be taken for inventory *text*)
        kwargs = runner_kwargs(
            private_data_dir=Path(remote), playbook=playbook, inventory=stage / "inventory",
            envvars=env, extravars=extravars, ident=run.ident, cmdline=run.cmdline,
            limit=run.limit, forks=run.forks, settings=run.settings, fact_cache=Path(fact_cache))
        kwargs.pop("private_data_dir")
        return kwargs

    def _playbook(self, playbook: Path, stage: Path, remote: str) -> Path:
        """The playbook's path on the executor (its directory is sent when not in the tree)."""
        if playbook.is_relative_to(self.tree):
            return Path(self._tree_remote) / playbook.relative_to(self.tree)
        _copy_tree(playbook.parent, stage / "playbooks")
        return Path(f"{remote}/playbooks") / playbook.name

    def _collect(self, artifact_dir: Path, sent: dict[str, str]) -> None:
        """Facts, Kubespray's artifacts (admin.conf) and credentials back into the state dir,
        private; then off the run's artifact directory. Only what the run wrote or changed
        (``sent``: the digests of what went): a slice running beside it on another executor
        may have renewed the other hosts' facts meanwhile."""
        back = artifact_dir / "kubespray"
        for source, target in ((artifact_dir / "fact_cache", self.state.fact_cache),
                               (back / "artifacts", self.state.artifacts_dir),
                               (back / "credentials", self.state.credentials_dir)):
            if not source.is_dir():
                continue
            for path in sorted(source.rglob("*")):
                key = str(path.relative_to(artifact_dir))
                if path.is_file() and sent.get(key) != _digest(path):
                    _private_copy(path, target / path.relative_to(source))
        shutil.rmtree(back, ignore_errors=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sent_digests(back: Path) -> dict[str, str]:
    """The files of a job's ``artifacts/IDENT`` as sent (path under it -> sha256)."""
    if not back.is_dir():
        return {}
    return {str(path.relative_to(back)): _digest(path)
            for path in sorted(back.rglob("*")) if path.is_file()}


def job_builder(target: ExecutorTarget | None, cluster: Cluster, state: StateDir, tree: Path,
                settings: ansible_settings.AnsibleSettings, base_dir: Path | None
                ) -> Callable[[PlaybookRun, dict[str, str]], RemoteJob] | None:
    """``PlaybookRun.remote`` for this run: a builder when there is an executor, else None."""
    if target is None:
        return None
    return JobBuilder(target, cluster, state, tree, settings, base_dir)
