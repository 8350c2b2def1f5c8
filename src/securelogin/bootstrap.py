"""The composition root: settings → adapters → services, wired explicitly (STYLE.md).

Nothing here runs at import time; entry points call :func:`bootstrap` once.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import httpx
from pydantic import ValidationError

from securelogin.adapters.channels.backchannel import HttpBackchannel
from securelogin.adapters.channels.mail import DevOutboxMail, SmtpMail
from securelogin.adapters.channels.sms import DevOutboxSms, HttpSmsGateway, TwilioSms
from securelogin.adapters.clock import SystemClock, SystemRandom
from securelogin.adapters.db.engine import make_engine, sqlite_path
from securelogin.adapters.db.uow import SqlDatabase, SqlUnitOfWork
from securelogin.adapters.faults import FileFaults
from securelogin.adapters.printing.card_pdf import CardRenderer
from securelogin.adapters.printing.statement_pdf import StatementRenderer
from securelogin.adapters.pskc_port import PskcSeedFiles
from securelogin.adapters.push.wiring import push_providers
from securelogin.adapters.security.ecdsa import EcdsaPushCrypto
from securelogin.adapters.security.jose import JoserfcJose
from securelogin.adapters.security.passwords import Argon2Passwords
from securelogin.adapters.security.secretbox import (
    AesGcmSecretBox,
    parse_keys,
    read_or_create_key_file,
)
from securelogin.adapters.security.webauthn import PyWebAuthnRelyingParty
from securelogin.adapters.wakeups.postgres import PostgresWakeups
from securelogin.adapters.wakeups.redis import RedisWakeups
from securelogin.config import Environment, Settings, SmsGatewayKind
from securelogin.domain.lifecycle import LifecyclePolicy
from securelogin.errors import ConfigurationError
from securelogin.service import notifications
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.ceremony.password import PasswordFactor
from securelogin.service.context import Policy, Services
from securelogin.service.funds import withdrawal_confirm
from securelogin.service.lifecycle import settings as security_settings
from securelogin.service.lifecycle import sharing
from securelogin.service.login import login
from securelogin.service.mobile_key_ports import MobileKeyPorts
from securelogin.service.oidc_ports import OidcPolicy, OidcPorts
from securelogin.service.ports import (
    Clock,
    Database,
    MailGateway,
    Random,
    SecretBox,
    SmsGateway,
    UnitOfWork,
    UnitOfWorkFactory,
)
from securelogin.service.wakeups import Wakeups


def load_settings(**overrides: object) -> Settings:
    """Environment + explicit overrides (CLI flags); one clear line when invalid."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"invalid setting {where}: {message}") from None


def master_keys(settings: Settings) -> list[bytes]:
    """SPEC §10.1: the key from the environment, a key file, or a development key file
    created (mode 0600) next to a SQLite database."""
    if settings.master_key is not None:
        return parse_keys(settings.master_key.get_secret_value())
    if settings.master_key_file is not None:
        return read_or_create_key_file(settings.master_key_file, create=False)
    db_file = sqlite_path(settings.database_url)
    if settings.env is Environment.DEVELOPMENT and db_file is not None:
        return read_or_create_key_file(db_file.with_name(db_file.name + ".key"), create=True)
    raise ConfigurationError(
        "set SECURELOGIN_MASTER_KEY or SECURELOGIN_MASTER_KEY_FILE (a development key file is "
        "only created for a SQLite database)"
    )


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list of R-LOGIN-2, read once per process (it is package data: it cannot change)."""
    text = resources.files("securelogin").joinpath("data/common-passwords.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def policy_from(settings: Settings) -> Policy:
    return Policy(
        common_passwords=common_passwords(),
        lockout_threshold=settings.lockout_threshold,
        lockout_window_hours=settings.lockout_window_hours,
        login_ttl_seconds=settings.login_ttl_seconds,
        session_idle_seconds=settings.session_idle_seconds,
        session_absolute_seconds=settings.session_absolute_seconds,
        timezone=settings.timezone,
        calendar=settings.calendar,
        opt_out_allowed=settings.opt_out_allowed,
        card_positions=settings.card_positions,
        online_card_days=settings.online_card_days,
        lifecycle=LifecyclePolicy(
            deposit_cents=settings.device_deposit_cents,
            ship_business_days=settings.ship_business_days,
            auto_activation_days=settings.auto_activation_days,
            reminder_days_before=settings.activation_reminder_days,
            closure_return_days=settings.closure_return_days,
        ),
        outbox_max_attempts=settings.outbox_max_attempts,
    )


def sms_gateway(settings: Settings) -> SmsGateway:
    """SPEC §8 "Channels"; the development outbox in production only when
    ``allow_dev_outbox`` says so (checked by the settings)."""
    timeout = settings.channel_timeout_seconds
    if settings.sms_gateway is SmsGatewayKind.HTTP and settings.sms_http_url:
        token = settings.sms_http_token
        return HttpSmsGateway(
            httpx.Client(timeout=timeout),
            url=settings.sms_http_url,
            token=token.get_secret_value() if token else None,
            timeout=timeout,
        )
    if (
        settings.sms_gateway is SmsGatewayKind.TWILIO
        and settings.twilio_account_sid
        and settings.twilio_auth_token
        and settings.twilio_from
    ):
        return TwilioSms(
            httpx.Client(timeout=timeout),
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from,
            timeout=timeout,
        )
    return DevOutboxSms()


def mail_gateway(settings: Settings) -> MailGateway:
    """SMTP when ``smtp_host`` is set, else the development outbox."""
    if settings.smtp_host is None:
        return DevOutboxMail()
    password = settings.smtp_password
    return SmtpMail(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
        timeout=settings.channel_timeout_seconds,
    )


def wakeups_for(settings: Settings) -> Wakeups | None:
    """How the server processes of this installation wake each other's long-polls:
    Redis pub/sub when ``SECURELOGIN_REDIS_URL`` is set, else LISTEN/NOTIFY on
    PostgreSQL (unless ``SECURELOGIN_LISTEN_NOTIFY=false``), else nothing (SQLite: one
    process; the poller covers several anyway)."""
    url = settings.database_url
    if settings.redis_url is not None:
        return RedisWakeups(settings.redis_url.get_secret_value(), database_url=url)
    if settings.listen_notify and url.startswith(("postgresql", "postgres")):
        return PostgresWakeups(url)
    return None


def bootstrap(
    settings: Settings,
    *,
    migrate: bool = False,
    clock: Clock | None = None,
    random: Random | None = None,
) -> Services:
    """Open the database (and migrate it when asked) and wire every service."""
    engine = make_engine(settings.database_url, threads=settings.threads)
    database = SqlDatabase(engine)
    try:
        keys = master_keys(settings)
        if migrate:
            database.upgrade()
    except BaseException:
        database.close()
        raise
    real_clock = clock or SystemClock()
    box = AesGcmSecretBox(keys)
    faults = None
    if settings.test_faults_dir is not None:
        if settings.env is Environment.PRODUCTION:
            database.close()
            raise ConfigurationError("SECURELOGIN_TEST_FAULTS_DIR is for the test suite only")
        faults = FileFaults(settings.test_faults_dir)
    uow_factory: Callable[[], UnitOfWork] = lambda: SqlUnitOfWork(  # noqa: E731
        engine, real_clock, box, faults
    )
    services = wire(
        settings,
        uow=uow_factory,
        database=database,
        keys=keys,
        box=box,
        clock=real_clock,
        random=random,
    )
    if faults is not None:
        services = dataclasses.replace(services, fault=faults.at)
    if migrate:
        notifications.seal_stored_messages(services)
    return services


def wire(
    settings: Settings,
    *,
    uow: UnitOfWorkFactory,
    database: Database,
    keys: list[bytes],
    box: SecretBox,
    clock: Clock,
    random: Random | None = None,
) -> Services:
    """Every service around a given storage and master keys (``bootstrap`` gives the SQL
    storage; the tests wire their in-memory unit of work here too)."""
    passwords = Argon2Passwords(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    return Services(
        uow=uow,
        database=database,
        clock=clock,
        random=random or SystemRandom(),
        box=box,
        passwords=passwords,
        policy=policy_from(settings),
        seed_files=PskcSeedFiles(),
        printer=CardRenderer(),
        statements=StatementRenderer(),
        sms=sms_gateway(settings),
        mail=mail_gateway(settings),
        mobile=MobileKeyPorts(
            crypto=EcdsaPushCrypto(keys[0]),
            providers=push_providers(
                vapid_key_file=settings.push_vapid_key_file,
                vapid_subject=settings.push_vapid_subject,
                fcm_credentials_file=settings.fcm_credentials_file,
                fcm_api=settings.fcm_api,
                apns_key_file=settings.apns_key_file,
                apns_key_id=settings.apns_key_id,
                apns_team_id=settings.apns_team_id,
                apns_topic=settings.apns_topic,
                apns_api=settings.apns_api,
                timeout=settings.channel_timeout_seconds,
            ),
            webpush_http_hosts=frozenset(
                h.strip() for h in settings.push_webpush_http_hosts.split(",") if h.strip()
            ),
        ),
        oidc=OidcPorts(
            jose=JoserfcJose(),
            backchannel=HttpBackchannel(timeout=settings.channel_timeout_seconds),
            policy=OidcPolicy(
                code_seconds=settings.oidc_code_seconds,
                access_token_seconds=settings.oidc_access_token_seconds,
                id_token_seconds=settings.oidc_access_token_seconds,
                key_rotation_seconds=settings.oidc_key_rotation_days * 24 * 3600,
                key_overlap_seconds=settings.oidc_key_overlap_days * 24 * 3600,
            ),
        ),
        webauthn=PyWebAuthnRelyingParty(
            rp_id=settings.webauthn_rp_id,
            rp_name=settings.webauthn_rp_name,
            origins=settings.webauthn_origin_list,
        ),
        # the ceremony's clients: what an approved push does, per purpose (issue 11)
        on_approval={
            Purpose.LOGIN: login.push_approved,
            Purpose.WITHDRAWAL: withdrawal_confirm.push_approved,
            Purpose.SHARE: sharing.push_approved,
            Purpose.SETTINGS: security_settings.push_approved,
        },
        on_denial={
            Purpose.WITHDRAWAL: withdrawal_confirm.push_denied,
            Purpose.SHARE: sharing.push_denied,
        },
        # how a user with no device confirms (R-WD-4: the password, at rank 0; R-OPT-2:
        # the password typed again under the waiver)
        without_device={
            Purpose.WITHDRAWAL: PasswordFactor(passwords=passwords),
            Purpose.SETTINGS: PasswordFactor(passwords=passwords),
        },
    )


def default_database_path(settings: Settings) -> Path | None:
    return sqlite_path(settings.database_url)
