"""Which live poller polls which feed: several pollers share the feeds, not poll them all.

Each poller keeps every feed's schedule, so without a share each of N pollers would poll each
feed once per interval: N polls, and N times the load on a publisher (the lease only stops
two polls of a feed at the same moment). A feed's share goes to one of the live pollers by
rendezvous hashing: every poller scores each (poller, feed) pair the same way and the highest
score polls it. A poller that stops or dies loses only its own feeds, spread over the others;
one that starts takes about 1/N of them from each.

Live means a ``poller/<name>`` heartbeat (core/lifecycle.py) younger than its TTL that has
moved while this poller watched (:class:`PeerWatch`); a poller always counts itself. Views may
differ for a moment (a poller just started, a heartbeat just stale): then a feed may have two
pollers, never none, except the feeds of a poller that died without a word, until the live
ones see its heartbeat go stale. The lease still keeps two polls of one feed apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

HEARTBEAT_ROLE = "poller/"


def _score(owner: str, feed_id: str) -> bytes:
    # Not hash(): it is salted per process, and every poller must score alike.
    return hashlib.blake2b(f"{owner}\0{feed_id}".encode(), digest_size=8).digest()


class PeerWatch:
    """The other pollers alive: a fresh heartbeat that has moved since this poller first saw it.

    Fresh is not enough. A poller killed outright leaves its heartbeat fresh for up to a TTL,
    and a new process started in its place takes another name while the dead one's name is
    still locked. Counted as live, that dead name would keep its share of the feeds unpolled
    until its heartbeat went stale. A heartbeat that moves is a poller at work. A live peer is
    missed only until its next beat (a third of a TTL): meanwhile both may poll its feeds,
    which costs polls but loses nothing.
    """

    def __init__(self, me: str, ttl_s: float) -> None:
        """Watch for ``me`` (always live) with heartbeats stale after ``ttl_s``."""
        self.me = me
        self.ttl_s = ttl_s
        self._first: dict[str, str] = {}  # name -> its heartbeat when first seen fresh
        self._moved: set[str] = set()

    def live(self, beats: Mapping[str, str], now: float) -> frozenset[str]:
        """Return the live pollers among ``beats`` (``keys.HEARTBEATS``), ``me`` among them."""
        fresh: dict[str, str] = {}
        for field, value in beats.items():
            if not field.startswith(HEARTBEAT_ROLE):
                continue
            try:
                if now - float(value) <= self.ttl_s:
                    fresh[field[len(HEARTBEAT_ROLE):]] = value
            except ValueError:
                continue  # not a heartbeat this code wrote: no poller behind it
        for name in set(self._first) - set(fresh):  # stale or gone: watch it anew
            del self._first[name]
            self._moved.discard(name)
        for name, value in fresh.items():
            if self._first.setdefault(name, value) != value:
                self._moved.add(name)
        return frozenset({self.me} | (self._moved & set(fresh)))


class Shares:
    """The feeds this poller polls among the live pollers; everything while it is alone."""

    def __init__(self, me: str) -> None:
        """Start alone: every feed is this poller's until others are seen."""
        self.me = me
        self.pollers: frozenset[str] = frozenset({me})
        self._mine: dict[str, bool] = {}

    def mine(self, feed_id: str) -> bool:
        """Return whether this poller polls ``feed_id``."""
        if len(self.pollers) == 1:
            return True
        known = self._mine.get(feed_id)
        if known is None:
            best = max(self.pollers, key=lambda owner: _score(owner, feed_id))
            known = self._mine[feed_id] = best == self.me
        return known

    def update(self, pollers: frozenset[str]) -> None:
        """Take a new set of live pollers."""
        if pollers != self.pollers:
            self.pollers = pollers | {self.me}
            self._mine.clear()

    def forget(self, feed_ids: Iterable[str]) -> None:
        """Drop what is known of removed feeds."""
        for fid in feed_ids:
            self._mine.pop(fid, None)
