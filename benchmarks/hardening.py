"""Hardening acceptance numbers, measured side by side with the pre-hardening code (commit 3a52158).

Three measurements, each for the current code and the baseline in one run:

1. **Two-writer race.** ``--reps`` times, two forked processes save different routers
   to the same path at the same moment (a barrier releases them). Counted: failed
   saves, outputs that do not load (corrupt), and temp files left behind. The
   baseline writer is the old one: a fixed ``<out>.tmp`` then ``replace``.
2. **Size limits.** A zip bomb (one member that inflates to ``--bomb-mb``) and an
   artifact whose manifest inflates to ``--manifest-mb``: load time and the peak RSS
   of a fresh process loading it, for the current code and for the baseline tree.
3. **Huge query.** A training file holding one ``--query-mb`` query: wall time and peak
   RSS of ``load_dataset`` in a fresh process (current code only: the baseline is the
   issue's own measurement, > 3 min and 11 GB before it was killed, and is not re-run).

Writes ``benchmarks/results/hardening.json`` and ``.md``. ``--quick`` runs smaller
sizes and fewer reps, labelled as such in the output.

    PYTHONPATH=src nice -n 5 python benchmarks/hardening.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "3a52158"
RESULTS = ROOT / "benchmarks" / "results"


# ----------------------------------------------------------------------------- race
def _legacy_save(router, path: str) -> None:
    """The pre-hardening writer: every process shares one fixed temp name."""
    from routecraft.artifact import _archive

    real = _archive.atomic_writer

    class _FixedTmp:
        def __init__(self, target):
            self.target = Path(target)
            self.tmp = self.target.with_name(self.target.name + ".tmp")

        def __enter__(self):
            self.fh = open(self.tmp, "wb")
            return self.fh

        def __exit__(self, kind, exc, tb):
            self.fh.close()
            if kind is None:
                self.tmp.replace(self.target)
            return False

    _archive.atomic_writer = _FixedTmp
    try:
        router.save(path)
    finally:
        _archive.atomic_writer = real


def _writer(router, path: str, barrier, legacy: bool, failures) -> None:
    barrier.wait()
    try:
        (_legacy_save if legacy else lambda r, p: r.save(p))(router, path)
    except Exception:  # the failure being counted
        failures.value += 1


def race(reps: int) -> dict:
    from routecraft.artifact import load_router
    from routecraft.routers import conformance_dataset
    from routecraft.routers._knn import KNNRouter

    data = conformance_dataset()
    routers = [KNNRouter(embedder="hashing", k=k).fit(data) for k in (3, 5)]
    ctx = mp.get_context("fork")
    out = {}
    for label, legacy in (("baseline_fixed_tmp", True), ("current", False)):
        failed = corrupt = leftover = 0
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(reps):
                d = Path(tmp) / f"rep{rep}"
                d.mkdir()
                path = str(d / "same.routecraft")
                barrier, failures = ctx.Barrier(2), ctx.Value("i", 0)
                procs = [ctx.Process(target=_writer, args=(r, path, barrier, legacy, failures)) for r in routers]
                for p in procs:
                    p.start()
                for p in procs:
                    p.join(60)
                failed += failures.value
                try:
                    load_router(path)
                except Exception:
                    corrupt += 1
                leftover += sum(1 for f in d.iterdir() if f.name not in ("same.routecraft", "same.routecraft.md"))
        out[label] = {"reps": reps, "failed_saves": failed, "corrupt_outputs": corrupt, "leftover_files": leftover}
    return out


# ------------------------------------------------------------------------- size limits
def _baseline_tree(workdir: Path) -> Path:
    archive = workdir / "baseline.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), BASELINE_COMMIT, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(workdir / "baseline")
    return workdir / "baseline" / "src"


def _make_bombs(workdir: Path, bomb_mb: int, manifest_mb: int) -> dict[str, Path]:
    from routecraft.routers import BestSingleRouter, conformance_dataset

    good = workdir / "good.routecraft"
    BestSingleRouter().fit(conformance_dataset()).save(str(good))
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    chunk = b"\0" * 2**20
    digest = hashlib.sha256()
    for _ in range(bomb_mb):
        digest.update(chunk)
    listed = json.loads(members["manifest.json"])
    listed["members"]["arrays/zeros.npy"] = digest.hexdigest()  # an attacker can hash too: listed and matching
    bomb = workdir / "bomb.routecraft"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, json.dumps(listed).encode() if n == "manifest.json" else d)
        with zf.open("arrays/zeros.npy", "w", force_zip64=True) as fh:
            for _ in range(bomb_mb):
                fh.write(chunk)
    manifest = json.loads(members["manifest.json"])
    manifest["metrics"] = {"pad": " " * (manifest_mb * 2**20)}
    big = workdir / "big_manifest.routecraft"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, json.dumps(manifest).encode() if n == "manifest.json" else d)
    return {"zip_bomb": bomb, "big_manifest": big}


_PROBE = r"""
import json, sys, time
import routecraft.routers  # imports (sklearn, pandas) are not what is measured
def status(key):
    return next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith(key + ":"))
rss_before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
t = time.perf_counter()
try:
    {call}
    outcome = "accepted"
except Exception as exc:
    outcome = type(exc).__name__ + ": " + " ".join(str(exc).split())[:160]
wall = time.perf_counter() - t
print(json.dumps({{"wall_s": wall, "peak_rss_mb": status("VmHWM"), "rss_before_mb": rss_before,
                  "peak_increase_mb": status("VmHWM") - rss_before, "outcome": outcome}}))
"""


def _probe(src: Path, call: str, timeout: int = 600) -> dict:
    """Run ``call`` in a fresh interpreter on the ``src`` tree; its wall time, peak RSS and outcome."""
    code = _PROBE.format(call=call)
    env = {**os.environ, "PYTHONPATH": str(src), "ROUTECRAFT_NO_CACHE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def size_limits(bomb_mb: int, manifest_mb: int) -> dict:
    out: dict = {"bomb_inflated_mb": bomb_mb, "manifest_inflated_mb": manifest_mb}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = _make_bombs(work, bomb_mb, manifest_mb)
        baseline = _baseline_tree(work)
        for name, path in files.items():
            out[name] = {"file_kb": round(path.stat().st_size / 1024, 1)}
            call = f"from routecraft.artifact import load_router; load_router({str(path)!r})"
            out[name]["current"] = _probe(ROOT / "src", call)
            out[name]["baseline"] = _probe(baseline, call)
    return out


def huge_query(query_mb: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "huge.jsonl"
        rows = [{"query": "q" * (query_mb * 2**20), "model": "a", "score": 1.0},
                {"query": "a normal question", "model": "a", "score": 0.0}]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        call = f"from routecraft.data import load_dataset; load_dataset({str(path)!r})"
        return {"query_mb": query_mb, "current": _probe(ROOT / "src", call),
                "baseline": "not re-run: the issue measured > 3 min and 11 GB for train before it was killed"}


# ----------------------------------------------------------------------------- main
def _markdown(result: dict) -> str:
    lines = [f"# Hardening benchmark ({'QUICK, reduced sizes' if result['args']['quick'] else 'full size'})", "",
             f"Generated by `benchmarks/hardening.py` on {result['when']}; baseline = commit {BASELINE_COMMIT}.", "",
             "## Two-writer race", "", "| writer | reps | failed saves | corrupt outputs | leftover files |",
             "|---|---|---|---|---|"]
    for label, r in result["race"].items():
        lines.append(f"| {label} | {r['reps']} | {r['failed_saves']} | {r['corrupt_outputs']} | {r['leftover_files']} |")
    s = result["size_limits"]
    lines += ["", f"## Size limits (bomb inflates to {s['bomb_inflated_mb']} MB, manifest to {s['manifest_inflated_mb']} MB)", "",
              "| artifact | file KB | code | outcome | wall s | peak RSS increase MB |", "|---|---|---|---|---|---|"]
    for name in ("zip_bomb", "big_manifest"):
        for code in ("current", "baseline"):
            r = s[name][code]
            if "error" in r:
                lines.append(f"| {name} | {s[name]['file_kb']} | {code} | probe failed: {r['error']} | | |")
                continue
            lines.append(f"| {name} | {s[name]['file_kb']} | {code} | {r['outcome'].split(': ', 1)[0]}: "
                         f"{r['outcome'].split('routecraft: ', 1)[-1][:80]} | {r['wall_s']:.3f} | {r['peak_increase_mb']:.0f} |")
    h = result["huge_query"]
    c = h["current"]
    lines += ["", f"## One {h['query_mb']} MB query in a training file", "",
              f"current: {c.get('outcome', c)}; wall {c.get('wall_s', float('nan')):.2f} s, "
              f"peak RSS increase {c.get('peak_increase_mb', float('nan')):.0f} MB",
              "", f"baseline: {h['baseline']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--bomb-mb", type=int, default=1024)
    parser.add_argument("--manifest-mb", type=int, default=300)
    parser.add_argument("--query-mb", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="10 reps, 200 MB bomb, 60 MB manifest, 10 MB query")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.bomb_mb, args.manifest_mb, args.query_mb = 10, 200, 60, 10
    result = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "args": vars(args)}
    result["race"] = race(args.reps)
    print("race", result["race"], flush=True)
    result["size_limits"] = size_limits(args.bomb_mb, args.manifest_mb)
    print("size", json.dumps(result["size_limits"]), flush=True)
    result["huge_query"] = huge_query(args.query_mb)
    print("query", result["huge_query"], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"hardening{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"hardening{suffix}.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
