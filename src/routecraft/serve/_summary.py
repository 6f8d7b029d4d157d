"""Reading a routing log back: spend, model mix and errors over time (``routecraft evaluate --log``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from .._errors import DataError
from ._log import COLUMNS

BUCKETS = {"minute": 60, "hour": 3600, "day": 86400}


def _open(path: str | Path) -> sqlite3.Connection:
    p = Path(path)
    if not p.is_file():
        raise DataError("no such routing log", path=str(p))
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(requests)")]
    except sqlite3.DatabaseError as exc:
        raise DataError(f"not a SQLite routing log ({exc})", path=str(p)) from None
    missing = [name for name, _ in COLUMNS if name not in cols]
    if missing:
        raise DataError(f"not a routecraft routing log (table 'requests' lacks {', '.join(missing)})", path=str(p))
    return conn


def summarise_log(path: str | Path, bucket: str = "hour") -> dict[str, Any]:
    """Totals, per-model mix, per-route counts, fallbacks and a time series, as plain JSON-able dicts."""
    if bucket not in BUCKETS:
        raise DataError(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}", field="bucket")
    width = BUCKETS[bucket]
    conn = _open(path)
    try:
        q = lambda sql, *a: conn.execute(sql, a).fetchall()  # noqa: E731
        (n, errors, spend, t_in, t_out, first, last, p50_hint) = q(
            "SELECT COUNT(*), SUM(status >= 400), COALESCE(SUM(cost_usd), 0), SUM(tokens_in), SUM(tokens_out), "
            "MIN(ts), MAX(ts), AVG(latency_ms) FROM requests")[0]
        models = [
            {"model": m or "(none)", "requests": c, "share": c / n if n else 0.0, "cost_usd": s or 0.0,
             "errors": e, "mean_latency_ms": lat}
            for m, c, s, e, lat in q("SELECT model, COUNT(*), SUM(cost_usd), SUM(status >= 400), AVG(latency_ms) "
                                      "FROM requests GROUP BY model ORDER BY COUNT(*) DESC")
        ]
        routes = [
            {"requested": r, "router": ro, "policy": p, "requests": c, "mean_score": sc}
            for r, ro, p, c, sc in q("SELECT requested, router, policy, COUNT(*), AVG(score) FROM requests "
                                      "GROUP BY requested, router, policy ORDER BY COUNT(*) DESC")
        ]
        statuses = {str(s): c for s, c in q("SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status")}
        error_kinds = {e: c for e, c in q("SELECT error, COUNT(*) FROM requests WHERE error IS NOT NULL "
                                          "GROUP BY error ORDER BY COUNT(*) DESC")}
        fallbacks = q("SELECT COUNT(*) FROM requests WHERE model IS NOT NULL AND model != routed_model")[0][0]
        failed_attempts: dict[str, int] = {}
        for (path_json,) in q("SELECT fallback_path FROM requests WHERE fallback_path LIKE '%,%' OR status >= 400"):
            for step in json.loads(path_json or "[]"):
                model, _, outcome = step.partition(":")
                if not outcome[:1].isdigit() or outcome.startswith(("4", "5")):
                    failed_attempts[model] = failed_attempts.get(model, 0) + 1
        series = [
            {"start": int(b) * width, "requests": c, "errors": e, "cost_usd": s or 0.0}
            for b, c, e, s in q("SELECT CAST(ts / ? AS INTEGER) AS b, COUNT(*), SUM(status >= 400), SUM(cost_usd) "
                                 "FROM requests GROUP BY b ORDER BY b", width)
        ]
        mix = {}
        for b, m, c in q("SELECT CAST(ts / ? AS INTEGER) AS b, model, COUNT(*) FROM requests GROUP BY b, model", width):
            mix.setdefault(int(b) * width, {})[m or "(none)"] = c
        for row in series:
            row["model_mix"] = mix.get(row["start"], {})
    finally:
        conn.close()
    return {
        "log": str(path), "requests": n, "errors": errors or 0, "error_rate": (errors or 0) / n if n else 0.0,
        "cost_usd": spend, "tokens_in": t_in or 0, "tokens_out": t_out or 0, "first_ts": first, "last_ts": last,
        "mean_latency_ms": p50_hint, "fallbacks": fallbacks, "failed_attempts": failed_attempts,
        "statuses": statuses, "error_kinds": error_kinds, "models": models, "routes": routes,
        "bucket": bucket, "series": series,
    }


def format_summary(s: dict[str, Any]) -> str:
    """A short plain-text report of :func:`summarise_log`'s result."""
    import datetime as dt

    def when(ts: float | None) -> str:
        return "-" if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    lines = [
        f"{s['log']}: {s['requests']} requests from {when(s['first_ts'])} to {when(s['last_ts'])} UTC; "
        f"spend ${s['cost_usd']:.4f}; errors {s['errors']} ({s['error_rate']:.1%}); fallbacks {s['fallbacks']}",
        "",
        f"{'model':<28}{'requests':>10}{'share':>8}{'cost_usd':>12}{'errors':>8}{'mean_ms':>10}",
    ]
    for m in s["models"]:
        lat = "-" if m["mean_latency_ms"] is None else f"{m['mean_latency_ms']:.1f}"
        lines.append(f"{m['model']:<28}{m['requests']:>10}{m['share']:>8.1%}{m['cost_usd']:>12.4f}{m['errors']:>8}{lat:>10}")
    if s["error_kinds"] or s["failed_attempts"]:
        lines += ["", "errors: " + ", ".join(f"{k} {v}" for k, v in s["error_kinds"].items()),
                  "failed upstream attempts: " + ", ".join(f"{k} {v}" for k, v in s["failed_attempts"].items())]
    lines += ["", f"per {s['bucket']} (UTC start, requests, errors, cost_usd, model mix):"]
    for row in s["series"]:
        mix = ", ".join(f"{k} {v}" for k, v in sorted(row["model_mix"].items(), key=lambda kv: -kv[1]))
        lines.append(f"  {when(row['start'])}  {row['requests']:>7}  {row['errors']:>5}  {row['cost_usd']:>10.4f}  {mix}")
    return "\n".join(lines)


def log_command(path: Path, bucket: str, json_out: Path | None) -> None:
    """What ``routecraft evaluate --log`` does: print the summary, optionally write it as JSON."""
    from ..cli._common import console

    summary = summarise_log(path, bucket)
    console.print(format_summary(summary), highlight=False, soft_wrap=True)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2) + "\n")
        console.print(f"wrote {json_out}")
