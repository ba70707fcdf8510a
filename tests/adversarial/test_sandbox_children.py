"""Children die with klint (issue 22, class 1): a SIGKILLed klint leaves no render running,
whether the child is forked (Helm's render child) or a program (kustomize). Without
``PR_SET_PDEATHSIG`` both kept running: one held 3.8 GB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from klint.sandbox import child_env, enter_child
from tests.conftest import REPO, needs_helm_sdk

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")


def descendants(pid: int) -> Iterator[int]:
    """Every process below ``pid`` (Linux ``/proc/PID/task/TID/children``)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                children = [int(c) for c in handle.read().split()]
        except OSError:
            continue
        for child in children:
            yield child
            yield from descendants(child)


def running(pid: int) -> bool:
    """Alive and not a zombie (a dead child nobody reaped yet is gone for our purpose)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_klint_while_rendering(args: list[str], cwd: Path, env: dict[str, str]) -> list[int]:
    """Start klint, wait for its render child, SIGKILL klint; the children it had."""
    klint = subprocess.Popen(
        [sys.executable, "-m", "klint", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while time.monotonic() < deadline and not children:
            time.sleep(0.5)
            children = [c for c in descendants(klint.pid) if running(c)]
        assert children, "klint started no child"
        time.sleep(1.0)  # the child is busy rendering now
        children = [c for c in descendants(klint.pid) if running(c)]
    finally:
        klint.send_signal(signal.SIGKILL)
        klint.wait(10)
    return children


def gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if running(pid)]
    for pid in alive:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    return alive


def klint_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@needs_helm_sdk
def test_the_helm_render_child_dies_with_klint(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    templates = tmp_path / "chart" / "templates"
    templates.mkdir(parents=True)
    (tmp_path / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 1\n")
    # about three minutes of rendering in a few MiB
    (templates / "x.yaml").write_text(
        "{{ range until 40000 }}{{ range until 40000 }}{{ end }}{{ end }}\n"
    )
    args = ["check", "--render-timeout", "600", "chart"]
    children = kill_klint_while_rendering(args, tmp_path, klint_env())
    assert gone_within(children, 10) == []


def test_a_kustomize_program_dies_with_klint(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "kustomize"
    fake.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            if [ "$1" = version ]; then echo v5.9.9; exit 0; fi
            exec sleep 300
            """
        )
    )
    fake.chmod(0o755)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources: []\n")
    env = klint_env(PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")
    children = kill_klint_while_rendering(
        ["check", "--render-timeout", "600", "overlay"], tmp_path, env
    )
    assert gone_within(children, 10) == []


def test_enter_child_leaves_no_network_and_no_ci_environment(tmp_path: Path) -> None:
    """A forked child in the sandbox reaches no loopback listener (where namespaces exist)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    env = child_env(tmp_path)
    assert not [name for name in env if name.startswith(("GITHUB_", "ACTIONS_", "RUNNER_"))]
    assert env["GOPROXY"] == "off" and env["HOME"] == str(tmp_path)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        isolated = enter_child(os.getppid())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            answer = b"connected"
        except OSError:
            answer = b"refused"
        os.write(write, (b"isolated " if isolated else b"open ") + answer)
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    listener.close()
    if answer.startswith("isolated"):
        assert answer == "isolated refused"
    else:
        pytest.skip("no user namespaces here: the pre-engine refusals are tested elsewhere")
