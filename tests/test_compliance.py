"""Compliance reports: per-framework control status, Markdown and a self-contained HTML page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from klint.catalog import load_catalog
from klint.compliance import Status, build
from klint.reporters.base import ReportContext
from klint.reporters.compliance import ComplianceReporter
from klint.reporters.html_report import HtmlReporter
from klint.selection import select_rules
from tests.conftest import REPO, lint_text

INSECURE = (REPO / "fixtures" / "examples" / "insecure-deployment.yaml").read_text()


def _context() -> ReportContext:
    catalog = load_catalog()
    return ReportContext(rules=select_rules(catalog, ["all"]), cwd=REPO, root=REPO, catalog=catalog)


def test_controls_fail_pass_and_not_checked() -> None:
    catalog = load_catalog()
    report = lint_text(INSECURE, profiles=["pss-baseline"])
    ran = select_rules(catalog, ["pss-baseline"])
    frameworks = {f.key: f for f in build(report, catalog, ran)}
    baseline = {c.id: c for c in frameworks["pss-baseline"].controls}
    assert baseline["privileged"].status is Status.FAIL
    assert baseline["privileged"].objects == ["Deployment/shop/web"]
    assert baseline["sysctls"].status is Status.PASS
    restricted = {c.id: c for c in frameworks["pss-restricted"].controls}
    assert restricted["runAsNonRoot"].status is Status.NOT_CHECKED  # not in pss-baseline
    cis = {c.id: c for c in frameworks["cis"].controls}
    assert cis["5.2.2"].status is Status.FAIL


def test_markdown_report_lists_every_framework() -> None:
    text = ComplianceReporter().render(lint_text(INSECURE), _context())
    for title in (
        "Pod Security Standards — baseline",
        "Pod Security Standards — restricted",
        "CIS Kubernetes Benchmark",
        "NSA/CISA Kubernetes Hardening Guide",
    ):
        assert f"## {title}" in text
    row = next(line for line in text.splitlines() if line.startswith("| Privileged Containers"))
    assert "❌ fail" in row and "Deployment/shop/web" in row and "test.yaml:23" in row


def test_html_is_self_contained() -> None:
    page = HtmlReporter().render(lint_text(INSECURE), _context())
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert page.count("<svg") == 3


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(
    _chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_html_renders_in_a_real_browser_without_requests(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(HtmlReporter().render(lint_text(INSECURE), _context()))
    shot = tmp_path / "shot.png"
    log = tmp_path / "net.log"
    base = [
        str(_chromium()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--log-net-log={log}",
    ]
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 10_000  # a real picture, not a blank page
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'id="charts"' in dom and "<svg" in dom and "Privileged Containers" in dom
    urls = re.findall(r'"url":"((?:https?|wss?)://[^"/]+)', log.read_text(errors="replace"))
    # Chromium's own time/update services may show up; the page itself must request nothing.
    own = re.compile(r"//([^/]*\.)?(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)$")
    assert [url for url in urls if not own.search(url)] == []


def test_compliance_and_html_formats_from_the_cli(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    report = run_cli(
        "check",
        "--profile",
        "all",
        "--format",
        "compliance",
        "fixtures/examples/insecure-deployment.yaml",
    )
    assert report.returncode == 1
    assert "## Pod Security Standards — baseline" in report.stdout
    target = tmp_path / "report.html"
    page = run_cli("check", "--format", "html", "-o", str(target), "fixtures/examples")
    assert page.returncode == 1 and target.read_text().startswith("<!DOCTYPE html>")


def test_restricted_rules_that_replace_baseline_ones_still_evidence_the_baseline_control() -> None:
    catalog = load_catalog()
    text = INSECURE + (
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
        "  containers: [{name: a, image: 'a:1', securityContext: {capabilities: {add: [CHOWN]}}}]\n"
        "  volumes: [{name: h, hostPath: {path: /etc}}]\n"
    )
    ran = select_rules(catalog, ["all"])
    assert {"KL107", "KL206"} <= {r.id for r in ran}  # both run; KL107 reports SYS_ADMIN
    report = lint_text(text, profiles=["all"])
    baseline = {c.id: c for c in build(report, catalog, ran)[0].controls}
    assert baseline["capabilities_baseline"].status is Status.FAIL
    assert baseline["capabilities_baseline"].objects == ["Deployment/shop/web"]  # SYS_ADMIN only
    assert baseline["hostPathVolumes"].objects == ["Pod/shop/p"]
    assert baseline["procMount"].status is Status.PASS
