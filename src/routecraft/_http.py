"""Small pieces shared by routecraft's HTTP clients (embeddings, chat generation).

Both clients retry rate limits and server errors with exponential backoff that honours
``Retry-After``, and turn error bodies into one-line messages.
"""

from __future__ import annotations

import httpx

MAX_RETRY_AFTER_S = 60.0


def retry_delay(response: httpx.Response | None, backoff: float, attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): ``Retry-After`` if given, else backoff·2^attempt."""
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(header), MAX_RETRY_AFTER_S)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return backoff * 2**attempt


def server_message(response: httpx.Response) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the first 200 characters of it."""
    try:
        error = response.json().get("error")
        return str(error.get("message", error) if isinstance(error, dict) else error or response.text)[:200]
    except (ValueError, AttributeError):
        return response.text[:200]
