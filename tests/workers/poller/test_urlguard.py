"""The URL guard refuses internal targets, on the first hop and on every redirect, unconnected."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from redis.asyncio import Redis

from core.urlguard import (
    GuardedResolver,
    UnsafeURLError,
    address_refusal,
    check_feed_url,
    check_hop,
    host_address,
)
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import limits, rss_with, tuning
from workers.poller.fetch import Fetcher, FetchError


class FakeResolver(AbstractResolver):
    """Maps host names to fixed addresses and records every lookup; no real DNS."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"unknown host {host}")
        return [
            ResolveResult(hostname=host, host=addr, port=port,
                          family=socket.AF_INET6 if ":" in addr else socket.AF_INET,
                          proto=0, flags=0)
            for addr in self.table[host]
        ]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/feed", "loopback"),
        ("http://[::1]/feed", "loopback"),
        ("http://[::ffff:127.0.0.1]/feed", "embeds IPv4 127.0.0.1"),
        ("http://10.0.0.1/rss", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://0.0.0.0:8080/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[fe80::1]/", "link-local"),
        ("http://240.0.0.1/", "reserved"),
        ("file:///etc/passwd", "scheme 'file' not allowed"),
        ("/etc/passwd", "not an absolute"),
        ("feeds/world.xml", "not an absolute"),
        ("ftp://example.com/feed", "scheme 'ftp'"),
        ("http://user:pw@example.com/feed", "credentials"),
        ("javascript:alert(1)", "scheme 'javascript'"),
    ],
)
async def test_refuses_unsafe_urls_without_dns(url: str, reason: str) -> None:
    resolver = FakeResolver({})
    with pytest.raises(UnsafeURLError, match=reason):
        await check_feed_url(url, resolver=resolver)
    assert resolver.lookups == []  # literal IPs and bad syntax are judged without DNS


async def test_refuses_public_looking_name_that_resolves_to_loopback() -> None:
    resolver = FakeResolver({
        "news.example.com": ["127.0.0.1"],
        "mixed.example.com": ["93.184.216.34", "10.1.2.3"],
        "v6.example.com": ["::ffff:10.0.0.1"],
    })
    async with FeedServer() as server:  # what the name really points at: must see nothing
        with pytest.raises(UnsafeURLError, match=r"news\.example\.com.*127\.0\.0\.1.*loopback"):
            await check_feed_url(f"http://news.example.com:{server.port}/html", resolver=resolver)
        with pytest.raises(UnsafeURLError, match=r"10\.1\.2\.3"):
            await check_feed_url("https://mixed.example.com/rss", resolver=resolver)
        with pytest.raises(UnsafeURLError, match="private"):
            await check_feed_url("https://v6.example.com/rss", resolver=resolver)
        assert sum(server.hits.values()) == 0
    assert resolver.lookups == ["news.example.com", "mixed.example.com", "v6.example.com"]


async def test_accepts_public_url_and_normalises_it() -> None:
    resolver = FakeResolver({"news.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    url = await check_feed_url("  HTTP://News.Example.COM/rss?x=1#frag ", resolver=resolver)
    assert url == "http://news.example.com/rss?x=1"
    assert await check_feed_url("https://8.8.8.8/feed", resolver=resolver) == "https://8.8.8.8/feed"


def test_address_refusal_covers_embedded_forms() -> None:
    refused = ["::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:7f00:1::", "::", "100.64.0.1",
               "192.168.1.1", "172.16.0.1", "fc00::1", "ff02::1", "255.255.255.255"]
    for addr in refused:
        assert address_refusal(ipaddress.ip_address(addr)), addr
    for addr in ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"]:
        assert address_refusal(ipaddress.ip_address(addr)) is None, addr


async def test_redirect_to_internal_target_is_refused_and_never_connected() -> None:
    async with FeedServer() as front, FeedServer() as victim:
        # "news.example.com" stands for a public server: it is mapped to the local front
        # server and trusted, so the guard lets the first hop through; every redirect target
        # points at the victim server on 127.0.0.1, which must never see a request.
        resolver = FakeResolver({
            "news.example.com": ["127.0.0.1"],
            "sneaky.example.com": ["127.0.0.1"],
            "localhost": ["127.0.0.1"],
        })
        targets = [
            f"http://127.0.0.1:{victim.port}/html",
            f"http://localhost:{victim.port}/html",
            f"http://[::ffff:127.0.0.1]:{victim.port}/html",
            f"http://sneaky.example.com:{victim.port}/html",
            f"http://169.254.169.254:{victim.port}/latest",
            "file:///etc/passwd",
        ]
        async with Fetcher(limits(fetch_timeout_s=5), resolver=resolver) as f:
            for target in targets:
                url = f"http://news.example.com:{front.port}/redirect?to={target}"
                with pytest.raises(FetchError) as info:
                    await f.fetch(url, trusted=True)
                assert info.value.kind == "unsafe_url", (target, info.value)
            # The same route to a trusted target works, so the refusals above are the guard's.
            ok = await f.fetch(
                f"http://news.example.com:{front.port}/redirect?to=/html", trusted=True
            )
            assert ok.status == 200
        assert front.hits["/redirect"] == len(targets) + 1
        assert sum(victim.hits.values()) == 0


async def test_untrusted_literal_internal_address_is_a_fetch_error_not_a_crash() -> None:
    async with FeedServer() as victim, Fetcher(limits(fetch_timeout_s=5)) as f:
        for url in (f"http://127.0.0.1:{victim.port}/html", "file:///etc/passwd"):
            with pytest.raises(FetchError) as info:
                await f.fetch(url)
            assert info.value.kind == "unsafe_url", (url, info.value)
        assert sum(victim.hits.values()) == 0


async def test_guarded_resolver_refuses_rebinding_names() -> None:
    guard = GuardedResolver(FakeResolver({"rebind.example": ["8.8.8.8", "127.0.0.1"]}))
    with pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1"):
        await guard.resolve("rebind.example", 80)


@pytest.mark.parametrize(
    "host",
    ["2130706433", "127.1", "0177.0.0.1", "0x7f.1", "127.0.0.1.", "0x7f000001", "017700000001",
     "0X7F.0.0.1", "10.1", "0251.0376.0251.0376", "0"],
)
async def test_numeric_host_forms_are_refused_by_the_guard_itself(host: str) -> None:
    resolver = FakeResolver({})
    async with FeedServer() as victim:
        url = f"http://{host}:{victim.port}/html"
        with pytest.raises(UnsafeURLError, match="is a"):
            await check_feed_url(url, resolver=resolver)
        with pytest.raises(UnsafeURLError):
            await GuardedResolver(resolver).resolve(host, victim.port)
        async with Fetcher(limits(fetch_timeout_s=5), resolver=resolver) as f:
            with pytest.raises(FetchError) as info:
                await f.fetch(url)
            assert info.value.kind == "unsafe_url", info.value
        assert sum(victim.hits.values()) == 0
    assert resolver.lookups == []  # judged as the address it is, never looked up


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.256.256.256", "0x100000000", "1.2.3.0x"])
async def test_numeric_hosts_that_are_no_address_are_refused(host: str) -> None:
    resolver = FakeResolver({})
    with pytest.raises(UnsafeURLError, match="IPv4"):
        await check_feed_url(f"http://{host}/feed", resolver=resolver)
    assert resolver.lookups == []


def test_public_numeric_forms_and_names_pass_the_hop_check() -> None:
    assert host_address("0x8.8.8.8") == ipaddress.ip_address("8.8.8.8")
    assert host_address("134744072") == ipaddress.ip_address("8.8.8.8")
    assert host_address("news.example.com") is None
    assert host_address("1e100.net") is None  # a name whose last label is not a number
    assert str(check_hop("http://134744072/feed")) == "http://134744072/feed"


class PublicFront(GuardedResolver):
    """The guard, except that one name counts as public (a stand-in for a public server).

    The server really runs on 127.0.0.1, which the real guard rightly refuses.
    """

    def __init__(self, base: AbstractResolver, public: str) -> None:
        super().__init__(base)
        self._public_base = base
        self.public = public

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host == self.public:
            return await self._public_base.resolve(host, port, family)
        return await super().resolve(host, port, family)


async def test_trust_belongs_to_a_configured_feeds_own_origin_only(redis: Redis) -> None:
    from core.feeds import FeedConfig
    from tests.workers.poller.helpers import feed_for
    from workers.poller.parse_pool import ParsePool
    from workers.poller.poller import Poller
    from workers.poller.state import load_state

    async with FeedServer() as front, FeedServer() as intranet, FeedServer() as victim:
        # Names for the three local servers: feeds.yaml holds "feeds.example" (front) and
        # "intranet.example" (an internal feed); "public.example" is a feed added with
        # /addfeed on a public server. Both configured names point at 127.0.0.1.
        resolver = FakeResolver({
            "feeds.example": ["127.0.0.1"], "intranet.example": ["127.0.0.1"],
            "public.example": ["127.0.0.1"],
        })
        intranet.dynamic["b"] = rss_with([("b1", "Internal one")])
        front.dynamic["a"] = rss_with([("a1", "Front one")])
        inside = f"http://intranet.example:{intranet.port}/dyn/b"
        elsewhere = [  # the configured internal feed itself, its host on another port, ...
            inside, f"http://intranet.example:{victim.port}/html",
            f"http://feeds.example:{victim.port}/html", f"https://feeds.example:{front.port}/x",
        ]
        fetcher = Fetcher(limits(fetch_timeout_s=5), resolver=resolver)
        fetcher.resolver = PublicFront(resolver, "public.example")
        configured = [feed_for("front", f"http://feeds.example:{front.port}/dyn/a"),
                      feed_for("intranet", inside)]
        added = [FeedConfig(id=f"added{i}", name="Added", trusted=False,
                            url=f"http://public.example:{front.port}/redirect?to={target}")
                 for i, target in enumerate(elsewhere)]
        added.append(FeedConfig(id="direct", name="Direct", url=inside, trusted=False))
        async with fetcher, ParsePool("thread", 1) as pool:
            poller = Poller(redis, fetcher, pool, tuning(fetch_timeout_s=5))
            poller.set_feeds(configured + added)
            for feed in added:
                report = await poller.poll(feed)
                assert (report.outcome, report.error_kind) == ("error", "unsafe_url"), report
                state = await load_state(redis, feed.id)
                assert state.error_streak == 1 and state.last_error_kind == "unsafe_url"
            assert sum(intranet.hits.values()) == 0 and sum(victim.hits.values()) == 0
            # A configured feed redirecting to another configured feed's host, or to its own
            # host on another port or scheme, is checked like anyone else's.
            for target in elsewhere:
                with pytest.raises(FetchError) as info:
                    await fetcher.fetch(
                        f"http://feeds.example:{front.port}/redirect?to={target}", trusted=True)
                assert info.value.kind == "unsafe_url", (target, info.value)
            assert sum(intranet.hits.values()) == 0 and sum(victim.hits.values()) == 0
            # Each configured feed is fetched at its own origin, redirects within it too.
            for feed in configured:
                assert (await poller.poll(feed)).outcome == "new"
            ok = await fetcher.fetch(
                f"http://feeds.example:{front.port}/redirect?to=/dyn/a", trusted=True)
            assert ok.status == 200
        assert intranet.hits["/dyn/b"] == 1


async def test_unparsable_redirect_location_is_a_fetch_error_not_a_crash() -> None:
    async with FeedServer() as front, Fetcher(limits(fetch_timeout_s=5)) as f:
        for target in ("http://[::1/b", "http://xn--/a", "http://h.example:99999/"):
            with pytest.raises(FetchError) as info:
                await f.fetch(front.url(f"/raw-redirect?to={target}"), trusted=True)
            assert info.value.kind == "unsafe_url", (target, info.value)
