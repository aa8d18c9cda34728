"""Benchmark harness: `huikuan bench NAME --invoices N` runs bench/NAME.py and records the result.

Each benchmark module exposes `run(invoices: int, workdir: Path) -> dict` returning its figures,
including the baseline it measured in the same run and the ratio to it. The harness adds the
machine description, prints the JSON object as the last line and writes bench/results/NAME.json.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict:
    """Describe the machine, so figures from shared, noisy hosts can be read in context."""
    mem_gib = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_1min_at_start": load,
    }


def run_benchmark(name: str, invoices: int, workdir: str | None = None, **options) -> dict:
    """Run benchmark `name`, write bench/results/<name>.json and return the result."""
    module = importlib.import_module(f"bench.{name}")
    machine = machine_info()
    started = time.time()
    if workdir:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
        figures = module.run(invoices=invoices, workdir=wd, **options)
    else:
        with tempfile.TemporaryDirectory(prefix=f"huikuan-bench-{name}-") as tmp:
            figures = module.run(invoices=invoices, workdir=Path(tmp), **options)
    result = {
        "benchmark": name,
        **figures,
        "machine": machine,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_seconds": round(time.time() - started, 3),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result
