"""The ``ceasefire-watch`` command line: run the service and the tools other packages add."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from core import __version__
from core.config_files import ConfigError, effective_config_dir, real_config_paths
from core.lifecycle import ROLE_TARGETS, EarlySignals, RoleFn, resolve_role, run_roles
from core.logging_setup import configure_logging
from core.redis_conn import StartupError, check_redis_url
from core.settings import Settings, load_settings
from core.settings_help import environment_variables

log = logging.getLogger(__name__)

# Sub-commands that live beside the code they drive, imported by name as the roles are
# (core never imports workers or bot itself).
EXTRA_COMMANDS = (
    "workers.classifier.cli:classify_cmd",
    "workers.classifier.cli:eval_cmd",
    "workers.classifier.feedback_cli:feedback_group",
    "workers.poller.cli:feeds_group",
    "core.demo:demo_command",
    "core.export_cli:export_command",
)


def build_settings(**overrides: Any) -> Settings:
    """Build settings and configure logging; exit 2 with a clear message if invalid."""
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        click.echo(f"ceasefire-watch: configuration error: {exc}", err=True)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _parse_roles(value: str) -> list[str]:
    names = [r.strip() for r in value.split(",") if r.strip()]
    unknown = [r for r in names if r not in ROLE_TARGETS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown role(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(ROLE_TARGETS)}"
        )
    return names


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ceasefire-watch")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Watch news feeds for ceasefire-violation reports and alert subscribers on Telegram."""
    early = ctx.find_object(EarlySignals)
    if early is not None and ctx.invoked_subcommand != "run":
        early.uninstall()  # only ``run`` drains on SIGTERM; the tools keep the usual Ctrl-C


class RunCommand(click.Command):
    """``run``, whose help ends with every environment variable, listed from the settings."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the variables after the options (generated, so it never drifts)."""
        super().format_epilog(ctx, formatter)
        with formatter.section("Environment variables"):
            formatter.write_text(
                "Each is also a key of settings.yaml in CONFIG_DIR, in lower case (A__B is b "
                "under a:); where both are set the environment wins. The README's Settings "
                "table says what each does.")
            formatter.write_paragraph()
            formatter.write_dl(list(environment_variables()))


@cli.command("run", cls=RunCommand)
@click.option(
    "--roles",
    default=",".join(ROLE_TARGETS),
    show_default=True,
    help="Comma-separated roles to run in this process.",
)
@click.option(
    "--feeds", "feeds_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Feeds list to poll instead of CONFIG_DIR's feeds.yaml (as FEEDS_FILE, which it "
         "overrides).",
)
def run_command(roles: str, feeds_file: Path | None) -> None:
    """Run the service: every role by default, or only those given with --roles."""
    names = _parse_roles(roles)
    settings = build_settings(**({"feeds_file": feeds_file} if feeds_file else {}))
    try:
        if settings.redis_url is not None:
            check_redis_url(settings.redis_url)  # before anything starts
        with effective_config_dir(settings.config_dir, settings.feeds_file) as config_dir:
            code = _run(settings.model_copy(update={"config_dir": config_dir}), names)
    except ConfigError as exc:
        click.echo(f"ceasefire-watch: configuration error: {real_config_paths(str(exc))}",
                   err=True)
        sys.exit(2)
    except StartupError as exc:
        # It can never succeed as configured: one line, no traceback, no restart loop.
        click.echo(f"ceasefire-watch: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


def _run(settings: Settings, names: list[str]) -> int:
    early = click.get_current_context().find_object(EarlySignals)
    resolved: list[tuple[str, RoleFn]] = [(name, resolve_role(name)) for name in names]
    preflight(settings, names)
    if settings.telegram_bot_token is None:
        log.info("TELEGRAM_BOT_TOKEN is unset: the bot is off and alerts go to the console")
    if settings.redis_url is None and not settings.redis_sentinels:
        log.info("REDIS_URL is unset: using an embedded redis-server in %s", settings.data_dir)
    log.info("starting roles: %s", ", ".join(names))
    return asyncio.run(run_roles(settings, resolved, early=early))


def preflight(settings: Settings, roles: list[str]) -> None:
    """Run each role's ``check_config`` (if it has one); exit 2 naming the bad file and key."""
    for name in roles:
        module_name = ROLE_TARGETS[name].partition(":")[0]
        check = getattr(importlib.import_module(module_name), "check_config", None)
        if check is None:
            continue
        try:
            check(settings)
        except ConfigError as exc:
            # Name the user's file, not its link in the overlay folder.
            click.echo(f"ceasefire-watch: configuration error: {real_config_paths(str(exc))}",
                       err=True)
            sys.exit(2)


def _add_extra_commands() -> None:
    for target in EXTRA_COMMANDS:
        module_name, _, attr = target.partition(":")
        cli.add_command(getattr(importlib.import_module(module_name), attr))


def main() -> None:
    """Entry point of the ``ceasefire-watch`` console script."""
    # Before the imports below, which take seconds on a busy machine: see EarlySignals.
    early = EarlySignals().install()
    _add_extra_commands()
    cli(prog_name="ceasefire-watch", obj=early)
