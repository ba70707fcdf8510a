"""A build that runs out of its memory budget is tried once more with Go's collector at its
own pace: whether a build near the budget passes should not depend on the machine's load."""

from __future__ import annotations

from typing import Any

import pytest

from klint.sources.budget import GO_GC_PERCENT, go_runtime_env
from klint.sources.kustomize.build import _run_within_memory
from klint.sources.kustomize.sandbox import KustomizeBuildError


def recorder(failures: list[KustomizeBuildError]) -> tuple[list[dict[str, Any]], Any]:
    calls: list[dict[str, Any]] = []

    def run(**kwargs: Any) -> tuple[str, str]:
        calls.append(kwargs)
        if failures:
            raise failures.pop(0)
        return "out", "err"

    return calls, run


def test_out_of_memory_is_tried_once_more_frugally() -> None:
    calls, run = recorder([KustomizeBuildError("needed more", out_of_memory=True)])
    assert _run_within_memory(run, unrestricted=True) == ("out", "err")
    assert calls == [
        {"unrestricted": True},
        {"unrestricted": True, "frugal": True},
    ]


def test_other_failures_and_a_second_shortage_are_reported() -> None:
    calls, run = recorder([KustomizeBuildError("bad kustomization")])
    with pytest.raises(KustomizeBuildError, match="bad kustomization"):
        _run_within_memory(run)
    assert len(calls) == 1
    twice = [KustomizeBuildError(f"short {n}", out_of_memory=True) for n in (1, 2)]
    calls, run = recorder(twice)
    with pytest.raises(KustomizeBuildError, match="short 2"):
        _run_within_memory(run)
    assert len(calls) == 2


def test_the_frugal_environment_collects_at_go_pace_below_half_the_budget() -> None:
    budget = 768 * 1024 * 1024
    assert go_runtime_env(budget) == {
        "GOGC": str(GO_GC_PERCENT),
        "GOMEMLIMIT": str(budget * 3 // 4),
    }
    assert go_runtime_env(budget, frugal=True) == {"GOGC": "100", "GOMEMLIMIT": str(budget // 2)}
    assert go_runtime_env(None, frugal=True) == {}
