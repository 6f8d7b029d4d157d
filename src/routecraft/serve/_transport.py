"""An ``httpx`` transport on aiohttp's connection pool: the upstream client's default network.

httpx stays the interface (requests, responses, timeouts, the injectable transport tests
use), but httpcore's pool is replaced, because it was the server's largest cost per
request: each request start and end scans every pooled connection (one ``poll`` syscall
per idle one), so at 50 concurrent requests httpcore spent ~4 ms of CPU per request, and
aiohttp's pool, whose parser is C, about a tenth of that (measured against the stub).

aiohttp's exceptions are mapped onto httpx's, one class per failure the upstream layer
tells apart (connect, timeout, reset), so retries, fallback and the log's failure kinds
do not depend on which transport is underneath.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import AsyncIterator, Iterator

import aiohttp
import httpx


@contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    """Re-raise aiohttp's exceptions as the httpx exception of the same failure."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:  # before ServerTimeoutError: it is a subclass
        raise httpx.ConnectTimeout(str(exc), request=request) from exc
    except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ServerDisconnectedError as exc:  # closed before or while answering
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except (aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:  # reset, truncated body
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # unparsable response
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc), request=request) from exc


class _Body(httpx.AsyncByteStream):
    """A response body read as it arrives (SSE events are relayed as soon as they land)."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response, self._request = response, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def read(self) -> bytes:
        """The whole body in one aiohttp read (no per-chunk generator layers)."""
        with _mapped(self._request):
            return await self._response.read()

    async def aclose(self) -> None:
        # back to the pool when the body was read to the end, otherwise the connection is closed
        self._response.release()


async def read_body(response: httpx.Response) -> bytes:
    """A response's whole body, decoded as ``response.aread()`` decodes it, for any transport.

    An identity-encoded body (what upstreams send unless asked to compress) from this
    transport is one aiohttp read; httpx's decoder and chunker layers under ``aread``
    cost more than the read itself for a chat answer. Anything else goes through ``aread``.
    """
    if isinstance(response.stream, _Body) and "content-encoding" not in response.headers:
        return await response.stream.read()
    return await response.aread()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over one ``aiohttp`` pool, created lazily inside the running loop."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0, limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or 15.0,
        )
        # decompression is httpx's (it reads content-encoding), cookies are not a proxy's to keep
        self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                              cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        t = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(total=None, connect=t.get("pool"), sock_connect=t.get("connect"),
                                        sock_read=t.get("read"))
        content = await request.aread()  # a request built from a stream is read here, as httpx's own transports do
        with _mapped(request):
            response = await session.request(
                request.method, str(request.url), headers=request.headers.multi_items(), data=content or None,
                allow_redirects=False, timeout=timeout, skip_auto_headers=("User-Agent",),
            )
        return httpx.Response(response.status, headers=response.raw_headers, stream=_Body(response, request),
                              request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
