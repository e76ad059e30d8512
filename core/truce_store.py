"""Truce state in Redis: each region's reports, and its folded state kept beside them.

Per region, ``cw:truce:reports:<region>`` holds every report (alert id -> Report JSON) and
``cw:truce:state:<region>`` the state those reports fold into (core/truce.py). Adding a report
is idempotent (the same alert writes the same field) and order-free: a report later than
everything applied so far is applied to the snapshot; an earlier one (a redelivery, a replica
that fell behind) makes the region fold again from all its reports. Either way the snapshot
equals ``fold(reports)``. ``cw:truce:regions`` lists the regions with a state,
``cw:truce:live`` holds each state without its history (what the classifier polls to know
where a truce is in force), and
``cw:truce:built`` says the state was built from the start of the ``alerts`` stream: when it
is missing (lost, or deleted) the truce role rebuilds everything from the stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from core import keys
from core.truce import apply_in_place, fold
from core.truce_model import Report, TruceState


def _decode(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _queue_state(pipe: Any, state: TruceState) -> None:
    """Queue the writes of a region's state: snapshot, live copy, and the regions list."""
    pipe.set(keys.truce_state(state.region), state.model_dump_json())
    pipe.hset(keys.TRUCE_LIVE, state.region, state.live().model_dump_json())
    pipe.sadd(keys.TRUCE_REGIONS, state.region)
    pipe.incr(keys.TRUCE_VERSION)


async def load_live(redis: Redis) -> dict[str, TruceState]:
    """Every region's state without history (what detection polls), by region."""
    raw = await cast(Any, redis.hgetall(keys.TRUCE_LIVE))
    return {_decode(k): TruceState.model_validate_json(_decode(v)) for k, v in raw.items()}


async def load_state(redis: Redis, region: str) -> TruceState | None:
    """The stored state of ``region``, or None when nothing was ever reported there."""
    raw = await redis.get(keys.truce_state(region))
    return TruceState.model_validate_json(_decode(raw)) if raw is not None else None


async def load_states(redis: Redis, regions: Iterable[str] | None = None) -> list[TruceState]:
    """States of ``regions`` (every region with a state when None), in the order asked."""
    wanted = (
        list(regions)
        if regions is not None
        else sorted(_decode(r) for r in await cast(Any, redis.smembers(keys.TRUCE_REGIONS)))
    )
    if not wanted:
        return []
    raws = await redis.mget([keys.truce_state(r) for r in wanted])
    return [TruceState.model_validate_json(_decode(raw)) for raw in raws if raw is not None]


async def load_reports(redis: Redis, region: str) -> list[Report]:
    """Every report stored for ``region``, in the fold's order."""
    raw = await cast(Any, redis.hvals(keys.truce_reports(region)))
    return sorted((Report.model_validate_json(_decode(r)) for r in raw), key=lambda r: r.key)


async def add_report(redis: Redis, region: str, report: Report) -> TruceState:
    """Store ``report`` for ``region`` and bring its state up to date; return the state.

    The read-modify-write runs under WATCH, so two replicas adding reports to one region at
    once both end up in the snapshot (the loser of the race retries on fresh data).
    """
    reports_key, state_key = keys.truce_reports(region), keys.truce_state(region)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(reports_key, state_key)
                known = await pipe.hexists(reports_key, report.alert_id)
                raw = await pipe.get(state_key)
                state = (
                    TruceState.model_validate_json(_decode(raw))
                    if raw is not None
                    else TruceState(region=region)
                )
                if known and raw is not None:
                    return state  # leaving the block resets the pipeline and unwatches
                if raw is not None and report.key > state.last_key:
                    apply_in_place(state, report)
                else:
                    # Earlier than what the snapshot holds, or no snapshot: fold again.
                    others = await pipe.hvals(reports_key)
                    reports = [Report.model_validate_json(_decode(r)) for r in others]
                    others_only = [r for r in reports if r.alert_id != report.alert_id]
                    state = fold(region, [*others_only, report])
                cast(Any, pipe).multi()  # redis-py leaves multi() untyped
                pipe.hset(reports_key, report.alert_id, report.model_dump_json())
                _queue_state(pipe, state)
                await pipe.execute()
                return state
            except WatchError:
                continue


async def rebuild(redis: Redis, by_region: dict[str, list[Report]]) -> None:
    """Merge ``by_region`` (every report the stream holds) into the store and fold again.

    A union, not a replacement: a report another replica stored meanwhile stays, and the
    WATCH makes this retry if one lands while the regions fold.
    """
    regions = sorted(r for r, reports in by_region.items() if reports)
    watched = [keys.truce_reports(r) for r in regions]
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                if watched:
                    await pipe.watch(*watched)
                states = {}
                for region in regions:
                    stored = await pipe.hvals(keys.truce_reports(region))
                    merged = {r.alert_id: r for r in by_region[region]}
                    for raw in stored:
                        report = Report.model_validate_json(_decode(raw))
                        merged.setdefault(report.alert_id, report)
                    states[region] = (merged, fold(region, list(merged.values())))
                cast(Any, pipe).multi()  # redis-py leaves multi() untyped
                for region, (merged, state) in states.items():
                    pipe.hset(
                        keys.truce_reports(region),
                        mapping={k: r.model_dump_json() for k, r in merged.items()},
                    )
                    _queue_state(pipe, state)
                pipe.set(keys.TRUCE_BUILT, "1")
                await pipe.execute()
                return
            except WatchError:
                continue


async def is_built(redis: Redis) -> bool:
    """True when the state was built from the start of the stream and not lost since."""
    return bool(await redis.exists(keys.TRUCE_BUILT))
