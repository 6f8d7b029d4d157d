"""An append-only, on-disk cache of chat requests, so a killed run resumes without loss.

Every successful response is written (and committed) the moment it arrives, keyed by
the sha256 of the request (URL + JSON body, never the API key). A rerun finds each
finished request and sends only the rest, so nothing is asked twice and nothing is
lost; because items are built from the cached responses, a resumed run produces the
same tables as an uninterrupted one. Failures are not cached: they are retried on the
next run. The store is one SQLite database in WAL mode (crash-safe; readable while a
run is writing) holding JSON text only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID
"""


def request_key(url: str, body: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of (url, body)."""
    canonical = json.dumps({"url": url, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """SQLite table of request → response JSON; ``put`` never overwrites (first answer wins)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT response FROM requests WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, url: str, body: dict[str, Any], response: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO requests (key, url, request, response, created) VALUES (?, ?, ?, ?, ?)",
            (key, url, json.dumps(body, sort_keys=True), json.dumps(response), time.time()),
        )

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "RequestCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
