"""The routing log: one SQLite row per request (WAL), written in batches off the request path.

The request path only does ``queue.put_nowait(record)``; a writer thread drains the queue
and commits every batch in one transaction, so a slow disk never adds latency to a
request. When the queue is full (the disk cannot keep up) records are dropped and counted
(``routecraft_log_dropped_total``), never blocking traffic. Records hold no API key and
no header; the prompt text is stored only when ``[server] log_prompts = true``.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

COLUMNS = (
    ("ts", "REAL NOT NULL"),            # unix time the request arrived
    ("request_id", "TEXT NOT NULL"),
    ("requested", "TEXT"),              # the request's `model` field
    ("router", "TEXT"),
    ("policy", "TEXT"),
    ("routed_model", "TEXT"),           # the policy's choice
    ("model", "TEXT"),                  # the model that answered (differs after a fallback)
    ("score", "REAL"),
    ("routing_ms", "REAL"),
    ("latency_ms", "REAL"),
    ("tokens_in", "INTEGER"),
    ("tokens_out", "INTEGER"),
    ("cost_usd", "REAL"),
    ("status", "INTEGER NOT NULL"),     # HTTP status sent to the client (499: client went away)
    ("error", "TEXT"),
    ("fallback_path", "TEXT"),          # JSON list of "model:outcome" per upstream attempt
    ("stream", "INTEGER NOT NULL"),
    ("prompt", "TEXT"),                 # only when log_prompts is on
)
SCHEMA = f"CREATE TABLE IF NOT EXISTS requests ({', '.join(f'{n} {t}' for n, t in COLUMNS)})"
INSERT = f"INSERT INTO requests VALUES ({', '.join('?' * len(COLUMNS))})"


@dataclass
class LogRecord:
    ts: float
    request_id: str
    requested: str | None
    router: str | None
    policy: str | None
    routed_model: str | None
    model: str | None
    score: float | None
    routing_ms: float | None
    latency_ms: float
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    status: int
    error: str | None
    fallback_path: list[str]
    stream: bool
    prompt: str | None = None

    def row(self) -> tuple:
        d = asdict(self)
        d["fallback_path"] = json.dumps(d["fallback_path"])
        d["stream"] = int(d["stream"])
        return tuple(d[name] for name, _ in COLUMNS)


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create) a routing log with WAL journaling."""
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(SCHEMA)
    conn.execute("CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts)")
    conn.commit()
    return conn


class RoutingLog:
    """Batched, non-blocking writer. ``write`` never blocks; ``close`` flushes what is queued."""

    def __init__(self, path: str | Path, max_queue: int = 10_000, batch: int = 512,
                 on_drop: Callable[[int], None] | None = None) -> None:
        self.path = str(path)
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._batch = batch
        self._on_drop = on_drop or (lambda n: None)
        self.written = 0
        self.dropped = 0
        connect(self.path).close()  # fail at start-up, not on the first request, if the path is bad
        self._thread = threading.Thread(target=self._run, name="routecraft-log", daemon=True)
        self._thread.start()

    def write(self, record: LogRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            self._on_drop(1)

    def _run(self) -> None:
        conn = connect(self.path)
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                items = [first]
                while len(items) < self._batch:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(i is None for i in items)
                rows = [i.row() for i in items if i is not None]
                if rows:
                    try:
                        with conn:
                            conn.executemany(INSERT, rows)
                        self.written += len(rows)
                    except sqlite3.Error:
                        self.dropped += len(rows)
                        self._on_drop(len(rows))
        finally:
            conn.close()

    def close(self, timeout: float = 10.0) -> None:
        """Flush queued records and stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
