"""Configuration of the time-series store and the factory that opens one from it.

Version differences of InfluxDB live here, not in code paths: ``flavor`` only selects the auth
scheme and whether a retention policy is sent (see docs/storage.md).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Flavor = Literal["v1", "v2compat", "v3"]
_DURATION = re.compile(r"(INF|\d+(ns|u|µ|ms|s|m|h|d|w))")


class InfluxConfig(BaseModel):
    """Where and how to reach InfluxDB's v1 HTTP API (1.x natively, 2.x DBRP, 3.x compat)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(default="http://127.0.0.1:8086", description="base URL, no path")
    database: str = Field(default="homerpm", min_length=1, max_length=64)
    retention_policy: str | None = Field(
        default=None, description="rp= on 1.x/2.x (DBRP); unset = the database default"
    )
    flavor: Flavor = "v1"
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = Field(default=None, description="2.x/3.x API token")
    token_scheme: Literal["Token", "Bearer"] | None = Field(
        default=None,
        description="Authorization scheme for the token; default Token (v2compat) / Bearer (v3)",
    )
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=5, ge=0, description="retries of a retryable failure")
    backoff_initial_s: float = Field(default=0.2, ge=0)
    backoff_max_s: float = Field(default=10.0, ge=0)
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="lines per POST /write")
    gzip: bool = True

    @model_validator(mode="after")
    def _check_auth(self) -> InfluxConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.token is not None and self.username is not None:
            raise ValueError("give either a token or username/password, not both")
        if self.flavor == "v1" and self.token is not None:
            raise ValueError("flavor v1 authenticates with username/password, not a token")
        if self.flavor == "v3" and self.retention_policy is not None:
            raise ValueError("InfluxDB 3 has no retention policies: set retention on the database")
        return self

    @property
    def auth_header(self) -> str | None:
        """The Authorization header value, or None when the server is open."""
        if self.token is not None:
            scheme = self.token_scheme or ("Token" if self.flavor == "v2compat" else "Bearer")
            return f"{scheme} {self.token.get_secret_value()}"
        if self.username is not None and self.password is not None:
            import base64

            raw = f"{self.username}:{self.password.get_secret_value()}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        return None


class TsdbConfig(BaseModel):
    """Which time-series backend the cloud uses. SQLite is the zero-setup default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["sqlite", "influx"] = "sqlite"
    sqlite_path: str = "var/tsdb.sqlite3"
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    influx: InfluxConfig = InfluxConfig()


def check_duration(value: str) -> str:
    """An InfluxQL duration literal (``730d``, ``52w``, ``INF``), validated before it is spliced."""
    if not _DURATION.fullmatch(value):
        raise ValueError(f"not an InfluxQL duration: {value!r}")
    return value
