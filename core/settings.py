"""Service settings: init kwargs, environment, ``<config_dir>/settings.yaml``, defaults."""

from __future__ import annotations

import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

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
    FEEDS_YAML,
    ConfigError,
    config_file,
    default_config_dir,
    describe_validation_error,
    read_yaml,
)
from core.tuning import PollerTuning, StreamSettings, WebSubSettings


class ChannelEntry(NamedTuple):
    """One ``CHANNELS`` entry: a region, a channel's numeric id, its posts' language."""

    region: str
    chat_id: int
    lang: str = ""  # a bot language code (bot/i18n.py); "" is English


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
    # Telegram channels that get one post per story of a region: "region=-100…,region=-100…"
    # (a mapping or a list in YAML); region ids and languages are checked at start.
    channels: Annotated[tuple[ChannelEntry, ...], NoDecode] = Field(
        default=(),
        description="region=-100… (a channel's numeric id; English posts) or region=-100…:lang "
        "(posts in that bot language, e.g. gaza-israel=-1001234567890:ar), comma separated",
    )
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65_535)
    config_dir: Path = Field(default_factory=default_config_dir)
    # Your own feeds list, whatever config_dir holds (core.config_files.config_file).
    feeds_file: Path | None = None
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "console"
    streams: StreamSettings = StreamSettings()
    poller: PollerTuning = PollerTuning()
    # The URL the outside world reaches this service at (https://cw.example.org), behind a
    # proxy that routes /websub/ to the WebSub callback server and /truces/ to the health
    # role: WebSub callbacks are {public_base_url}/websub/{feed id}, and /ceasefire links
    # {public_base_url}/truces/{region}. Unset: WebSub stays off and /ceasefire has no link.
    public_base_url: str | None = None
    websub: WebSubSettings = WebSubSettings()
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

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        """Accept ``"gaza-israel=-100123,sudan=-100456"`` as well as a YAML mapping or list."""
        return parse_channels(value)

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

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        """Blank is unset; else an absolute http(s) URL, kept without its trailing slash."""
        if not isinstance(value, str):
            return value
        value = value.strip().rstrip("/")
        if not value:
            return None
        if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", value):
            raise ValueError("expected an absolute http(s) URL without query or fragment")
        return value

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

    def feeds_path(self) -> Path:
        """Return the feeds list in use: FEEDS_FILE, else CONFIG_DIR's, else the packaged one."""
        return config_file(self.config_dir, FEEDS_YAML, self.feeds_file)

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
        return SettingsYamlSource(self.settings_cls,
                                  config_file(Path(config_dir), "settings.yaml"))()


def parse_host_port(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` too); raise ValueError naming what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host, int(port)


_CHANNEL_ID = re.compile(r"^-100\d{5,}$")
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def _channel_entry(entry: Any) -> tuple[str, str, bool]:
    """(region, channel[:lang], well-formed) of ``region=id[:lang]`` or (region, id[, lang])."""
    if isinstance(entry, str):
        region, sep, chat = entry.partition("=")
        return region, chat, bool(sep)
    if isinstance(entry, list | tuple) and len(entry) in (2, 3):
        lang = f":{entry[2]}" if len(entry) == 3 and entry[2] else ""
        return str(entry[0]), f"{entry[1]}{lang}", True
    return "", "", False


def parse_channels(value: Any) -> tuple[ChannelEntry, ...]:
    """Return the entries of ``region=id[:lang]`` text, a mapping or a list."""
    if isinstance(value, dict):
        value = [(region, chat) for region, ids in value.items()
                 for chat in (ids if isinstance(ids, list | tuple) else [ids])]
    elif isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        raise ValueError("expected region=channel_id entries")
    pairs: list[ChannelEntry] = []
    for entry in value:
        if isinstance(entry, ChannelEntry):
            pairs.append(entry)
            continue
        region, target, ok = _channel_entry(entry)
        chat, _, lang = target.partition(":")
        region, chat, lang = region.strip().lower(), chat.strip(), lang.strip().lower()
        if not ok or not region:
            raise ValueError(f"entry {entry!r}: expected region=channel_id")
        # A numeric id only: a username can be given up and then taken by another channel.
        if not _CHANNEL_ID.match(chat):
            raise ValueError(f"entry {entry!r}: {chat!r} is not a channel's numeric id "
                             "(-100…; a username cannot be used here)")
        if ":" in target and not _LANG_CODE.match(lang):
            raise ValueError(f"entry {entry!r}: {lang!r} is not a language code (such as ar)")
        pairs.append(ChannelEntry(region, int(chat), lang))
    return tuple(dict.fromkeys(pairs))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; raise ConfigError naming the bad file or variable, key and value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        # settings.yaml was checked on its own as it was read, so the bad value came from the
        # environment (or a caller's override, which outranks it).
        raise ConfigError(describe_validation_error(exc, "environment")) from None
