"""Running kustomize in klint's sandbox (:mod:`klint.sandbox`): no credentials, no git, no
network where possible, killed with klint; bounded output."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from klint.sandbox import child_env, preexec


class KustomizeBuildError(Exception):
    """A kustomization could not be built; ``message`` says why (the tool's stderr, trimmed).

    ``repeatable`` is False when the failure depends on the machine or the moment (a time or
    memory limit, the tool missing, killed or crashing), not on the kustomization itself.
    """

    def __init__(
        self,
        message: str,
        directory: Path | None = None,
        *,
        repeatable: bool = True,
        out_of_memory: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.directory = directory
        self.repeatable = repeatable
        self.out_of_memory = out_of_memory  # the tool ran out of its memory budget


def run_quietly(argv: list[str]) -> str:
    """Stdout of a short, sandboxed command ('' on failure)."""
    with tempfile.TemporaryDirectory(prefix="klint-kustomize-") as home:
        try:
            result = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=30,
                env=sandbox_env(Path(home)),
                stdin=subprocess.DEVNULL,
                check=False,
                preexec_fn=preexec(),
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return result.stdout if result.returncode == 0 else ""


def sandbox_env(home: Path) -> dict[str, str]:
    """The child environment of :mod:`klint.sandbox` (nothing of the CI's, git refused)."""
    return child_env(home)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - no process groups
        process.kill()
    process.communicate()


class OutputTooLarge(Exception):
    """A child wrote more than the limit to its standard output."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"more than {limit} bytes of output")
        self.size = size
        self.limit = limit


STDERR_LIMIT = 1024 * 1024


def bounded_communicate(
    process: subprocess.Popen[bytes], timeout: float, max_bytes: int | None
) -> tuple[bytes, bytes]:
    """:meth:`~subprocess.Popen.communicate` that never holds more than ``max_bytes`` of
    standard output (:class:`OutputTooLarge`) nor more than 1 MiB of standard error."""
    import selectors
    import time

    assert process.stdout is not None and process.stderr is not None
    chunks: dict[int, list[bytes]] = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    limits = {process.stdout.fileno(): max_bytes, process.stderr.fileno(): STDERR_LIMIT}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(process.args, timeout)
            for key, _ in selector.select(min(left, 1.0)):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                sizes[key.fd] += len(data)
                limit = limits[key.fd]
                if (
                    key.fd == process.stdout.fileno()
                    and limit is not None
                    and sizes[key.fd] > limit
                ):
                    raise OutputTooLarge(sizes[key.fd], limit)
                if limit is None or sizes[key.fd] - len(data) < limit:
                    chunks[key.fd].append(data)
    process.wait(max(0.1, deadline - time.monotonic()))
    return b"".join(chunks[process.stdout.fileno()]), b"".join(chunks[process.stderr.fileno()])
