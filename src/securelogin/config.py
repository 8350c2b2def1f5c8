"""Typed settings, read once by ``bootstrap`` (STYLE.md rule 11; SPEC §9, §10.1).

Environment variables carry the prefix ``SECURELOGIN_``.  Every number of the
SPEC is a default here, not a constant in the code.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./securelogin.db"


def proxy_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` → networks; ``ValueError`` names a bad entry."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                networks.append(ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or CIDR") from None
    return tuple(networks)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class HttpParser(StrEnum):
    """``serve``'s HTTP/1.1 parser (docs/performance.md measures both)."""

    HTTPTOOLS = "httptools"
    H11 = "h11"


class EventLoop(StrEnum):
    """``serve``'s event loop (docs/performance.md measures both)."""

    UVLOOP = "uvloop"
    ASYNCIO = "asyncio"


class SmsGatewayKind(StrEnum):
    """SPEC §8 "Channels": the development outbox, a generic HTTP gateway, Twilio."""

    DEV = "dev"
    HTTP = "http"
    TWILIO = "twilio"


class Settings(BaseSettings):
    """Everything an operator may configure; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="SECURELOGIN_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    #: test hooks (adapters/faults.py): only the test suite sets it, never production
    test_faults_dir: Path | None = None
    #: base64 of 32 bytes; several keys separated by commas, the first encrypts (rotation).
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    host: str = "127.0.0.1"
    #: reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed; nobody's by default (docs/deployment.md)
    trusted_proxies: str = ""
    port: int = Field(default=8000, ge=1, le=65535)
    #: ``serve``: HTTP parser and event loop (docs/configuration.md "Server")
    http_parser: HttpParser = HttpParser.HTTPTOOLS
    event_loop: EventLoop = EventLoop.UVLOOP
    #: threads for blocking work (database, Argon2id) per server process; the PostgreSQL
    #: connection pool holds as many connections plus POOL_SPARE, and never more
    threads: int = Field(default=40, ge=4, le=1000)
    #: ``serve``: connections the kernel queues before the process accepts them (capped
    #: by ``net.core.somaxconn``); uvicorn's own default, 2048, drops part of a burst of
    #: reconnecting long-polls, which then retry on TCP's 1-3-7-15-31-s schedule
    backlog: int = Field(default=4096, ge=64, le=65535)
    #: several server processes on one PostgreSQL wake each other's long-polls with
    #: LISTEN/NOTIFY (off: only the 0.5-s poller; docs/deployment.md "Several processes")
    listen_notify: bool = True
    #: Redis pub/sub instead of LISTEN/NOTIFY for those wake-ups (``redis://host:6379/0``)
    redis_url: SecretStr | None = None
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
    #: SPEC §3: positions of a new security code card (3-character values, A-Z0-9)
    card_positions: int = Field(default=200, ge=2, le=300)
    #: R-LOST-2: an online security code card is valid this many days
    online_card_days: int = Field(default=21, ge=1, le=366)
    #: R-LOST-3/4, R-RETURN-3 (docs/lifecycle.md "Configuration")
    device_deposit_cents: int = Field(default=2000, ge=0)
    ship_business_days: int = Field(default=2, ge=0, le=60)
    auto_activation_days: int = Field(default=21, ge=1, le=366)
    activation_reminder_days: int = Field(default=3, ge=0, le=60)
    closure_return_days: int = Field(default=30, ge=1, le=366)
    #: set by ``securelogin demo``; the portal then shows the demo banner
    demo: bool = False
    #: R-OPS-5 notification channels (docs/configuration.md "Notifications")
    sms_gateway: SmsGatewayKind = SmsGatewayKind.DEV
    #: production refuses the development outbox as the only SMS route unless this is set
    allow_dev_outbox: bool = False
    sms_http_url: str | None = None
    sms_http_token: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    #: no SMTP host: e-mail stays in the development outbox
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "securelogin@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: seconds an SMS gateway or mail server may take to answer
    channel_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    outbox_max_attempts: int = Field(default=8, ge=1)
    #: R-OPS-4/5: how often each server process delivers due notifications (0 = never)
    background_interval_seconds: float = Field(default=5.0, ge=0)
    #: the OpenID Connect provider (issue 16 §1, docs/integration.md)
    oidc_code_seconds: int = Field(default=60, ge=10, le=600)
    oidc_access_token_seconds: int = Field(default=600, ge=60, le=24 * 3600)
    oidc_key_rotation_days: int = Field(default=30, ge=1, le=366)
    oidc_key_overlap_days: int = Field(default=2, ge=1, le=60)

    #: mobile key wake-ups (R-KEY-4); the app's pull channel works without any of them
    push_vapid_key_file: Path | None = None
    push_vapid_subject: str = "mailto:security@localhost"
    #: comma-separated ``host:port`` whose Web Push endpoints may be plain http (a
    #: loopback push-service fake in tests); empty: every endpoint must be https
    push_webpush_http_hosts: str = ""
    fcm_credentials_file: Path | None = None
    fcm_api: str = "https://fcm.googleapis.com"
    apns_key_file: Path | None = None
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    apns_api: str = "https://api.push.apple.com"
    #: WebAuthn (passkeys, the app's biometric unlock; docs/security-settings.md): the
    #: RP ID is a registrable domain the origins belong to (not an IP address); origins
    #: are the exact scheme://host[:port] pages may call WebAuthn from, comma-separated
    webauthn_rp_id: str = "localhost"
    webauthn_rp_name: str = "securelogin"
    webauthn_origins: str = "http://localhost:8000"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("database URL must start with sqlite:/// or postgresql://")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        proxy_networks(value)
        return value

    @property
    def webauthn_origin_list(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.webauthn_origins.split(",") if o.strip())

    @model_validator(mode="after")
    def _webauthn_origins_belong_to_the_rp_id(self) -> Settings:
        rp_id = self.webauthn_rp_id
        try:
            ip_address(rp_id)
        except ValueError:
            pass
        else:
            raise ValueError("SECURELOGIN_WEBAUTHN_RP_ID must be a domain, not an IP address")
        if not self.webauthn_origin_list:
            raise ValueError("SECURELOGIN_WEBAUTHN_ORIGINS needs at least one origin")
        for origin in self.webauthn_origin_list:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            if parts.scheme not in ("https", "http") or parts.path or not host:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
            if host != rp_id and not host.endswith("." + rp_id):
                raise ValueError(f"origin {origin!r} is not on the RP ID {rp_id!r}")
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return proxy_networks(self.trusted_proxies)

    @model_validator(mode="after")
    def _production_needs_explicit_key(self) -> Settings:
        if self.env is Environment.PRODUCTION and not (self.master_key or self.master_key_file):
            raise ValueError(
                "SECURELOGIN_ENV=production needs SECURELOGIN_MASTER_KEY or "
                "SECURELOGIN_MASTER_KEY_FILE"
            )
        return self

    @model_validator(mode="after")
    def _production_sends_sms(self) -> Settings:
        # the dev outbox is a table anyone with the database file can read codes from
        if (
            self.env is Environment.PRODUCTION
            and self.sms_gateway is SmsGatewayKind.DEV
            and not self.allow_dev_outbox
        ):
            raise ValueError(
                "SECURELOGIN_ENV=production needs SECURELOGIN_SMS_GATEWAY=http or twilio "
                "(or SECURELOGIN_ALLOW_DEV_OUTBOX=true to keep SMS in the development outbox)"
            )
        return self

    @model_validator(mode="after")
    def _sms_gateway_is_complete(self) -> Settings:
        needed = {
            SmsGatewayKind.DEV: (),
            SmsGatewayKind.HTTP: ("sms_http_url",),
            SmsGatewayKind.TWILIO: ("twilio_account_sid", "twilio_auth_token", "twilio_from"),
        }[self.sms_gateway]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            names = ", ".join(f"SECURELOGIN_{name.upper()}" for name in missing)
            raise ValueError(f"sms_gateway={self.sms_gateway.value} needs {names}")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
