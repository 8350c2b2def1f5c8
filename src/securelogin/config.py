"""Typed settings, read once by ``bootstrap`` (STYLE.md rule 11; SPEC §9, §10.1).

Environment variables carry the prefix ``SECURELOGIN_``.  Every number of the
SPEC is a default here, not a constant in the code.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./securelogin.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything an operator may configure; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="SECURELOGIN_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    #: base64 of 32 bytes; several keys separated by commas, the first encrypts (rotation).
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: the brokerage's time zone and exchange calendar (R-LIMIT-2)
    timezone: str = "America/New_York"
    calendar: str = "XNYS"
    #: Argon2id at OWASP parameters (R-LOGIN-2): 19 MiB, t=2, p=1
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    #: R-LOGIN-3
    lockout_threshold: int = Field(default=10, ge=1)
    lockout_window_hours: int = Field(default=24, ge=1)
    #: R-LOGIN-5: a login expires after this many seconds
    login_ttl_seconds: int = Field(default=180, ge=30)
    #: R-LOGIN-11
    session_idle_seconds: int = Field(default=300, ge=60)
    session_absolute_seconds: int = Field(default=12 * 3600, ge=300)
    #: R-OPT-2: opt-out may be disabled for the whole installation
    opt_out_allowed: bool = True
    #: set by ``securelogin demo``; the portal then shows the demo banner
    demo: bool = False

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("database URL must start with sqlite:/// or postgresql://")
        return value

    @model_validator(mode="after")
    def _production_needs_explicit_key(self) -> Settings:
        if self.env is Environment.PRODUCTION and not (self.master_key or self.master_key_file):
            raise ValueError(
                "SECURELOGIN_ENV=production needs SECURELOGIN_MASTER_KEY or "
                "SECURELOGIN_MASTER_KEY_FILE"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
