"""What the benchmarks in bench/ share: a free port, waiting for a server process to listen,
and the percentile their reports print."""

from __future__ import annotations

import socket
import subprocess
import time

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server started next)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_listening(
    process: subprocess.Popen[bytes], port: int, *, what: str = "the server", seconds: float = 60
) -> None:
    """Return once `process` accepts connections on `port`; exit the bench (killing the
    process) if it dies or does not listen within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{what} exited with {process.returncode}") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{what} did not start")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank value at `share` (0.5: the median) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
