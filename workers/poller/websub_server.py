"""The WebSub callback server of the poller role: hubs verify intent and push content here.

``GET /websub/{feed id}`` is a hub's verification of intent: we echo ``hub.challenge`` only
for the topic we asked about, in the mode we asked for (404 otherwise, as the spec says),
including the unsubscribe of the topic a feed moved away from (websub_requests.py).
``POST /websub/{feed id}`` is content: a body no larger than the poller's cap, signed with
the subscription's secret (``X-Hub-Signature``), goes through the poll path's
``process_body`` (parse, skip known articles, queue each new one once on ``articles``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from core import keys
from core.lifecycle import RoleContext
from core.listen import listen
from core.websub_state import Subscription, load_subscription
from workers.poller.content import process_body
from workers.poller.poller import Poller
from workers.poller.websub import WebSub
from workers.poller.websub_links import Discovery, discover, signature_ok
from workers.poller.websub_metrics import WebSubMetrics
from workers.poller.websub_store import clear_old, delete_subscription, update_subscription

log = logging.getLogger(__name__)
_WEBSUB: web.AppKey[WebSub] = web.AppKey("websub", WebSub)


def _count(websub: WebSub, kind: str, outcome: str) -> None:
    if websub.metrics:
        counter = websub.metrics.pushes if kind == "push" else websub.metrics.verifications
        counter.labels(outcome).inc()


async def _verify(request: web.Request) -> web.Response:
    """Answer a hub's verification of intent (subscribe, unsubscribe) or its denial."""
    websub = request.app[_WEBSUB]
    fid = request.match_info["feed_id"]
    query = request.query
    mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
    challenge = query.get("hub.challenge", "")
    sub = await load_subscription(websub.redis, fid)
    if sub is None or not topic or topic not in (sub.topic, sub.old_topic or sub.topic):
        _count(websub, "verify", "refused")
        log.info("WebSub: refused %s for feed %s: not a topic we asked for", mode, fid)
        return web.Response(status=404, text="no such subscription")
    if mode == "unsubscribe" and challenge and topic == sub.old_topic and \
            await clear_old(websub.redis, fid, topic):
        # The hub the feed moved away from lets go (its topic may be the new one's too).
        _count(websub, "verify", "confirmed")
        log.info("WebSub: feed %s: unsubscribed from old hub %s", fid, sub.old_hub)
        return web.Response(text=challenge)
    answer = await _answer(websub, fid, sub, query) if topic == sub.topic else None
    if answer is not None:
        return answer
    _count(websub, "verify", "refused")
    return web.Response(status=404, text="no such pending request")


async def _answer(
    websub: WebSub, fid: str, sub: Subscription, query: Mapping[str, str],
) -> web.Response | None:
    """Answer a verification or denial about ``sub``'s own topic; None when none applies."""
    mode, challenge = query.get("hub.mode", ""), query.get("hub.challenge", "")
    now = time.time()
    if mode == "subscribe" and challenge and sub.state in ("pending", "verified"):
        lease = query.get("hub.lease_seconds", "")
        lease_s = float(lease) if lease.isdigit() and int(lease) > 0 else float(
            websub.settings.lease_s)
        await update_subscription(websub.redis, fid, state="verified", expires=now + lease_s,
                                  verified_at=now, lease_s=lease_s, failures=0, retry_at=0.0,
                                  last_error="", requested_at="")  # that request is answered
        websub.set_live(fid, now + lease_s)
        _count(websub, "verify", "confirmed")
        log.info("WebSub: feed %s is pushed by %s for %.0f s", fid, sub.hub, lease_s)
        return web.Response(text=challenge)
    if mode == "unsubscribe" and challenge and sub.state == "unsubscribing":
        await delete_subscription(websub.redis, fid)
        _count(websub, "verify", "confirmed")
        return web.Response(text=challenge)
    if mode == "denied":
        failures = sub.failures + 1
        await update_subscription(
            websub.redis, fid, state="denied", failures=failures,
            retry_at=now + websub.retry_delay(failures),
            last_error=f"denied by the hub: {query.get('hub.reason', '')}"[:300])
        websub.set_live(fid, 0.0)
        _count(websub, "verify", "denied")
        log.warning("WebSub: hub %s denied feed %s: %s", sub.hub, fid,
                    query.get("hub.reason", "no reason given"))
        return web.Response(text="ok")
    return None


def _names_elsewhere(sub: Subscription, *, body: bytes = b"", link: str | None = None) -> bool:
    """Whether a push's Link header or its document names another hub or topic than ours.

    Naming none says nothing. Ask of one at a time: a push's Link header is the hub's,
    naming itself, and many hubs push the document as the publisher sent it, links or not.
    """
    named = discover(body, link, sub.topic)
    return named is not None and named != Discovery(sub.hub, sub.topic)


async def _push(request: web.Request) -> web.Response:
    """Take a hub's content for one feed: check the signature, then queue what is new."""
    websub = request.app[_WEBSUB]
    fid = request.match_info["feed_id"]
    sub = await load_subscription(websub.redis, fid)
    feed = websub.poller.feeds.get(fid)
    if sub is None or feed is None or not sub.live(time.time()):
        # 410 lets the hub drop a subscription we no longer hold (spec, section 7).
        _count(websub, "push", "gone")
        return web.Response(status=410, text="no such subscription")
    body = await request.read()  # at most the poller's body cap (client_max_size: 413)
    if not signature_ok(sub.secret, body, request.headers.get("X-Hub-Signature")):
        if _names_elsewhere(sub, link=request.headers.get("Link")):
            # Signed for a hub or topic the feed moved away from: 410 lets that hub drop
            # it, even when our unsubscribe never reached it.
            _count(websub, "push", "gone")
            log.info("WebSub: push for feed %s from a hub or topic it left: 410", fid)
            return web.Response(status=410, text="no such subscription")
        # Ignored, but answered 2xx as the spec allows: a forger learns nothing from the
        # status, and a hub is not made to retry. The feed is still polled (fallback).
        _count(websub, "push", "bad_signature")
        log.warning("WebSub: push for feed %s ignored: missing or bad signature", fid)
        return web.Response(status=202, text="ignored")
    if _names_elsewhere(sub, body=body):
        # The publisher names another hub or topic in the content its hub pushed: poll the
        # feed now, not a fallback away, and the poll's discovery moves the subscription
        # (its own Link header may name yet another: the poll decides, as for every feed).
        log.info("WebSub: push for feed %s names another hub or topic: polled now", fid)
        websub.poll_now(fid)
    poller = websub.poller
    result = await process_body(
        websub.redis, poller.parser, feed, body=body,
        headers={"content-type": request.headers.get("Content-Type", "")}, url=sub.topic,
        known_items="", seen_ttl_s=poller.tuning.seen_ttl_s,
    )
    pipe = websub.redis.pipeline(transaction=False)
    pipe.hset(keys.websub_subscription(fid), "last_push", time.time())
    pipe.hincrby(keys.websub_subscription(fid), "pushes", 1)
    await pipe.execute()
    if result.outcome == "error":
        _count(websub, "push", "error")
        log.warning("WebSub: push for feed %s unreadable (%s): %s", fid, result.error_kind,
                    result.error)
        return web.Response(status=202, text="unreadable")
    _count(websub, "push", "queued" if result.queued.queued else "no_news")
    if poller.metrics:
        poller.metrics.articles_queued.inc(result.queued.queued)
    log.info("WebSub: push for feed %s: %d new of %d", fid, result.queued.queued, result.parsed)
    return web.Response(status=204)


def callback_app(websub: WebSub) -> web.Application:
    """The callback routes, bodies capped at the poller's feed body limit."""
    app = web.Application(client_max_size=websub.limits.max_body_bytes)
    app[_WEBSUB] = websub
    app.router.add_get("/websub/{feed_id}", _verify)
    app.router.add_post("/websub/{feed_id}", _push)
    return app


@contextlib.asynccontextmanager
async def running_websub(ctx: RoleContext, poller: Poller) -> AsyncIterator[WebSub | None]:
    """Serve callbacks and keep subscriptions while the poller runs; None when WebSub is off."""
    settings = ctx.settings
    if settings.websub.port is None or not settings.public_base_url:
        if settings.websub.port is not None or settings.public_base_url:
            log.warning("WebSub off: it needs both PUBLIC_BASE_URL and WEBSUB__PORT")
        yield None
        return
    metrics = ctx.metric_set(WebSubMetrics)
    async with WebSub(ctx.redis, poller, settings.websub, settings.public_base_url,
                      poller.fetcher.limits, metrics=metrics, owner=ctx.consumer_name) as websub:
        runner = web.AppRunner(callback_app(websub), access_log=None, handle_signals=False,
                               shutdown_timeout=1.0)
        await runner.setup()
        try:
            websub.port = await listen(runner, settings.websub.host, settings.websub.port)
            log.info("WebSub on: callbacks at %s/websub/<feed>, served on %s:%d",
                     websub.base_url, settings.websub.host, websub.port)
            task = asyncio.create_task(websub.run(ctx.stop), name="websub")
            try:
                yield websub
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await runner.cleanup()
