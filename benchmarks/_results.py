"""What the benchmark scripts share: the machine's load, and writing ``results/<name>.{json,md}``."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Callable


def machine_load() -> dict:
    """Load averages and CPU count: on a shared machine, the context every number needs."""
    return {"loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}


def write_results(out: str | Path, name: str, report: dict, markdown: Callable[[dict], str], started: float) -> Path:
    """Stamp the report with the load after the run and its wall time; write JSON and markdown."""
    report["machine_after"] = machine_load()
    report["wall_s"] = time.time() - started
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / f"{name}.md").write_text(markdown(report))
    return out_dir / f"{name}.json"
