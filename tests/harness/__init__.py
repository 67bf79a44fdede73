"""Integration-test harness: real sshd "machines" on loopback with stand-in GPU/Kube tools.

See ``tests/harness/README.md``. The pytest fixtures live in ``tests.harness.fixtures``.
"""

from .addresses import Endpoint, unreachable_endpoint
from .farm import HostFarm
from .profiles import GPU_PROFILES, OS_RELEASES, HostProfile
from .sshd import HostStartError, TestHost
from .support import missing_requirements

__all__ = [
    "GPU_PROFILES",
    "OS_RELEASES",
    "Endpoint",
    "HostFarm",
    "HostProfile",
    "HostStartError",
    "TestHost",
    "missing_requirements",
    "unreachable_endpoint",
]
