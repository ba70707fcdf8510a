"""Finding the kustomize tool (kustomize or kubectl kustomize), its version, and running it."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from klint.sandbox import preexec
from klint.sources.budget import (
    crashed,
    go_runtime_env,
    memory_limiter,
    memory_problem,
    output_problem,
    ran_out_of_memory,
)
from klint.sources.kustomize.sandbox import (
    KustomizeBuildError,
    OutputTooLarge,
    bounded_communicate,
    kill_group,
    run_quietly,
    sandbox_env,
)
from klint.sources.kustomize.tool_versions import remembered_version

MIN_VERSION = (4, 3, 0)
"""Origin annotations need kustomize v4.3.0 (kubectl 1.23)."""
TRANSFORMER_ANNOTATIONS_VERSION = (4, 5, 0)
"""``transformerAnnotations`` needs kustomize v4.5.0 (kubectl 1.24)."""

Version = tuple[int, int, int]


_KUBECTL_KUSTOMIZE = {
    21: (4, 0, 5),
    22: (4, 2, 0),
    23: (4, 4, 1),
    24: (4, 5, 4),
    25: (4, 5, 7),
    26: (4, 5, 7),
}


@dataclass(frozen=True)
class KustomizeTool:
    """How kustomize is run: the command prefix, the kustomize version and a label."""

    argv: tuple[str, ...]
    version: Version | None
    label: str


def find_tool() -> KustomizeTool:
    """``kustomize build`` when on PATH, else ``kubectl kustomize``; raises if neither fits."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        version = _kustomize_version(kustomize)
        tool = KustomizeTool((kustomize, "build"), version, f"kustomize {_show(version)}")
    else:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise KustomizeBuildError(
                "neither kustomize nor kubectl is on PATH: install one to lint kustomizations",
                repeatable=False,
            )
        version = _kubectl_kustomize_version(kubectl)
        tool = KustomizeTool(
            (kubectl, "kustomize"), version, f"kubectl kustomize (kustomize {_show(version)})"
        )
    if version is not None and version < MIN_VERSION:
        raise KustomizeBuildError(
            f"{tool.label} is too old: klint needs kustomize >= v4.3.0 (kubectl >= 1.23) "
            "for origin annotations; install a newer kustomize or kubectl",
            repeatable=False,
        )
    return tool


def _show(version: Version | None) -> str:
    return "v" + ".".join(map(str, version)) if version is not None else "(unknown version)"


def _parse_version(text: str) -> Version | None:
    marker = text.find("kustomize/")
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text[marker:] if marker >= 0 else text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


@functools.lru_cache(maxsize=8)
def _kustomize_version(executable: str) -> Version | None:
    return remembered_version(executable, "kustomize", _ask_kustomize)


def _ask_kustomize(executable: str) -> Version | None:
    output = run_quietly([executable, "version"])
    return _parse_version(output) if output else None


@functools.lru_cache(maxsize=8)
def _kubectl_kustomize_version(executable: str) -> Version | None:
    return remembered_version(executable, "kubectl", _ask_kubectl)


def _ask_kubectl(executable: str) -> Version | None:
    output = run_quietly([executable, "version", "--client", "-o", "json"])
    try:
        info = json.loads(output) if output else {}
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    if isinstance(info.get("kustomizeVersion"), str):
        return _parse_version(info["kustomizeVersion"])
    client = info.get("clientVersion")
    if isinstance(client, dict):
        minor = re.match(r"\d+", str(client.get("minor", "")))
        if str(client.get("major")) == "1" and minor is not None:
            number = int(minor.group(0))
            if number < 21:
                return (2, 0, 3)
            return _KUBECTL_KUSTOMIZE.get(number)
    return None


def run_tool(
    tool: KustomizeTool,
    temp_build: Path,
    home: Path,
    timeout: float,
    real_root: Path,
    temp_root: Path,
    build_dir: Path,
    budget: ToolBudget | None = None,
    on_spawn: Callable[[], None] | None = None,
    unrestricted: bool = False,
    frugal: bool = False,
) -> tuple[str, str]:
    """Run the tool: (stdout, stderr); errors become :class:`KustomizeBuildError`.

    ``budget`` caps the tool's memory (``setrlimit`` before it starts) and how much output
    is read; a tool over either is stopped and the build fails with a message saying which
    limit and how to raise it. ``on_spawn`` is called once the tool's process exists.
    ``unrestricted`` adds ``--load-restrictor LoadRestrictionsNone`` (files outside the
    kustomization's folder: the copy holds only the repository's files); ``frugal`` runs
    Go's collector at its own pace (:func:`~klint.sources.budget.go_runtime_env`).
    """
    budget = budget or ToolBudget()
    argv = [*tool.argv, str(temp_build)]
    if unrestricted:
        argv += ["--load-restrictor", "LoadRestrictionsNone"]
    limiter = memory_limiter(budget.memory) if budget.memory is not None else None
    try:
        process = subprocess.Popen(
            argv,
            cwd=temp_root,
            env={**sandbox_env(home), **go_runtime_env(budget.memory, frugal)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec(limiter),
        )
    except OSError as error:
        raise KustomizeBuildError(
            f"cannot run {tool.label}: {error}", build_dir, repeatable=False
        ) from None
    if on_spawn is not None:
        on_spawn()
    try:
        out, err = bounded_communicate(process, timeout, budget.max_bytes)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise KustomizeBuildError(
            f"{tool.label} did not finish within {timeout:g} s", build_dir, repeatable=False
        ) from None
    except OutputTooLarge as error:
        kill_group(process)
        message = output_problem(tool.label, error.limit)
        raise KustomizeBuildError(message, build_dir) from None
    if process.returncode != 0:
        message = _clean_stderr(err.decode("utf-8", "replace"))
        for temporary in {os.path.realpath(temp_root), str(temp_root)}:
            message = message.replace(temporary, str(real_root))
        # killed, out of memory or a Go runtime crash: the machine's doing, not the input's
        repeatable = process.returncode > 0 and not crashed(err.decode("utf-8", "replace"))
        out_of_memory = budget.memory is not None and ran_out_of_memory(message)
        if budget.memory is not None and out_of_memory:
            message = memory_problem(tool.label, budget.memory)
            repeatable = False
        if "buildMetadata" in message and "unknown field" in message:
            message = (
                f"{tool.label} does not support origin annotations (needs kustomize "
                f">= v4.3.0 / kubectl >= 1.23): {message}"
            )
        raise KustomizeBuildError(
            message or f"{tool.label} failed",
            build_dir,
            repeatable=repeatable,
            out_of_memory=out_of_memory,
        )
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


@dataclass(frozen=True)
class ToolBudget:
    """The tool's memory in bytes and the most output read from it (None: unbounded)."""

    memory: int | None = None
    max_bytes: int | None = None


def load_restricted(message: str) -> bool:
    """Whether a build failed only because kustomize's default load restrictor refuses a
    file outside the kustomization's folder (``--load-restrictor LoadRestrictionsNone``)."""
    return "security; file '" in message and "is not in or below" in message


def _clean_stderr(text: str) -> str:
    """The error itself, without kubectl's klog wrapper or kustomize's ``Error:`` prefix."""
    block = re.search(r'"command failed" err=<\n(.*?)\n\s*>\s*$', text, re.DOTALL)
    if block is not None:
        text = "\n".join(line.removeprefix("\t") for line in block.group(1).splitlines())
    else:
        quoted = re.search(r'"command failed" err="(.*)"\s*$', text, re.DOTALL)
        if quoted is not None:
            try:
                text = json.loads(f'"{quoted.group(1)}"')
            except ValueError:
                text = quoted.group(1)
    lines = [
        re.sub(r"^(?:Error|error): ", "", line)
        for line in text.strip().splitlines()
        if not line.startswith("# Warning:")
    ]
    return "\n".join(line for line in lines if line.strip()).strip()
