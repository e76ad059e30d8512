"""The command list (for setMyCommands and /help) and parsers of command arguments."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.i18n import N_, Translator

MAX_ARGS_CHARS = 300
MAX_ARGS = 20
MAX_MUTE = timedelta(days=30)


@dataclass(frozen=True)
class Command:
    """A bot command: name, one-line description (a msgid), usage, admin only or not."""

    name: str
    description: str
    usage: str
    admin: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Welcome and how to subscribe"), "/start"),
    Command("help", N_("What every command does"), "/help"),
    Command("subscribe", N_("Follow regions, or all of them (no argument: pick from a list)"),
            "/subscribe [region… | all]"),
    Command("unsubscribe", N_("Stop following regions"), "/unsubscribe region… | all"),
    Command("list", N_("What this chat follows and its settings"), "/list"),
    Command("regions", N_("Regions you can follow"), "/regions"),
    Command(
        "threshold",
        N_("Minimum confidence of alerts (above 0, up to 1; default: the classifier's)"),
        "/threshold 0.8",
    ),
    Command(
        "kinds", N_("Violations only, or ceasefire news too; escalation alerts on or off"),
        "/kinds violations | all | escalation on|off",
    ),
    Command("mute", N_("Pause alerts for a while"), "/mute 2h (e.g. 30m, 8h, 2d)"),
    Command("unmute", N_("Resume alerts"), "/unmute"),
    Command("digest", N_("Instant alerts, or one daily summary"), "/digest off | daily HH:MM"),
    Command("timezone", N_("Time zone for the daily digest"), "/timezone Europe/Kyiv"),
    Command("latest", N_("The last alerts"), "/latest [region]"),
    Command("ceasefires", N_("Truces now, region by region"), "/ceasefires"),
    Command("ceasefire", N_("One region's truce: state, counts, timeline"), "/ceasefire region"),
    Command("status", N_("Pipeline health in one message"), "/status"),
    Command("language", N_("The bot's language here (no argument: pick from a list)"),
            "/language [en|pl|ru|uk|ar|fr|es|de|tr|hy|az|he]"),
    Command("stats", N_("Subscribers and deliveries (admins)"), "/stats", admin=True),
    Command("feeds", N_("Configured feeds (admins)"), "/feeds", admin=True),
    Command("addfeed", N_("Add a feed (admins)"), "/addfeed URL [name]", admin=True),
    Command("removefeed", N_("Remove a feed added with /addfeed (admins)"), "/removefeed ID",
            admin=True),
    Command("reactivate", N_("Poll a deactivated feed again (admins)"), "/reactivate ID",
            admin=True),
    Command("broadcast", N_("Message every subscriber (admins)"), "/broadcast text",
            admin=True),
    Command("export", N_("Violation stories of the last days as a CSV file (admins)"),
            "/export [days] (1 to 366; default 7)", admin=True),
    Command("bindchannel", N_("Post a region's stories in a channel (admins)"),
            "/bindchannel REGION CHANNEL [LANG] (the channel's -100… id or @username; LANG: "
            "the posts' language), or /bindchannel REGION [LANG] for a one-time code to post "
            "in the channel as /bindchannel CODE", admin=True),
    Command("unbindchannel", N_("Stop posting in a channel (admins)"), "/unbindchannel CHANNEL",
            admin=True),
    Command("channels", N_("Channels bound to regions (admins)"), "/channels", admin=True),
)
BY_NAME = {c.name: c for c in COMMANDS}


USAGE = N_("Usage: {syntax}")
# What an error quotes of the user's input, at most (the rest is cut, not shown).
MAX_QUOTED = 80


class UsageError(ValueError):
    """Bad or overlong arguments, shown to the user with the command's usage line.

    ``message`` is a msgid marked with ``N_`` (shown in the chat's language by
    bot/commands/application.py), or a text already in that language; ``values`` fill its
    ``{name}`` placeholders as plain text, clipped (the whole reply is escaped when shown).
    No message: the usage line alone.
    """

    def __init__(self, message: str = "", **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values

    def text(self, t: Translator) -> str:
        """The message in ``t``'s language, plain text; quoted input clipped, isolated in RTL."""
        if not self.message:
            return ""
        quoted = {k: t.isolate(str(v)[:MAX_QUOTED]) for k, v in self.values.items()}
        return t.gettext(self.message, **quoted)


class NotAllowedError(UsageError):
    """The sender may not run this command here (shown without a usage line)."""


def usage(name: str, t: Translator) -> str:
    """The usage line of a command: the framing in ``t``'s language, the syntax verbatim."""
    return t.gettext(USAGE, syntax=t.isolate(BY_NAME[name].usage))


def check_args(args: list[str] | None) -> list[str]:
    """Return the arguments, refusing overlong input before any parsing."""
    args = args or []
    if len(args) > MAX_ARGS or sum(len(a) + 1 for a in args) > MAX_ARGS_CHARS:
        raise UsageError(N_("Too many or too long arguments."))
    return args


def parse_threshold(args: list[str]) -> float | None:
    """Return a threshold from ``0.8`` or ``80%`` (above 0, at most 1); None for ``default``."""
    if len(args) != 1:
        raise UsageError(N_("Give one number between 0 and 1, or default."))
    text = args[0].strip().replace(",", ".")
    if text.lower() == "default":
        return None
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(N_("Give one number between 0 and 1.")) from None
    # Written so NaN fails too. 0 and -0 are refused (a threshold of 0 lets everything
    # through), and so is what rounds to 0 at the three decimals kept.
    if not (math.isfinite(value) and 0.0 < value <= 1.0 and round(value, 3) > 0.0):
        raise UsageError(N_("The threshold must be between 0 and 1: above 0, at most 1."))
    return round(value, 3)


_DURATION = re.compile(r"(\d{1,5})\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(args: list[str]) -> timedelta:
    """Return a duration from ``30m``, ``2h``, ``1h30m``, ``2d`` (at most 30 days)."""
    text = "".join(args).strip().lower()
    if not text or len(text) > 20:
        raise UsageError(N_("Give a duration such as 30m, 8h or 2d."))
    if text.isdigit():
        text += "m"
    pos, seconds = 0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or seconds <= 0:
        raise UsageError(N_("Give a duration such as 30m, 8h or 2d."))
    if seconds > MAX_MUTE.total_seconds():
        raise UsageError(N_("At most 30 days."))
    return timedelta(seconds=seconds)


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_digest(args: list[str]) -> str:
    """Return ``off`` or ``HH:MM`` from ``off`` / ``daily HH:MM``."""
    if args == ["off"] or [a.lower() for a in args] == ["off"]:
        return "off"
    if len(args) == 2 and args[0].lower() == "daily":
        match = _HHMM.match(args[1])
        if match:
            return f"{int(match.group(1)):02d}:{match.group(2)}"
    raise UsageError(N_("Say off, or daily followed by a time such as 08:00."))


_OFFSET = re.compile(r"^(?:utc|gmt)?([+-])(\d{1,2})$")


def parse_timezone(args: list[str]) -> str:
    """Return an IANA time zone name (``Europe/Kyiv``, ``UTC``, ``UTC+3``)."""
    if len(args) != 1 or len(args[0]) > 64:
        raise UsageError(N_("Give one time zone such as Europe/Kyiv or UTC+3."))
    text = args[0].strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    offset = _OFFSET.match(text.lower())
    if offset:
        hours = int(offset.group(2))
        if hours > 14:
            raise UsageError(N_("Offsets go from UTC-12 to UTC+14."))
        # IANA's Etc/GMT zones have the sign inverted (Etc/GMT-3 is UTC+3).
        sign = "-" if offset.group(1) == "+" else "+"
        return "UTC" if hours == 0 else f"Etc/GMT{sign}{hours}"
    lookup = {z.lower(): z for z in available_timezones()}
    name = lookup.get(text.lower())
    if name is None:
        raise UsageError(N_("Unknown time zone “{zone}”. Try Europe/Kyiv, Asia/Beirut or UTC+3."),
                         zone=text)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(N_("Unknown time zone “{zone}”."), zone=text) from None
    return name
