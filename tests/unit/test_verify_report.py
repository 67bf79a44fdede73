"""--report: one self-contained HTML page (no script, nothing fetched), opened in a real
headless browser (Debian's chromium), which must render every node and mark the outliers."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deepctl.clusterspec.verify import VerifyConfig
from deepctl.verify.report import html_report, outliers
from deepctl.verify.results import Finding, judge_nccl_node
from tests.fixtures.nccl_logs import slowed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
SINGLE = (FIXTURES / "all_reduce_perf-1node-8xA100.txt").read_text()
A100 = "NVIDIA-A100-SXM4-40GB"


def findings() -> list[Finding]:
    found = [judge_nccl_node(f"gpu{i}", A100, 8, SINGLE, VerifyConfig()) for i in (1, 2, 3)]
    found.append(judge_nccl_node("gpu4", A100, 8, slowed(SINGLE, 0.64), VerifyConfig()))
    found.append(judge_nccl_node("l40s1", "NVIDIA-L40S", 8, slowed(SINGLE, 0.05), VerifyConfig()))
    found.append(Finding("gpu1", "dcgm-2", "pass", "11 tests passed"))
    return found


def test_outliers_are_failed_figures_and_nodes_far_below_the_median() -> None:
    found = findings()
    assert [f.verdict for f in found if f.check == "nccl-node"] == \
        ["pass", "pass", "pass", "fail", "measured"]
    assert outliers(found, 0.10) == {"gpu4", "l40s1"}


def test_the_page_is_self_contained() -> None:
    page = html_report("lab", "standard", findings(), 0.10)
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_a_real_browser_renders_the_nodes_and_marks_the_outliers(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (`apt-get install -y chromium`)")
    page = tmp_path / "report.html"
    page.write_text(html_report("lab", "standard", findings(), 0.10), encoding="utf-8")
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    bars = re.findall(r'<g class="node (\w+)" data-node="([^"]+)"', dom)
    assert bars == [("pass", "gpu1"), ("pass", "gpu2"), ("pass", "gpu3"), ("outlier", "gpu4"),
                    ("outlier", "l40s1")]
    assert dom.count('class="band"') == 4  # the A100s' expected band; none for the L40S
    assert "gpu4 (outlier)" in dom and "outliers: gpu4, l40s1" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1000,700", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
