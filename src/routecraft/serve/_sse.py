"""Relaying an upstream's server-sent events to the client, event by event.

Bytes are forwarded as soon as they complete an SSE event (a blank line), so the client
sees tokens when the upstream sends them, and never half an event. If the upstream fails
after the first event went out, or closes without ``data: [DONE]``, the stream ends with

    event: error
    data: {"error": {"message": ..., "type": "upstream_error", "code": "upstream_stream_interrupted"}}

which the ``openai`` client raises as ``APIError``: an interrupted answer is never a
silent truncation. (It cannot fall back at that point: the client holds part of an answer.)
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from ._upstream import Answer, _classify

DONE = b"data: [DONE]"


@dataclass
class StreamEnd:
    """How a relayed stream ended: ``error`` is None on a clean ``[DONE]``."""

    error: str | None
    client_gone: bool
    usage: dict | None


def error_event(message: str, code: str = "upstream_stream_interrupted") -> bytes:
    payload = {"error": {"message": message, "type": "upstream_error", "param": None, "code": code}}
    return b"event: error\ndata: " + json.dumps(payload).encode() + b"\n\n"


def _boundary(buf: bytes) -> int:
    """Length of the prefix of ``buf`` made of complete events (0 if none)."""
    lf, crlf = buf.rfind(b"\n\n"), buf.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)


def _usage(events: bytes | None) -> dict | None:
    if not events:
        return None
    for line in reversed(events.splitlines()):
        if line.startswith(b"data:") and b'"usage"' in line:
            try:
                usage = json.loads(line[5:]).get("usage")
            except (ValueError, AttributeError):
                return None
            return usage if isinstance(usage, dict) else None
    return None


async def relay(answer: Answer, on_end: Callable[[StreamEnd], None]) -> AsyncIterator[bytes]:
    """Yield complete events from ``answer``; end with an error event if the stream breaks."""
    buf, done, usage_events, error = answer.first, False, None, None
    delivered = False  # the server took the [DONE] event: the client has the whole answer
    try:
        try:
            while True:
                cut = _boundary(buf)
                if cut:
                    events, buf = buf[:cut], buf[cut:]
                    if DONE in events:
                        done = True
                    if b'"usage"' in events:
                        usage_events = events
                    yield events
                    delivered = done
                    if done:
                        break
                try:
                    buf += await answer.rest.__anext__()
                except StopAsyncIteration:
                    break
            if not done and buf.strip() == DONE:  # "[DONE]" without its blank line
                done = True
                yield DONE + b"\n\n"
                delivered = True
        except Exception as exc:  # the upstream broke mid-stream
            error = _classify(exc).kind
        finally:
            # shielded: when the client has gone, the task is being cancelled, and an unshielded
            # close would be cancelled too, leaving the upstream connection checked out of the pool
            await asyncio.shield(answer.close())
        if not done:
            error = error or "truncated"
            yield error_event(
                f"upstream model {answer.model.name!r} failed mid-stream ({error}); the answer so far is incomplete"
            )
    except BaseException:  # cancelled: the client went away
        # after [DONE] went out, a client that hangs up (as the openai client does once it has
        # read [DONE]) may cancel the upstream's clean-up; it still received the whole answer
        if delivered:
            on_end(StreamEnd(None, False, _usage(usage_events)))
        else:
            on_end(StreamEnd(error or "client_disconnected", True, _usage(usage_events)))
        raise
    on_end(StreamEnd(None if done else error, False, _usage(usage_events)))
