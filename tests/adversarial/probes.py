"""Probes for the adversarial tests: a loopback HTTP server that counts requests, and
peak memory of a klint run measured from a child process (not guessed)."""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO


@dataclass
class Loopback:
    """A server on 127.0.0.1 that answers every request with a tiny schema and counts it."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def loopback_server(lifetime: float = 60.0) -> Iterator[Loopback]:
    """Serve on an ephemeral loopback port; stops on exit or after ``lifetime`` seconds."""
    probe = Loopback("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            probe.requests.append(self.path)
            body = json.dumps({"type": "string"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    probe.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    stopper = threading.Timer(lifetime, server.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield probe
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Measured:
    """A finished klint run and the peak resident memory of its process tree."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_bytes: int
    seconds: float


# Runs klint as a child of a fresh interpreter, so RUSAGE_CHILDREN covers that run only.
_MEASURE = """
import json, resource, subprocess, sys, time
args, stdin_path, cwd = json.loads(sys.argv[1])
started = time.monotonic()
with open(stdin_path or "/dev/null", "rb") as stdin:
    done = subprocess.run(
        [sys.executable, "-m", "klint", *args], cwd=cwd, stdin=stdin,
        capture_output=True, timeout=120,
    )
elapsed = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
json.dump({"returncode": done.returncode, "stdout": done.stdout.decode("utf-8", "replace"),
           "stderr": done.stderr.decode("utf-8", "replace"), "peak": peak,
           "seconds": elapsed}, sys.stdout)
"""


def measured_run(*args: str, cwd: Path, stdin_path: Path | None = None) -> Measured:
    """Run ``klint ARGS`` and measure its peak RSS (Linux ``ru_maxrss`` is in KiB)."""
    payload = json.dumps([list(args), str(stdin_path) if stdin_path else None, str(cwd)])
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, payload],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result = json.loads(done.stdout)
    return Measured(
        result["returncode"],
        result["stdout"],
        result["stderr"],
        int(result["peak"]),
        float(result["seconds"]),
    )
