"""``klint check FILE`` on one plain manifest imports only what linting a manifest needs.

Start-up is most of an on-save run: the Kustomize planner and builder, Helm, CEL, jsonschema,
the result cache (under ``--no-cache``), typer/click and the reporters not selected must stay
out of the process. ``python -X importtime`` lists every module a process imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: a\n"
NEVER = (
    "klint.sources.kustomize",  # no kustomization above the file: not even its reader
    "klint.sources.helm",
    "klint.cel",
    "klint.untrusted",  # custom rules' schemas and message templates
    "klint.result_cache",
    "klint.cli",
    "jsonschema",
    "typer",
    "click",
    "subprocess",
    # only for a suggestion, a copied tree or a debug traceback
    "difflib",
    "shutil",
    "traceback",
    "tempfile",
)
REPORTERS = {
    "text": "klint.reporters.text",
    "json": "klint.reporters.json_report",
    "sarif": "klint.reporters.sarif",
    "github": "klint.reporters.github",
}


def imported_modules(tmp_path: Path, output_format: str) -> set[str]:
    """The modules ``klint check --no-cache`` imports for one plain manifest."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pod.yaml").write_text(POD)
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("KLINT_NO_FAST_PATH", None)
    command = [sys.executable, "-X", "importtime", "-m", "klint", "check", "--no-cache"]
    command += ["--format", output_format, "pod.yaml", "-o", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr[-2000:]  # the pod has findings
    assert (tmp_path / "out").read_text()
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rpartition("|")[2].strip() for line in lines[1:]}  # [0]: the header


@pytest.mark.parametrize("output_format", sorted(REPORTERS))
def test_a_plain_manifest_imports_no_unit_machinery(tmp_path: Path, output_format: str) -> None:
    modules = imported_modules(tmp_path, output_format)
    assert "klint.checks.pod_security" in modules  # the listing is real
    assert REPORTERS[output_format] in modules
    loaded = sorted(
        module
        for module in modules
        for never in NEVER
        if module == never or module.startswith(never + ".")
    )
    assert not loaded, f"imported for one plain manifest: {loaded}"
    others = {name for fmt, name in REPORTERS.items() if fmt not in (output_format, "text")}
    assert not others & modules, "reporters of other formats are imported"


def test_the_fast_path_leaves_the_collector_on(tmp_path: Path) -> None:
    """The collector is off only while the fast path imports the checks."""
    (tmp_path / "pod.yaml").write_text(POD)
    script = (
        "import gc, sys\n"
        "from klint.entry import _check\n"
        "code = _check({'format': 'json', 'output': 'out.json', 'paths': ['pod.yaml']})\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 10000)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["1", "True", "True"], done.stderr[-2000:]
