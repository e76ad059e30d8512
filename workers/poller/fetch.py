"""HTTP fetching for the poller: one shared session, conditional GET, hard bounds on everything."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import re
import time
import zlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from core import __version__
from core.tuning import PollerTuning
from core.urlguard import GuardedResolver, UnsafeURLError, check_hop

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "timeout", "too_large", "http_status", "redirects", "not_a_feed", "parse", "unsafe_url",
    "connection",
]
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
_KEPT_HEADERS = ("content-type", "content-language", "content-location", "etag", "last-modified",
                 "cache-control", "link")  # link: a WebSub hub (websub_links.py)
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.IGNORECASE)
_MAX_GZIP_MEMBERS = 64
MAX_RETRY_AFTER_S = 24 * 3600.0


# The version from the installed package: one number, in pyproject.toml.
USER_AGENT = f"ceasefire-watch/{__version__} (news feed monitor; +https://github.com/ceasefire-watch)"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds for one fetch; every one of them is enforced, none is advisory."""

    total_s: float
    connect_s: float
    read_s: float
    max_body_bytes: int
    max_redirects: int
    per_host: int
    max_connections: int
    user_agent: str = USER_AGENT

    @classmethod
    def of(cls, tuning: PollerTuning) -> FetchLimits:
        """The limits the operator's poller settings set."""
        return cls(
            total_s=tuning.fetch_timeout_s, connect_s=tuning.connect_timeout_s,
            read_s=tuning.read_timeout_s, max_body_bytes=int(tuning.max_body_mb * 1024 * 1024),
            max_redirects=tuning.max_redirects, per_host=tuning.per_host,
            max_connections=tuning.max_connections,
        )


class FetchError(Exception):
    """A failed fetch: ``kind`` is one of ErrorKind; message is for people."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Record the kind, message, HTTP status and server-requested delay."""
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A fetched feed: ``status`` 200 with ``body``, or 304 (not modified, empty body)."""

    status: int
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    permanent_url: str | None = None

    @property
    def etag(self) -> str | None:
        """Return the validator to send as If-None-Match next time."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """Return the validator to send as If-Modified-Since next time."""
        return self.headers.get("last-modified")

    @property
    def max_age(self) -> float | None:
        """Return the response's ``Cache-Control: max-age`` in seconds (a publisher's floor)."""
        return parse_max_age(self.headers.get("cache-control"))


def parse_max_age(value: str | None) -> float | None:
    """Return ``max-age`` of a Cache-Control value; None when absent, zero or no-cache/no-store.

    ``s-maxage`` is for shared caches, not for a client like us, so it is not read; a
    ``no-cache``/``no-store`` means the publisher asks for no delay at all.
    """
    if not value or _NO_CACHE.search(value):
        return None
    m = _MAX_AGE.search(value)
    if m is None or int(m.group(1)) <= 0:
        return None
    return min(float(m.group(1)), MAX_RETRY_AFTER_S)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the Retry-After delay in seconds (delta or HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER_S)


class _Decoder:
    """Content-Encoding decoder that never yields more than the caller's remaining budget."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: zlib._Decompress | None = None
        self._members = 0

    def _new(self, first: bytes) -> zlib._Decompress:
        if self.encoding == "deflate" and first and first[0] & 0x0F != 8:
            return zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, auto-detected

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; raise FetchError(too_large) once output would exceed ``room``."""
        if self.encoding in ("", "identity"):
            if len(data) > room:
                raise FetchError("too_large", "body larger than the cap")
            return data
        out: list[bytes] = []
        produced = 0
        while data:
            if self._z is None:
                self._members += 1
                if self._members > _MAX_GZIP_MEMBERS:
                    raise FetchError("too_large", "too many gzip members")
                self._z = self._new(data)
            try:
                # max_length bounds the output of this call: a bomb inflates by at most
                # room+1 bytes before we notice, whatever the compression ratio.
                piece = self._z.decompress(data, room - produced + 1)
            except zlib.error as exc:
                raise FetchError("parse", f"bad {self.encoding} content encoding: {exc}") from None
            produced += len(piece)
            if produced > room:
                raise FetchError("too_large", "decompressed body larger than the cap")
            out.append(piece)
            if self._z.eof:
                data = self._z.unused_data
                self._z = None
            else:
                data = self._z.unconsumed_tail
        return b"".join(out)


def _host_key(url: URL) -> str:
    return f"{url.host}:{url.port}"


Origin = tuple[str, str, int | None]


def origin_of(url: URL) -> Origin:
    """Return (scheme, host, port) of ``url``, the unit that trust is given to."""
    return (url.scheme.lower(), (url.host or "").lower().rstrip("."), url.port)


@functools.lru_cache(maxsize=100_000)
def _checked_start(url: str, trusted: bool) -> tuple[URL, str, Origin | None]:
    """Return :func:`check_hop` of a feed's own URL, its host key and trusted origin, remembered.

    check_hop is a pure function of its arguments (no DNS: names are vetted at connect
    time), and parsing and vetting the URL, then reading its host and port again (yarl
    works them out on each access), was a tenth of a 304 poll's CPU. A refused URL raises
    each time (exceptions are not cached).
    """
    start = check_hop(url, trusted=trusted)
    return start, _host_key(start), origin_of(start) if trusted else None


class _Deadline:
    """One timer for a whole fetch: its total bound, and the wait for a server's next bytes.

    The read bound (``read_s`` with no byte) moves with each chunk; it never passes the total
    bound. Before a response, the bound is ``connect_s + read_s``: the connection may have to
    be made first (aiohttp's ``sock_connect`` bounds that step alone).
    """

    def __init__(self, limits: FetchLimits) -> None:
        """Set the bounds from now; ``timer`` is the context that enforces them."""
        self.limits = limits
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._end = now + limits.total_s
        # Set for the first response at once: moving it later would arm a second timer.
        self.timer = asyncio.timeout_at(min(self._end, now + limits.connect_s + limits.read_s))

    def expect_response(self) -> None:
        """Bound the wait for a redirect target's response head (connecting included)."""
        self._move(self.limits.connect_s + self.limits.read_s)

    def expect_bytes(self) -> None:
        """Bound the wait for the body's next bytes."""
        self._move(self.limits.read_s)

    def _move(self, wait_s: float) -> None:
        self.timer.reschedule(min(self._end, self._loop.time() + wait_s))

    def missed(self) -> str:
        """Say which bound expired, for people."""
        when = self.timer.when()
        if when is not None and when < self._end:
            return f"the server sent nothing for {self.limits.read_s:g} s"
        return f"no complete response within {self.limits.total_s:g} s"


class Fetcher:
    """Shared aiohttp sessions per poller, with a per-host concurrency limit.

    Two sessions, so that trust cannot leak: the guarded one resolves through
    :class:`GuardedResolver` (its DNS cache and keep-alive pool only ever hold vetted
    addresses); the trusted one serves a configured feed's own origin (exact scheme, host
    and port) during that feed's fetch, and nothing else. A redirect from any feed to any
    other origin, a host named in feeds.yaml on another port included, goes the guarded way.
    """

    def __init__(self, limits: FetchLimits, *, resolver: AbstractResolver | None = None) -> None:
        """Prepare the fetcher; the sessions open in ``__aenter__``."""
        self.limits = limits
        # One underlying resolver: the guarded session vets what it returns, the trusted
        # session uses it as it is.
        self._plain_resolver = resolver or ThreadedResolver()
        self.resolver = GuardedResolver(self._plain_resolver)
        self._session: aiohttp.ClientSession | None = None
        self._trusted_session: aiohttp.ClientSession | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    def _new_session(self, resolver: AbstractResolver) -> aiohttp.ClientSession:
        lim = self.limits
        connector = aiohttp.TCPConnector(
            limit=lim.max_connections,
            limit_per_host=0,  # enforced by _host_slots, before the timeout clock starts
            resolver=resolver,
            ttl_dns_cache=300,
        )
        return aiohttp.ClientSession(
            connector=connector,
            # No sock_read: aiohttp arms and re-arms a timer for it on every response (two
            # per 304, a tenth of a remembered poll's CPU). The read bound lives in the fetch's
            # one deadline instead (_Deadline).
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=lim.connect_s),
            headers={"User-Agent": lim.user_agent, "Accept": _ACCEPT,
                     "Accept-Encoding": "gzip, deflate"},
            auto_decompress=False,  # we decode ourselves under a byte cap (gzip bombs)
            trust_env=False,  # no proxy from the environment can bypass the guard
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def __aenter__(self) -> Self:
        """Open the guarded and the trusted session."""
        self._session = self._new_session(self.resolver)
        self._trusted_session = self._new_session(self._plain_resolver)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close both sessions (and their connectors) and the resolver."""
        for session in (self._session, self._trusted_session):
            if session is not None:
                await session.close()
        self._session = self._trusted_session = None
        await self.resolver.close()

    async def fetch(
        self, url: str, *, trusted: bool = False, etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """Fetch ``url`` once, conditionally; raise FetchError with a kind on any failure.

        ``trusted`` (a feed from the operator's feeds.yaml) exempts ``url``'s own origin from
        the address check for this fetch only; every other hop is checked.
        """
        try:
            start, host, trusted_origin = _checked_start(url, trusted)
        except UnsafeURLError as exc:  # e.g. a literal loopback address: no request at all
            raise FetchError("unsafe_url", str(exc)) from None
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.limits.per_host)
        async with slot:
            deadline = _Deadline(self.limits)
            try:
                async with deadline.timer:
                    return await self._follow(start, trusted_origin, etag, last_modified,
                                              deadline)
            except TimeoutError:
                raise FetchError("timeout", deadline.missed()) from None
            except UnsafeURLError as exc:
                raise FetchError("unsafe_url", str(exc)) from None
            except aiohttp.TooManyRedirects:
                raise FetchError("redirects", "too many redirects") from None
            except (aiohttp.ClientError, OSError) as exc:
                cause = exc.__cause__ or exc
                if isinstance(cause, UnsafeURLError):
                    raise FetchError("unsafe_url", str(cause)) from None
                if isinstance(exc, aiohttp.ServerTimeoutError):
                    raise FetchError("timeout", f"{type(exc).__name__}: {exc}") from None
                raise FetchError("connection", f"{type(exc).__name__}: {exc}") from None

    async def _follow(
        self, url: URL, trusted_origin: Origin | None, etag: str | None,
        last_modified: str | None, deadline: _Deadline,
    ) -> FetchResult:
        assert self._session is not None, "use Fetcher as an async context manager"
        assert self._trusted_session is not None
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        permanent: str | None = None
        all_permanent = True
        trusted = trusted_origin is not None  # the feed's own URL, whose origin that is
        for hop in range(self.limits.max_redirects + 1):
            session = self._trusted_session if trusted else self._session
            if hop:
                deadline.expect_response()
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in _REDIRECTS and "Location" in resp.headers:
                    if hop == self.limits.max_redirects:
                        raise FetchError(
                            "redirects",
                            f"more than {self.limits.max_redirects} redirects (last: {url})",
                        )
                    try:
                        target = url.join(URL(resp.headers["Location"]))
                        # Only the trusted feed's own origin stays trusted, not its host on
                        # other ports or schemes.
                        trusted = (trusted_origin is not None
                                   and origin_of(target) == trusted_origin)
                    except ValueError:  # "http://[::1/", "http://xn--/": no request at all
                        raise UnsafeURLError(
                            f"unusable redirect Location {resp.headers['Location'][:200]!r}"
                        ) from None
                    # Every hop is vetted again: a public feed may redirect inward.
                    url = check_hop(target, trusted=trusted)
                    all_permanent = all_permanent and resp.status in (301, 308)
                    permanent = str(url) if all_permanent else None
                    continue
                return await self._finish(resp, url, permanent, deadline)
        raise FetchError("redirects", "redirect loop")  # pragma: no cover - loop returns/raises

    async def _finish(
        self, resp: aiohttp.ClientResponse, url: URL, permanent: str | None,
        deadline: _Deadline,
    ) -> FetchResult:
        kept = {k: resp.headers[k] for k in _KEPT_HEADERS if k in resp.headers}
        if resp.status == 304:
            return FetchResult(304, str(url), b"", kept, permanent)
        if resp.status != 200:
            retry = None
            if resp.status in (429, 503):
                retry = parse_retry_after(resp.headers.get("Retry-After"))
            raise FetchError(
                "http_status", f"HTTP {resp.status} {resp.reason or ''}".strip(),
                status=resp.status, retry_after=retry,
            )
        body = await self._read_capped(resp, deadline)
        return FetchResult(200, str(url), body, kept, permanent)

    async def _read_capped(self, resp: aiohttp.ClientResponse, deadline: _Deadline) -> bytes:
        cap = self.limits.max_body_bytes
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding == "x-gzip":
            encoding = "gzip"
        if encoding not in ("", "identity", "gzip", "deflate"):
            raise FetchError("parse", f"unsupported Content-Encoding {encoding!r}")
        declared = resp.content_length
        if declared is not None and declared > cap and encoding in ("", "identity"):
            raise FetchError("too_large", f"Content-Length {declared} exceeds cap {cap}")
        decoder = _Decoder(encoding)
        buf = bytearray()
        # Each read returns what has arrived, so the read bound restarts with every byte
        # that comes (a fixed-size chunk could keep a slow but live server waiting past it).
        deadline.expect_bytes()
        async for chunk in resp.content.iter_any():
            deadline.expect_bytes()
            try:
                buf += decoder.feed(chunk, cap - len(buf))
            except FetchError as exc:
                if exc.kind == "too_large":
                    raise FetchError("too_large", f"{exc} ({cap} bytes)") from None
                raise
        return bytes(buf)
