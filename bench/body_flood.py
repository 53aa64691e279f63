"""Body flood: six parallel 50 MB POSTs against `salesops serve`, and the server's memory.

Starts the real server (`salesops serve`, SQLite in a temporary directory) and, per scenario,
sends six 50 MB bodies at once over raw sockets:

- `declared`: unauthenticated POST /api/v1/leads with Content-Length (refused from the header),
- `chunked-api`: POST /api/v1/leads with the right token, chunked (refused by the counter),
- `chunked-slack`: POST /slack/events, well-formed but forged signature headers, chunked,

and reads the server's resident memory from /proc (VmRSS now, VmHWM peak). The reference,
run first in the same process, is six 1 KB unauthenticated POSTs: a flood should cost the
server no more memory than that. Prints a table; exits 1 when any answer is not 401/413 or a
flood grows the peak by more than FLOOD_BUDGET_MB.

    python bench/body_flood.py [--mb 50] [--parallel 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

INGEST_TOKEN = "bench-token"
CHUNK = 256 * 1024
FLOOD_BUDGET_MB = 40.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def _reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so a peak is per run."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    headers: dict[str, str]
    chunked: bool


def _post(port: int, scenario: Scenario, size: int, statuses: list[int]) -> None:
    """Send one body of `size` bytes; record the HTTP status the server answered (0: none)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = [f"POST {scenario.path} HTTP/1.1", "Host: bench"]
    head += [f"{k}: {v}" for k, v in scenario.headers.items()]
    head.append("Transfer-Encoding: chunked" if scenario.chunked else f"Content-Length: {size}")
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b"x" * CHUNK
        sent = 0
        while sent < size:
            sock.sendall(f"{CHUNK:x}\r\n".encode() + chunk + b"\r\n" if scenario.chunked else chunk)
            sent += CHUNK
        if scenario.chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed while we were sending: read its answer
    try:
        answer = sock.recv(64).decode("latin-1")
        statuses.append(int(answer.split()[1]) if answer.startswith("HTTP/") else 0)
    except OSError:
        statuses.append(0)
    finally:
        sock.close()


def _flood(pid: int, port: int, scenario: Scenario, size: int, parallel: int) -> dict[str, object]:
    _reset_peak(pid)
    before, _ = _memory_mb(pid)
    statuses: list[int] = []
    threads = [
        threading.Thread(target=_post, args=(port, scenario, size, statuses))
        for _ in range(parallel)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    time.sleep(1.0)
    after, peak = _memory_mb(pid)
    return {"before": before, "peak": peak, "after": after, "statuses": statuses, "s": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="body size per request, MB")
    parser.add_argument("--parallel", type=int, default=6)
    options = parser.parse_args()
    size = options.mb * 1024 * 1024

    workdir = Path(tempfile.mkdtemp(prefix="salesops-flood-"))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'flood.db'}",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SALESOPS_INGEST_TOKEN": INGEST_TOKEN,
    }
    salesops = [sys.executable, "-c", "from bot.cli.main import main; main()"]
    subprocess.run([*salesops, "migrate"], env=env, cwd=workdir, check=True, capture_output=True)
    serve = [*salesops, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-charts"]
    server = subprocess.Popen([*serve, "--log-level", "warning"], env=env, cwd=workdir)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        forged = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        token = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
        reference = Scenario("reference 1 KB", "/api/v1/leads", {}, chunked=False)
        scenarios = [
            Scenario("declared", "/api/v1/leads", {"Content-Type": "application/json"}, False),
            Scenario("chunked-api", "/api/v1/leads", token, chunked=True),
            Scenario("chunked-slack", "/slack/events", forged, chunked=True),
        ]
        ref = _flood(server.pid, port, reference, 1024, options.parallel)
        ref_growth = float(ref["peak"]) - float(ref["before"])  # type: ignore[arg-type]
        print(f"{options.parallel} parallel POSTs of {options.mb} MB each; memory in MB (VmRSS)")
        header = f"{'scenario':<16}{'before':>8}{'peak':>8}{'after':>8}{'growth':>8}{'vs ref':>8}"
        print(header + "  answers")
        failed = False
        for scenario in [reference, *scenarios]:
            run = ref if scenario is reference else _flood(
                server.pid, port, scenario, size, options.parallel
            )  # fmt: skip
            growth = float(run["peak"]) - float(run["before"])  # type: ignore[arg-type]
            statuses = run["statuses"]
            print(
                f"{scenario.name:<16}{run['before']:>8.0f}{run['peak']:>8.0f}{run['after']:>8.0f}"
                f"{growth:>8.1f}{growth - ref_growth:>+8.1f}  {sorted(statuses)}"  # type: ignore[arg-type]
            )
            if any(code not in (401, 413) for code in statuses):  # type: ignore[attr-defined]
                failed = True
            if scenario is not reference and growth > FLOOD_BUDGET_MB:
                failed = True
        return 1 if failed else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
