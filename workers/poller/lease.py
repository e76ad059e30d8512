"""Poll leases: pollers share the feed list, and the lease makes one of them poll a feed at a time.

A lease carries its holder's consumer name, so a lease left by a poller whose heartbeat has
gone stale (killed mid-poll), or by this owner's previous life, is taken over at once instead
of blocking the feed until the lease expires.

A feed this poller polled last, and that no one wrote since, is fetched before any lease is
taken (:meth:`FeedLeases.remembered`): when nothing is new, one command writes the poll
(:meth:`FeedLeases.commit`), if no lease is out and the hash is still at the revision this
poller wrote. Otherwise the poll takes the lease as usual, with what it fetched. So a 304
costs one command, not two; the price is that a second poller may fetch such a feed at the
same moment, now and then. Only one of them writes.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from core import keys
from workers.poller.batch import Command
from workers.poller.state import LAZY_FIELD, REVISION_FIELD, FeedState

# Take the lease if free, or if its holder is this owner's previous life or a poller whose
# heartbeat is stale; then read the feed's state hash (KEYS[3]) in the same command: a poll's
# first round trip is one command, not two. Replies {'0'} (not taken), {'='} (taken, and the
# hash's revision is still ARGV[7], the one this poller remembers the state of), or
# {'1', field, value…} without the field ARGV[6] (a large one read only when needed).
_TAKE_LUA = """
local function take()
  local cur = redis.call('GET', KEYS[1])
  if cur then
    local holder = string.match(cur, '^(.-)|') or ''
    if holder == '' or ARGV[3] == '' then return false end
    if holder ~= ARGV[3] then
      local beat = redis.call('HGET', KEYS[2], 'poller/' .. holder)
      if beat and tonumber(ARGV[4]) - tonumber(beat) <= tonumber(ARGV[5]) then return false end
    end
  end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return true
end
if not take() then return {'0'} end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[3], '""" + REVISION_FIELD + """') == ARGV[7] then
  return {'='}
end
local state = redis.call('HGETALL', KEYS[3])
local out = {'1'}
for i = 1, #state, 2 do
  if state[i] ~= ARGV[6] then
    out[#out + 1] = state[i]
    out[#out + 1] = state[i + 1]
  end
end
return out
"""

# Write the state fields a poll changed (ARGV[4..], field value pairs) into KEYS[2] with its
# new revision ARGV[3], and delete the lease KEYS[1] only if it is still ours (it may have
# expired and been retaken). Replies 1 when the hash was still at revision ARGV[2], the one
# read at take (no one wrote it meanwhile: the caller knows it whole), else 0.
_GIVE_BACK_LUA = """
local seen = redis.call('HGET', KEYS[2], '""" + REVISION_FIELD + """')
redis.call('HSET', KEYS[2], '""" + REVISION_FIELD + """', ARGV[3], unpack(ARGV, 4))
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if seen and seen ~= '' and seen == ARGV[2] then return 1 end
return 0
"""

# A poll that fetched without a lease (see FeedLeases.remembered) and found nothing new: write
# its changes (ARGV[4..]) with the new revision ARGV[3] only if no poller holds the lease now
# and the hash is still at ARGV[2], the revision this poller wrote last (ARGV as for
# _GIVE_BACK_LUA; the token ARGV[1] is unused). Replies 1 when written, 0 when not (the poll
# then takes the lease as usual).
_COMMIT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('HGET', KEYS[2], '""" + REVISION_FIELD + """') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], '""" + REVISION_FIELD + """', ARGV[3], unpack(ARGV, 4))
return 1
"""

_TAKEN, _UNCHANGED = "1", "="


@dataclass(slots=True)
class Lease:
    """A lease taken: the state to poll with, the state as read, and the hash's revision then."""

    state: FeedState
    read: FeedState
    revision: str


class FeedLeases:
    """One poller's leases, and the state read and written with them, in the caller's batch.

    It remembers the state each feed had when this poller gave its lease back, with the
    revision it wrote then (see state.py): while no one else wrote the hash, taking the lease
    again replies only that it is unchanged, and the state comes from memory, not from a
    reply of forty strings parsed back into numbers.
    """

    def __init__(self, owner: str, heartbeat_ttl_s: float) -> None:
        """Lease as ``owner`` (the role's consumer name; "" never takes over a held lease)."""
        self.owner = owner
        self.heartbeat_ttl_s = heartbeat_ttl_s
        self.token = f"{owner}|{uuid.uuid4().hex}"
        # Revisions unique to this process: a hash deleted and written afresh by another
        # poller can never come back to a revision remembered here.
        prefix = uuid.uuid4().hex[:16]
        self._revisions = (f"{prefix}.{n}" for n in itertools.count())
        # feed id -> (revision, the state at it, without LAZY_FIELD).
        self._known: dict[str, tuple[str, FeedState]] = {}

    def take(self, feed_id: str, ttl_s: float, state_key: str) -> Command:
        """Return the command taking ``feed_id``'s lease for ``ttl_s`` and reading ``state_key``.

        Its reply goes to :meth:`taken`. The state's LAZY_FIELD is not read.
        """
        known = self._known.get(feed_id)
        # EVAL, not EVALSHA: no NOSCRIPT to recover from after a Redis restart, and EVALSHA
        # measured no cheaper.
        return ("EVAL", _TAKE_LUA, 3, keys.LEASE_PREFIX + feed_id, keys.HEARTBEATS, state_key,
                self.token, int(ttl_s * 1000), self.owner, time.time(), self.heartbeat_ttl_s,
                LAZY_FIELD, known[0] if known else "")

    def taken(self, feed_id: str, reply: list[str]) -> Lease | None:
        """Return the lease a :meth:`take` reply gave; None when another poller holds it."""
        kind = reply[0] if reply else ""
        if kind == _UNCHANGED:
            revision, known = self._known[feed_id]
            return Lease(known.copy(), known.copy(), revision)
        self._known.pop(feed_id, None)
        if kind != _TAKEN:
            return None
        raw = dict(zip(reply[1::2], reply[2::2], strict=True))
        read = FeedState.from_hash(raw)
        return Lease(read.copy(), read, raw.get(REVISION_FIELD, ""))

    def remembered(self, feed_id: str) -> Lease | None:
        """Return a lease-less poll of ``feed_id`` from the state this poller last wrote.

        None when nothing is remembered (this process has not polled it, or someone else
        wrote its hash since). Its ``read`` is the remembered state itself: never mutate it.
        """
        known = self._known.get(feed_id)
        if known is None:
            return None
        revision, state = known
        return Lease(state.copy(), state, revision)

    def commit(self, feed_id: str, state_key: str, lease: Lease) -> tuple[Command, str]:
        """Return the command writing a lease-less poll's changes, if no one came between.

        And the revision it writes, for :meth:`given_back` with the command's reply (0: not
        written, and the state is forgotten).
        """
        return self._write(_COMMIT_LUA, feed_id, state_key, lease)

    def give_back(self, feed_id: str, state_key: str, lease: Lease) -> tuple[Command, str]:
        """Return the command writing what changed in ``lease`` and giving it back.

        And the revision it writes, for :meth:`given_back` with the command's reply.
        """
        return self._write(_GIVE_BACK_LUA, feed_id, state_key, lease)

    def _write(self, script: str, feed_id: str, state_key: str, lease: Lease,
               ) -> tuple[Command, str]:
        """Return ``script`` run on what changed in ``lease``, and the revision it writes."""
        revision = next(self._revisions)
        pairs = [part for item in lease.state.changes(lease.read).items() for part in item]
        command = ("EVAL", script, 2, keys.LEASE_PREFIX + feed_id, state_key,
                   self.token, lease.revision, revision, *pairs)
        return command, revision

    def given_back(self, feed_id: str, lease: Lease, revision: str, reply: int) -> None:
        """Remember the state given back at ``revision``, or forget it (``reply`` 0)."""
        if not reply:  # written meanwhile by someone else: read it whole next time
            self._known.pop(feed_id, None)
            return
        kept = lease.state.copy()
        kept.item_hashes = ""  # up to 500 hashes: never kept, read when a body changes
        self._known[feed_id] = (revision, kept)

    def forget(self, feed_ids: Iterable[str]) -> None:
        """Drop what is remembered of removed feeds."""
        for fid in feed_ids:
            self._known.pop(fid, None)

    @property
    def retry_s(self) -> float:
        """When to look again at a feed another poller holds: once its heartbeat could be stale."""
        # So a killed poller's feeds are picked up within one heartbeat TTL.
        return max(1.0, min(30.0, self.heartbeat_ttl_s * 1.5))
