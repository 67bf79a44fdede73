"""A failed Ansible task, told the way its user needs it (pure: event data in, data out).

:func:`explain` turns the ``event_data`` of a ``runner_on_failed`` or ``runner_on_unreachable``
event (ansible-runner) into an :class:`Explanation`: which Kubespray component (the event's
role) and file failed, what the result says (an assert's condition, the URL a download tried,
the ``msg`` of failed loop items, the tail of stderr), whether Kubespray hid the output
(``no_log``: the result holds only ``censored``) and how many attempts were made.

Some of that is only in earlier events of the same host: :func:`observe` keeps it in a
:class:`HostTrail` (the URL Kubespray showed, the file a download was writing).
:func:`retry_of` reads a ``runner_retry`` event ("FAILED - RETRYING").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

STDERR_TAIL_LINES = 10
STDOUT_TAIL_LINES = 5
MAX_DETAIL_LINES = 8
MAX_LINE = 300
HIDDEN_MESSAGE = "Kubespray hides this task's output (no_log)"
SHOW_HIDDEN_VAR = "unsafe_show_logs"  # Kubespray's switch for its no_log tasks
# Kubespray's download tasks: the file being downloaded is in this fact, set just before.
CACHED_FILE_FACT = "file_path_cached"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


@dataclass(frozen=True)
class Explanation:
    """What failed, where, and what the result said; ``None``/empty: not known."""

    task: str
    message: str
    component: str | None = None  # the event's role, e.g. container-engine/runc
    task_path: str | None = None  # relative to the playbook tree, e.g. roles/x/tasks/y.yml:12
    condition: str | None = None  # an assert's condition (``assertion``)
    url: str | None = None  # the URL a download tried (credentials removed)
    file: str | None = None  # the file a hidden download was writing
    hidden: bool = False  # the result was censored (no_log)
    details: tuple[str, ...] = ()
    stderr_tail: tuple[str, ...] = ()
    attempts: int | None = None  # attempts made, when the task was retried (until/retries)
    unreachable: bool = False
    action: str | None = None  # the module, e.g. ansible.builtin.get_url

    @property
    def download(self) -> bool:
        """A file download (get_url), or one Kubespray hid (its downloads run with no_log)."""
        return (self.hidden and self.file is not None) or (self.action or "").endswith("get_url")


@dataclass(frozen=True)
class Retry:
    """One "FAILED - RETRYING": attempt ``attempt`` of ``attempts`` failed, another follows."""

    host: str
    task: str
    attempt: int
    attempts: int
    reason: str
    component: str | None = None
    file: str | None = None  # the file a hidden download was writing (from the host's trail)
    url: str | None = None  # the URL that download tried, when deepctl could tell it


@dataclass
class HostTrail:
    """What earlier results of one host say about its next failure (see :func:`observe`)."""

    source: str = ""  # the task file these facts came from
    line: int = 0
    url: str | None = None
    file: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def safe_url(url: str) -> str:
    """``url`` without ``user:password@`` (Kubespray hides downloads for that reason)."""
    return _USERINFO.sub(r"\1", url.strip())


def short_task_path(path: str) -> str:
    """``/x/kubespray/roles/a/tasks/b.yml:12`` -> ``roles/a/tasks/b.yml:12`` (or the name)."""
    for marker in ("/roles/", "/playbooks/"):
        at = path.rfind(marker)
        if at >= 0:
            return path[at + 1:]
    return PurePosixPath(path).name if path else path


def _split_path(path: str) -> tuple[str, int]:
    source, _, line = path.rpartition(":")
    return (source, int(line)) if line.isdigit() and source else (path, 0)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(str(v) for v in value).strip()
    return ""


def _tail(text: str, lines: int) -> tuple[str, ...]:
    return tuple(line.rstrip() for line in text.rstrip().splitlines()[-lines:])


def observe(trail: HostTrail, data: Mapping[str, Any]) -> None:
    """Fold the ``event_data`` of one ``runner_on_ok`` event into its host's trail.

    A trail belongs to one pass through one task file: a task of another file, or an
    earlier line of the same file (the file included again, for the next download),
    starts a new one.
    """
    source, line = _split_path(str(data.get("task_path") or ""))
    if source != trail.source or line < trail.line:
        trail.source, trail.url, trail.file, trail.extra = source, None, None, {}
    trail.line = line
    res = data.get("res")
    if not isinstance(res, Mapping) or "censored" in res:
        return
    facts = res.get("ansible_facts")
    if isinstance(facts, Mapping) and isinstance(facts.get(CACHED_FILE_FACT), str):
        trail.file = PurePosixPath(facts[CACHED_FILE_FACT]).name
    for candidate in (res.get("url"), res.get("msg")):
        if isinstance(candidate, str) and _URL.match(candidate.strip()):
            trail.url = safe_url(candidate)


def retry_of(data: Mapping[str, Any], trail: HostTrail | None = None) -> Retry | None:
    """The ``event_data`` of a ``runner_retry`` event as a :class:`Retry`; for a hidden
    download, the file it writes from the host's ``trail``."""
    res = data.get("res")
    if not isinstance(res, Mapping):
        return None
    attempt, total = res.get("attempts"), res.get("retries")
    if not isinstance(attempt, int) or not isinstance(total, int):
        return None
    hidden = "censored" in res
    reason = "output hidden (no_log)" if hidden else _first_line(res)
    return Retry(host=str(data.get("host") or ""), task=str(data.get("task") or ""),
                 attempt=attempt, attempts=total, reason=reason,
                 component=_component(data), file=trail.file if (hidden and trail) else None)


def _first_line(res: Mapping[str, Any]) -> str:
    for key in ("msg", "stderr", "reason", "module_stderr", "stdout"):
        text = _text(res.get(key))
        if text:
            return _clip(text.splitlines()[0])
    return ""


def _component(data: Mapping[str, Any]) -> str | None:
    role = data.get("resolved_role") or data.get("role")
    return str(role) if role else None


def _item_lines(results: Any) -> list[str]:
    """``item X: msg (last stderr line)`` for each failed item of a loop."""
    lines = []
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, Mapping) or not (item.get("failed") or item.get("unreachable")):
            continue
        label = item.get("_ansible_item_label", item.get("item"))
        if "censored" in item:
            said = "output hidden (no_log)"
        else:
            said = _first_line(item) or "failed"
            stderr = _tail(_text(item.get("stderr")), 1)
            if stderr and stderr[0] not in said:
                said += f" ({_clip(stderr[0])})"
        lines.append(f"item {_clip(str(label))}: {said}")
    return lines


def _command(res: Mapping[str, Any]) -> str:
    cmd = res.get("cmd")
    if isinstance(cmd, list):
        cmd = " ".join(str(part) for part in cmd)
    return _clip(cmd) if isinstance(cmd, str) and cmd.strip() else ""


def _details(res: Mapping[str, Any]) -> list[str]:
    lines = []
    if (command := _command(res)) and res.get("rc") not in (None, 0):
        lines.append(f"command: {command} (exit {res['rc']})")
    details = res.get("details")
    if isinstance(details, str | list) and _text(details):
        lines += [f"details: {_clip(line)}" for line in _text(details).splitlines()]
    elif isinstance(details, Mapping):
        lines += [f"details: {_clip(f'{k}: {v}')}" for k, v in details.items()]
    lines += _item_lines(res.get("results"))
    reason = _text(res.get("reason"))
    if reason and reason != _text(res.get("msg")):
        lines.append(f"reason: {_clip(reason)}")
    return lines[:MAX_DETAIL_LINES]


def _message(res: Mapping[str, Any], unreachable: bool) -> str:
    if "censored" in res:
        return HIDDEN_MESSAGE
    msg = _text(res.get("msg"))
    if msg == "Assertion failed" and isinstance(res.get("assertion"), str):
        return f"assertion failed: {res['assertion']}"
    if msg == "MODULE FAILURE" and _text(res.get("module_stderr")):
        return f"module failure: {_clip(_text(res['module_stderr']).splitlines()[-1])}"
    if msg:
        return msg if "\n" not in msg else _clip(msg)
    first = _first_line(res)
    if first:
        return first
    return "unreachable" if unreachable else "failed (no message)"


def _stderr(res: Mapping[str, Any]) -> tuple[str, ...]:
    stderr = _text(res.get("stderr")) or _text(res.get("module_stderr"))
    if stderr:
        return _tail(stderr, STDERR_TAIL_LINES)
    rc = res.get("rc")
    stdout = _text(res.get("stdout"))
    if stdout and isinstance(rc, int) and rc != 0:
        return _tail(stdout, STDOUT_TAIL_LINES)
    return ()


def explain(data: Mapping[str, Any], trail: HostTrail | None = None,
            unreachable: bool = False) -> Explanation:
    """The ``event_data`` of a failed (or unreachable) task as an :class:`Explanation`."""
    raw = data.get("res")
    res: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    hidden = "censored" in res
    url = res.get("url") if isinstance(res.get("url"), str) else None
    attempts = res.get("attempts")
    condition = res.get("assertion")
    return Explanation(
        task=str(data.get("task") or ""),
        message=_message(res, unreachable),
        component=_component(data),
        task_path=short_task_path(str(data.get("task_path") or "")) or None,
        condition=condition if isinstance(condition, str) else None,
        url=safe_url(url) if url else (trail.url if trail else None),
        file=trail.file if (hidden and trail) else None,
        hidden=hidden,
        details=tuple(_details(res)),
        stderr_tail=() if hidden else _stderr(res),
        # Ansible reports ``attempts: retries`` on the last failure, after retries + 1 runs
        # (ansible/executor/task_executor.py, "we ran out of attempts").
        attempts=attempts + 1 if isinstance(attempts, int) and not unreachable else None,
        unreachable=unreachable,
        action=str(data.get("resolved_action") or data.get("task_action") or "") or None,
    )


def hints(explanation: Explanation, spec_path: str, resume: str | None = None) -> list[str]:
    """What the person can do next, as commands that run as printed."""
    out = []
    then = f", then run `{resume}`" if resume else ", then resume the run"
    if explanation.hidden:
        out.append(f"to see this task's output, set `{SHOW_HIDDEN_VAR}: true` under "
                   f"spec.kubesprayVars in {spec_path}{then} (remove it afterwards: it also "
                   "shows passwords)")
    if explanation.url and explanation.download:
        out.append(f"{explanation.url} is what the host tried to fetch: check that the host "
                   "reaches it, or mirror it and point spec.kubesprayVars (files_repo or the "
                   "*_download_url variables) at the mirror")
    return out
