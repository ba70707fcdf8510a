"""Go render children collect garbage less often, with a soft limit under their budget."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from klint.sources.budget import GO_GC_PERCENT, go_runtime_env
from klint.sources.kustomize.tool import KustomizeTool, ToolBudget, run_tool


def test_the_soft_limit_is_three_quarters_of_the_budget() -> None:
    assert go_runtime_env(800 * 1024 * 1024) == {
        "GOGC": str(GO_GC_PERCENT),
        "GOMEMLIMIT": str(600 * 1024 * 1024),
    }
    assert go_runtime_env(None) == {}  # no budget: Go's own defaults


def test_the_kustomize_tool_runs_with_them(tmp_path: Path) -> None:
    # a stand-in tool that prints its environment: the settings reach the child, and
    # nothing else of klint's environment does
    script = tmp_path / "tool.py"
    script.write_text("import json, os, sys\nprint(json.dumps(dict(os.environ)))\n")
    tool = KustomizeTool((sys.executable, str(script)), None, "stand-in")
    home = tmp_path / "home"
    home.mkdir()
    budget = ToolBudget(memory=512 * 1024 * 1024, max_bytes=1024 * 1024)
    out, _ = run_tool(tool, tmp_path, home, 30, tmp_path, tmp_path, tmp_path, budget)
    env = json.loads(out)
    assert env["GOGC"] == str(GO_GC_PERCENT)
    assert env["GOMEMLIMIT"] == str(384 * 1024 * 1024)
    assert env["HOME"] == str(home)
