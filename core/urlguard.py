"""URL guard for feeds added at run time: public http(s) hosts only, checked on every hop.

Two layers, so that what is checked is what is connected to:

* :func:`check_url_syntax` / :func:`check_hop` vet the URL itself (scheme, credentials, and a
  host that is an address by itself: an IPv6 literal or any IPv4 form ``inet_aton`` takes,
  ``2130706433``, ``127.1``, ``0177.0.0.1``, ``0x7f.1``, ``127.0.0.1.``);
* :class:`GuardedResolver` is the connector's resolver: it resolves a host name and returns only
  addresses that passed :func:`address_refusal`, so the socket is opened to a vetted address
  (no second, unchecked lookup between the check and the connect).
"""

from __future__ import annotations

import ipaddress
import re
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURLError(ValueError):
    """A feed URL the poller refuses to fetch; the message says why in plain words."""


def address_refusal(ip: IPAddress) -> str | None:
    """Return why ``ip`` is not a public address to fetch from, or None when it is."""
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        # Embedded IPv4 forms reach the IPv4 host they carry: judge that host.
        embedded = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        )
        if embedded is None and ip.sixtofour is not None:
            embedded = ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"{ip} embeds IPv4 {embedded}: {inner}" if inner else None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_CGNAT, "shared (CGNAT)"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, what in checks:
        if hit:
            return f"{ip} is a {what} address"
    return None


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


# A host whose last label is a number (decimal, or 0x hex) is an IPv4 address in some form,
# never a DNS name (as in the WHATWG URL standard); inet_aton reads every such form.
_NUMBER_LABEL = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")


def host_address(host: str) -> IPAddress | None:
    """Return the address ``host`` is by itself, or None when it is a name for DNS.

    IPv6 literals, dotted quads, and the legacy IPv4 forms that ``inet_aton`` (and so
    getaddrinfo) accept: one number (``2130706433``), fewer parts (``127.1``), octal
    (``0177.0.0.1``), hex (``0x7f.1``), with a trailing dot (``127.0.0.1.``). A numeric host
    that is no valid address raises UnsafeURLError rather than going to DNS.
    """
    literal = _literal_ip(host)
    if literal is not None:
        return literal
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if not labels or _NUMBER_LABEL.fullmatch(labels[-1]) is None:
        return None
    # inet_aton itself would ignore text after a space: every label must be a number.
    if not all(_NUMBER_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURLError(f"host {host!r} is neither a host name nor an IPv4 address")
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        raise UnsafeURLError(f"host {host!r} is not a valid IPv4 address") from None


def check_url_syntax(url: str | URL) -> URL:
    """Vet scheme, credentials and host of ``url`` (no DNS); return it normalised."""
    try:
        parsed = url if isinstance(url, URL) else URL(url.strip())
    except (ValueError, TypeError) as exc:
        raise UnsafeURLError(f"not a valid URL: {url!r} ({exc})") from None
    if parsed.scheme and parsed.scheme not in ("http", "https"):
        raise UnsafeURLError(f"scheme {parsed.scheme!r} not allowed (only http and https)")
    if not parsed.is_absolute() or not parsed.scheme:
        raise UnsafeURLError(f"not an absolute http(s) URL: {str(url)!r}")
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeURLError("credentials in the URL are not allowed")
    try:
        host = parsed.host  # decoded lazily: "xn--" raises here
        parsed.port  # noqa: B018 - raises on an out-of-range port
    except ValueError as exc:  # UnicodeError included
        raise UnsafeURLError(f"bad host or port in URL: {exc}") from None
    if not host:
        raise UnsafeURLError(f"URL has no host: {str(url)!r}")
    return parsed.with_fragment(None)


def check_hop(url: str | URL, *, trusted: bool = False) -> URL:
    """Vet one request hop without DNS: syntax, and a host that is an address must be public.

    Host names are vetted at connect time by :class:`GuardedResolver`. ``trusted`` is for
    the operator's own feed URL (and its own origin) only: it skips the address check.
    """
    parsed = check_url_syntax(url)
    if trusted:
        return parsed
    ip = host_address(parsed.host or "")
    if ip is not None:
        why = address_refusal(ip)
        if why:
            raise UnsafeURLError(f"refused {parsed.human_repr()}: {why}")
    return parsed


class GuardedResolver(AbstractResolver):
    """Resolver that returns only public addresses, so the connection uses a vetted one."""

    def __init__(self, base: AbstractResolver | None = None) -> None:
        """Wrap ``base`` (default: a threaded getaddrinfo resolver)."""
        self._base = base or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host``; refuse it when any of its addresses is not public."""
        ip = host_address(host)  # "127.1" and friends: judged as what they are, no lookup
        if ip is not None and (why := address_refusal(ip)):
            raise UnsafeURLError(f"refused host {host}: {why}")
        results = await self._base.resolve(host, port, family)
        if not results:
            raise UnsafeURLError(f"{host} did not resolve to any address")
        for res in results:
            ip = _literal_ip(res["host"])
            why = "unparseable address" if ip is None else address_refusal(ip)
            # One bad address refuses the host: a name that mixes public and internal
            # addresses is a rebinding trick, not a news site.
            if why:
                raise UnsafeURLError(f"refused host {host}: it resolves to {res['host']} ({why})")
        return results

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._base.close()


async def check_feed_url(url: str, *, resolver: AbstractResolver | None = None) -> str:
    """Return ``url`` normalised when it is safe to poll, else raise UnsafeURLError.

    For the bot's ``/addfeed``: http(s) only, no credentials, and every address the host
    resolves to must be public. Literal IPs are judged without DNS. Never connects.
    """
    parsed = check_hop(url)
    host = parsed.host or ""
    if host_address(host) is None:
        guard = GuardedResolver(resolver) if resolver is not None else GuardedResolver()
        try:
            await guard.resolve(host, parsed.port or 0, socket.AF_UNSPEC)
        except UnsafeURLError:
            raise
        except OSError as exc:
            raise UnsafeURLError(f"cannot resolve host {host}: {exc}") from None
        finally:
            if resolver is None:
                await guard.close()
    return str(parsed)
