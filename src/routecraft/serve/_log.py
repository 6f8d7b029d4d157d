"""The routing log: one SQLite row per request (WAL), written in batches off the request path.

The request path only appends the record to a deque; a writer thread drains it every
50 ms and commits each batch in one transaction, so a slow disk never adds latency to a
request. When the queue is full (the disk cannot keep up) records are dropped and counted
(``routecraft_log_dropped_total``), never blocking traffic. Records hold no API key and
no header; the prompt text is stored only when ``[server] log_prompts = true``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
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
        """The SQLite row, in ``COLUMNS`` order (built in the writer thread, not on the event loop)."""
        return tuple(_SQL.get(name, _same)(getattr(self, name)) for name, _ in COLUMNS)


def _same(value: object) -> object:
    return value


_SQL: dict[str, Callable[[object], object]] = {"fallback_path": json.dumps, "stream": int}  # fields SQLite cannot store as they are


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
    """Batched, non-blocking writer. ``write`` never blocks; ``flush``/``close`` wait for what is queued.

    ``write`` is one ``deque.append`` (atomic, no lock, no thread wake-up); the writer thread
    wakes every ``interval_s`` and commits everything queued in one transaction. Waking it
    per record (a condition variable) cost a futex call per request plus a GIL hand-off
    to a thread that then committed one row at a time when traffic was light.
    """

    def __init__(self, path: str | Path, max_queue: int = 10_000, interval_s: float = 0.05,
                 on_drop: Callable[[int], None] | None = None) -> None:
        self.path = str(path)
        self._pending: deque = deque()
        self._max_queue = max_queue
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._on_drop = on_drop or (lambda n: None)
        self.written = 0
        self.dropped = 0
        connect(self.path).close()  # fail at start-up, not on the first request, if the path is bad
        self._thread = threading.Thread(target=self._run, name="routecraft-log", daemon=True)
        self._thread.start()

    def write(self, record: LogRecord) -> None:
        if len(self._pending) >= self._max_queue:  # the disk cannot keep up: drop, never block traffic
            self.dropped += 1
            self._on_drop(1)
            return
        self._pending.append(record)

    def _run(self) -> None:
        conn = connect(self.path)
        try:
            stop = False
            while not stop:
                self._wake.wait(self._interval_s)
                self._wake.clear()
                rows, waiters = [], []
                while self._pending:
                    item = self._pending.popleft()
                    if isinstance(item, LogRecord):
                        rows.append(item.row())
                    elif item is _STOP:
                        stop = True
                    else:  # a flush marker: set once the rows queued before it are committed
                        waiters.append(item)
                if rows:
                    try:
                        with conn:
                            conn.executemany(INSERT, rows)
                        self.written += len(rows)
                    except sqlite3.Error:
                        self.dropped += len(rows)
                        self._on_drop(len(rows))
                for waiter in waiters:
                    waiter.set()
        finally:
            conn.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record written before this call is committed; False on timeout."""
        if not self._thread.is_alive():
            return False
        done = threading.Event()
        self._pending.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Commit queued records and stop the writer thread."""
        if self._thread.is_alive():
            self._pending.append(_STOP)
            self._wake.set()
            self._thread.join(timeout)


_STOP = object()
