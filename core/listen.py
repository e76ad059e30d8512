"""Starting an aiohttp runner on a host and port, and learning the port it really got."""

from __future__ import annotations

from aiohttp import web


async def listen(runner: web.AppRunner, host: str, port: int = 0) -> int:
    """Serve the set-up ``runner`` on ``host:port`` (0: any free port); return the bound port.

    Port 0 lets the kernel choose, so tests and the demo never race another process for a
    port picked in advance; ``runner.addresses`` then says which one it chose.
    """
    await web.TCPSite(runner, host, port).start()
    return int(runner.addresses[-1][1])
