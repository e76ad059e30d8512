"""/export [days] (admins): the violation stories of the last days as a CSV document."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import InputFile, Update

from bot.commands.args import UsageError, check_args
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import reply, translator_for
from bot.i18n import N_
from core.export import export_rows, file_name, to_csv
from core.regions import load_config_regions

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 366


def parse_days(args: list[str]) -> int:
    """The number of days of ``/export [days]``: 1 to 366, default 7."""
    if not args:
        return DEFAULT_DAYS
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 3:
        raise UsageError()
    days = int(args[0])
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(N_("Give a number of days from 1 to {max}."), max=MAX_DAYS)
    return days


class ExportCommands:
    """The admins' export: the same rows as ``ceasefire-watch export``, as a CSV file."""

    def __init__(self, svc: Services, config_dir: Path) -> None:
        """Read the regions file (coordinates and countries) once, at start."""
        self.svc = svc
        self.regions = load_config_regions(config_dir)

    async def export(self, update: Update, context: Ctx) -> None:
        """Send the violation stories first reported in the last ``days`` days as CSV."""
        days = parse_days(check_args(context.args))
        message = update.effective_message
        if message is None:
            return
        until = datetime.now(UTC)
        since = until - timedelta(days=days)
        rows = await export_rows(self.svc.redis, self.regions, since, until)
        t = await translator_for(update, self.svc.subs)
        if not rows:
            await reply(update, t.lines(t.ngettext(
                "No violation stories in the last {n} day.",
                "No violation stories in the last {n} days.", days)))
            return
        name = file_name(since, until)
        # The file's times are UTC (core/export.py); the caption says so in the admin's words.
        utc = t.in_zone("UTC")
        await message.reply_document(
            InputFile(to_csv(rows).encode("utf-8"), filename=name),
            caption=t.lines(t.ngettext(
                "{n} violation story, {since} to {until} (one row per story).",
                "{n} violation stories, {since} to {until} (one row per story).", len(rows),
                since=t.isolate(utc.when(since, zone=False)),
                until=t.isolate(utc.when(until)),
            )),
            do_quote=False,
        )
        log.info("export of %d days sent: %d stories", days, len(rows))
