"""Service settings: environment variables over ``config/settings.yaml`` over defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

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
    """How hard and how often the poller fetches."""

    concurrency: int = Field(default=64, ge=1, le=10_000)
    # Polls dispatched per second at most, spaced evenly (100,000 feeds / 10 min = 167/s).
    max_rate: float = Field(default=200.0, gt=0)
    min_interval_s: float = Field(default=120.0, ge=1)
    default_interval_s: float = Field(default=600.0, ge=1)
    max_interval_s: float = Field(default=1_800.0, ge=1)
    deactivate_after: int = Field(default=20, ge=1)
    parse_executor: Literal["thread", "process"] = "thread"
    parse_workers: int = Field(default=2, ge=1, le=64)
    max_body_mb: float = Field(default=8.0, gt=0, le=512)
    per_host: int = Field(default=2, ge=1, le=100)


class Settings(BaseSettings):
    """Everything a role needs to know, built once in ``main()`` and passed down."""

    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, env_nested_delimiter="__"
    )

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first; the YAML file is merged in by :func:`load_settings`."""
        return (init_settings, env_settings)


def parse_host_port(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` too); raise ValueError naming what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host, int(port)


def _overlay(from_file: dict[str, Any], model: BaseModel) -> dict[str, Any]:
    """Return ``from_file`` with every field explicitly set on ``model`` laid over it."""
    merged = dict(from_file)
    for name in model.model_fields_set:
        value = getattr(model, name)
        below = merged.get(name)
        if isinstance(value, BaseModel) and isinstance(below, dict):
            merged[name] = _overlay(below, value)
        else:
            merged[name] = value
    return merged


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; raise ConfigError naming the bad key and value."""
    try:
        base = Settings(**overrides)
        yaml_path = base.config_dir / "settings.yaml"
        from_file: dict[str, Any] = {}
        if yaml_path.exists():
            data = read_yaml(yaml_path)
            if data is not None and not isinstance(data, dict):
                raise ConfigError(f"{yaml_path}: expected a mapping at the top level")
            from_file = data or {}
            unknown = sorted(set(from_file) - set(Settings.model_fields))
            if unknown:
                raise ConfigError(f"{yaml_path}: unknown key '{unknown[0]}'")
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, "environment")) from None
    if not from_file:
        return base
    try:
        # init kwargs outrank the environment, so the environment's values go in on top of the
        # file's, key by key: STREAMS__BATCH_SIZE replaces that key, not the file's whole
        # ``streams`` section.
        merged = _overlay(from_file, base)
        merged.update(overrides)
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, str(yaml_path))) from None
