"""Service settings: init kwargs, environment, ``<config_dir>/settings.yaml``, defaults."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from core.config_files import (
    ConfigError,
    default_config_dir,
    describe_validation_error,
    read_yaml,
)


class StreamSettings(BaseModel):
    """Tuning of every stream consumer and producer."""

    batch_size: int = Field(default=100, ge=1, le=10_000)
    block_ms: int = Field(default=1_000, ge=10, le=60_000)
    # An entry idle this long in another consumer's pending list is taken over.
    claim_idle_ms: int = Field(default=30_000, ge=100)
    claim_interval_s: float = Field(default=5.0, gt=0)
    # With the backoff below, 8 deliveries span about two minutes before dead-lettering.
    max_deliveries: int = Field(default=8, ge=1, le=1_000)
    # Approximate cap far above any backlog: trimming never reaches pending entries.
    maxlen: int = Field(default=1_000_000, ge=10_000)
    # A failed entry is retried after retry_backoff_s * 2^(deliveries-1), capped.
    retry_backoff_s: float = Field(default=1.0, ge=0)
    # An entry whose handler was started this often without ever raising is taken to crash
    # its consumer and is dead-lettered; above max_deliveries so a slow handler that only
    # outlived a few restarts is not mistaken for one.
    max_crashes: int = Field(default=20, ge=1, le=1_000)
    retry_backoff_cap_s: float = Field(default=60.0, ge=0)


class PollerTuning(BaseModel):
    """How hard and how often the poller fetches: every knob of the poller, one default each.

    The poller takes all of its tuning from here (workers/poller builds its fetch limits and
    schedule bounds from it); nothing below keeps a default of its own.
    """

    concurrency: int = Field(default=64, ge=1, le=10_000)  # polls in flight at once
    # Polls dispatched per second at most, spaced evenly (100,000 feeds / 10 min = 167/s).
    max_rate: float = Field(default=200.0, gt=0)
    # How fast a cold start walks through feeds without a stored next poll (spread over at
    # most max_interval_s), so a restart does not fetch every feed at once.
    start_rate: float = Field(default=20.0, gt=0)
    min_interval_s: float = Field(default=120.0, ge=1)
    default_interval_s: float = Field(default=600.0, ge=1)
    max_interval_s: float = Field(default=1_800.0, ge=1)
    deactivate_after: int = Field(default=20, ge=1)
    # Threads keep the poller in one ~140 MiB process at 10,000 feeds; processes parse
    # twice as fast on two cores but add ~75 MiB each (see bench/poller.py).
    parse_executor: Literal["thread", "process"] = "thread"
    parse_workers: int = Field(default=2, ge=1, le=64)
    max_body_mb: float = Field(default=8.0, gt=0, le=512)
    per_host: int = Field(default=2, ge=1, le=100)
    max_connections: int = Field(default=100, ge=1, le=10_000)
    # One fetch, every redirect hop included, ends after fetch_timeout_s whatever happens.
    fetch_timeout_s: float = Field(default=30.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    read_timeout_s: float = Field(default=15.0, gt=0, le=600)
    max_redirects: int = Field(default=5, ge=0, le=20)
    # How long an article id stays known as queued: a feed listing it again is no news.
    seen_ttl_s: int = Field(default=30 * 86_400, ge=60)
    # The run-time feed set is reloaded in full every reload_s, and within watch_s of a change.
    reload_s: float = Field(default=60.0, gt=0)
    watch_s: float = Field(default=2.0, gt=0)
    # On stop, in-flight polls get this long to finish, then are cancelled.
    drain_s: float = Field(default=5.0, ge=0)


class SettingsFields(BaseModel):
    """Every setting with its default and checks; :class:`Settings` adds where values come from.

    A plain model, so that ``settings.yaml`` can be validated on its own (validating a
    BaseSettings would read every source again).
    """

    redis_url: str | None = None
    # Redis through Sentinel (core/sentinel.py): "host:port,host:port"; wins over redis_url.
    redis_sentinels: Annotated[tuple[tuple[str, int], ...], NoDecode] = ()
    redis_sentinel_service: str = Field(default="mymaster", min_length=1)
    redis_password: SecretStr | None = None
    redis_sentinel_password: SecretStr | None = None
    # Under Sentinel, the writes a failover must not lose wait for this many replicas (0: off).
    redis_wait_replicas: int = Field(default=1, ge=0, le=16)
    redis_wait_timeout_ms: int = Field(default=500, ge=1, le=60_000)
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    # Webhook mode when a public URL is set; long polling otherwise.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65_535)
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65_535)
    config_dir: Path = Field(default_factory=default_config_dir)
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "console"
    streams: StreamSettings = StreamSettings()
    poller: PollerTuning = PollerTuning()
    heartbeat_ttl_s: float = Field(default=15.0, gt=0)
    # How often the classifier checks whether a region's truce state changed (one GET).
    truce_refresh_s: float = Field(default=1.0, ge=0)
    shutdown_deadline_s: float = Field(default=10.0, gt=0)
    # Seconds between restarts of a crashed role, doubling up to the cap.
    role_restart_cap_s: float = Field(default=30.0, gt=0)
    # How long start-up waits for Redis to answer before giving up with exit 1 (a transient
    # outage after a good start is retried for as long as it lasts).
    redis_start_wait_s: float = Field(default=30.0, ge=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        """Accept ``"1,2 3"`` from the environment as well as a YAML list."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(",", " ").split())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _split_sentinels(cls, value: Any) -> Any:
        """Accept ``"h1:26379,h2:26379"`` from the environment as well as a YAML list."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            return tuple(parse_host_port(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "telegram_bot_token", "redis_url", "telegram_api_url", "telegram_webhook_url",
        "telegram_webhook_secret", "redis_password", "redis_sentinel_password", mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class Settings(BaseSettings, SettingsFields):
    """Everything a role needs to know, built once in ``main()`` and passed down."""

    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, env_nested_delimiter="__"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init kwargs, then the environment, then ``<config_dir>/settings.yaml``."""
        return (init_settings, env_settings, ConfigDirYamlSource(settings_cls))


class SettingsYamlSource(YamlConfigSettingsSource):
    """One ``settings.yaml``, read strictly: a problem raises ConfigError naming the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        """Read and check ``path`` (absent: no settings)."""
        super().__init__(settings_cls, yaml_file=path)
        unknown = sorted(set(self.yaml_data) - set(SettingsFields.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown key '{unknown[0]}'")
        # Validated on its own, so that an error is blamed on the file only when the file
        # holds it: whatever fails once the sources are merged came from above it.
        try:
            SettingsFields.model_validate(self.yaml_data)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, str(path))) from None

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        path = Path(str(file_path))
        data = read_yaml(path)  # ConfigError naming the file when it is not YAML
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        return data or {}


class ConfigDirYamlSource(PydanticBaseSettingsSource):
    """``<config_dir>/settings.yaml``, where ``config_dir`` is what the sources above it chose.

    The file's path depends on a setting, so it cannot be fixed when the sources are built:
    it is read when this source's turn comes, from the state the init kwargs and the
    environment have made so far (pydantic-settings calls sources in priority order).
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: the file is read whole in :meth:`__call__`."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Return the file's settings ({} when the file does not exist)."""
        config_dir = self.current_state.get("config_dir") or default_config_dir()
        return SettingsYamlSource(self.settings_cls, Path(config_dir) / "settings.yaml")()


def parse_host_port(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` too); raise ValueError naming what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host, int(port)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; raise ConfigError naming the bad file or variable, key and value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        # settings.yaml was checked on its own as it was read, so the bad value came from the
        # environment (or a caller's override, which outranks it).
        raise ConfigError(describe_validation_error(exc, "environment")) from None
