"""The mobile key's server side (R-KEY-1..3): activation by SMS code or portal QR,
the recovery PIN, several usernames in one app, one phone per username, and the
signed calls of an app (docs/mobile-key-protocol.md).
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.base import digits
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.mobile_key import (
    check_phone_country,
    check_recovery_pin,
    check_webpush_subscription,
)
from securelogin.domain.devices.registry import MOBILE_KEY_SUITE
from securelogin.domain.identity import mask_phone
from securelogin.domain.push import fresh, request_string
from securelogin.errors import (
    ActivationFailed,
    InvalidCredentials,
    InvalidInput,
    KeySignatureInvalid,
    Locked,
    PushSubscriptionRejected,
    RecoveryPinRejected,
    TooManyCodes,
    UnknownActivation,
)
from securelogin.service.audit import record_user_event
from securelogin.service.ceremony import counting, factors
from securelogin.service.ceremony.push import ports
from securelogin.service.context import Services
from securelogin.service.importing import new_device_id
from securelogin.service.login import key_pin, login
from securelogin.service.login_ports import FailureCounter
from securelogin.service.mobile_key_ports import ActivationRow, AppRow, AppUser
from securelogin.service.ports import NewDevice, UnitOfWork, UserRow
from securelogin.service.sessions import CurrentSession

ACTIVATION_TTL = timedelta(minutes=10)
MAX_ACTIVATION_CODES = 3
MAX_ACTIVATION_ANSWERS = 3
OCRA_SECRET_BYTES = 32
PROVIDERS = ("webpush", "fcm", "apns")
#: the longest push target kept (an FCM/APNs token, a Web Push subscription's JSON)
MAX_PUSH_TARGET = 4000


@dataclass(frozen=True, kw_only=True)
class PhoneChoice:
    phone_id: str
    masked: str
    preselected: bool


@dataclass(frozen=True, kw_only=True)
class ActivationStarted:
    activation_id: str
    phones: list[PhoneChoice]
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PushTarget:
    provider: str
    target: str  # the FCM/APNs token, or the Web Push subscription as JSON


@dataclass(frozen=True, kw_only=True)
class Enrolled:
    app_id: str
    device_id: str
    username: str
    server_public_key: str
    suite: str
    secret: str  # base64url, given once


def _token(services: Services, prefix: str) -> str:
    return prefix + base64.urlsafe_b64encode(services.random.token_bytes(16)).decode().rstrip("=")


def _phone_id(services: Services, phone: str) -> str:
    return "ph_" + services.box.fingerprint(phone.encode(), purpose="key-phone")[:16]


def start_activation(services: Services, *, username: str, password: str) -> ActivationStarted:
    """R-KEY-1 step 1: the password step of a login (same answers and counters), then
    the phones on record, the user's own number preselected."""
    now = services.clock.now()
    user = login.check_password(services, username, password, now=now)
    activation_id = _token(services, "ka_")
    with services.uow() as uow:
        uow.failures.clear(user.id, FailureCounter.PASSWORD)
        uow.mobile_keys.add_activation(
            activation_id=activation_id,
            user_id=user.id,
            method="sms",
            now=now,
            expires_at=now + ACTIVATION_TTL,
        )
        phones = uow.mobile_keys.phones_of(user.id)
        record_user_event(uow, "mobile_key.activation_started", user.username)
        uow.commit()
    return ActivationStarted(
        activation_id=activation_id,
        phones=[
            PhoneChoice(phone_id=_phone_id(services, p), masked=mask_phone(p), preselected=i == 0)
            for i, p in enumerate(phones)
        ],
        expires_at=now + ACTIVATION_TTL,
    )


def start_qr_activation(services: Services, session: CurrentSession) -> ActivationStarted:
    """R-KEY-1 from the portal: the logged-in session already proved password and device;
    the QR code carries this one-time activation id (10 minutes)."""
    now = services.clock.now()
    activation_id = _token(services, "kq_")
    with services.uow() as uow:
        user = uow.users.by_id(session.user_id)
        assert user is not None  # noqa: S101 - a session always has its user
        uow.mobile_keys.add_activation(
            activation_id=activation_id,
            user_id=user.id,
            method="qr",
            now=now,
            expires_at=now + ACTIVATION_TTL,
        )
        record_user_event(uow, "mobile_key.qr_issued", user.username)
        uow.commit()
    return ActivationStarted(
        activation_id=activation_id, phones=[], expires_at=now + ACTIVATION_TTL
    )


def _open_activation(uow: UnitOfWork, activation_id: str, now: datetime) -> ActivationRow:
    found = uow.mobile_keys.activation(activation_id)
    if found is None or found.ended_at is not None or now >= found.expires_at:
        raise UnknownActivation
    return found


def send_activation_code(
    services: Services,
    activation_id: str,
    *,
    phone_id: str | None = None,
    phone: str | None = None,
    country: str | None = None,
) -> str:
    """R-KEY-1 step 2: a 6-digit activation code by SMS (through the outbox) to a phone on
    record or to a number added with its country; at most 3 codes per activation."""
    now = services.clock.now()
    if (phone_id is None) == (phone is None):
        raise InvalidInput("give either phone_id or phone with its country", field="phone")
    if phone is not None:
        try:
            check_phone_country(phone, country or "")
        except ValueError as exc:
            raise InvalidInput(f"phone: {exc}", field="phone") from None
    with services.uow() as uow:
        activation = _open_activation(uow, activation_id, now)
        if activation.method != "sms":
            raise UnknownActivation
        if phone_id is not None:
            on_record = uow.mobile_keys.phones_of(activation.user_id)
            phone = next((p for p in on_record if _phone_id(services, p) == phone_id), None)
            if phone is None:
                raise InvalidInput("no such phone on record", field="phone_id")
        assert phone is not None  # noqa: S101 - checked above
        code = digits(services.random.randbelow, 6)
        code_hash = services.box.fingerprint(
            code.encode(), purpose=f"key-activation:{activation_id}"
        )
        if not uow.mobile_keys.set_code(
            activation_id, phone=phone, code_hash=code_hash, limit=MAX_ACTIVATION_CODES
        ):
            raise TooManyCodes("No more activation codes can be sent; start again")
        uow.outbox.enqueue(
            channel="sms",
            to=phone,
            text=f"{code} is your securelogin Mobile Key activation code. It expires in 10"
            " minutes. Never share it with anyone.",
        )
        user = uow.users.by_id(activation.user_id)
        record_user_event(
            uow, "mobile_key.code_sent", user.username if user else "?", to=mask_phone(phone)
        )
        uow.commit()
    factors.deliver_codes(services)
    return mask_phone(phone)


def _check_pin(services: Services, uow: UnitOfWork, user: UserRow, pin: str) -> None:
    """R-KEY-2 format and "not your birth date, phone or ID number" (nothing written)."""
    forbidden = list(uow.mobile_keys.phones_of(user.id))
    found = uow.mobile_keys.identification_of(user.id)
    if found is not None:
        external_id, sealed = found
        ident = json.loads(services.box.open(sealed, context=f"entity:{external_id}"))
        forbidden += [str(v) for k, v in ident.items() if v and k in _PERSONAL]
    try:
        check_recovery_pin(pin, forbidden=forbidden)
    except ValueError as exc:
        raise RecoveryPinRejected(f"recovery_pin {exc}") from None


_PERSONAL = ("date_of_birth", "document_number", "ssn")


def _factor_failure(services: Services, uow: UnitOfWork, user: UserRow, now: datetime) -> None:
    if (
        uow.failures.reserve(
            user.id, FailureCounter.FACTOR, now=now, lockout=counting.lockout(services, now)
        )
        is None
    ):
        raise Locked(retry_at=counting.locked_until(services, user, now) or now)


def complete_activation(
    services: Services,
    activation_id: str,
    *,
    code: str | None,
    public_key: str,
    recovery_pin: str,
    push: PushTarget | None = None,
    pin: key_pin.PinSetting | None = None,
) -> Enrolled:
    """R-KEY-1 step 3 (R-KEY-2, R-KEY-3): check the code (a second-factor answer), register
    the app's public key, provision the OCRA secret, replace the user's key elsewhere;
    ``pin`` registers the server-assisted app PIN (issue 12 §6)."""
    now = services.clock.now()
    key = _public_key(services, public_key)
    push = _check_push(services, push)
    with services.uow() as uow:
        activation = _open_activation(uow, activation_id, now)
        user = uow.users.by_id(activation.user_id)
        assert user is not None  # noqa: S101 - an activation always has its user
        _check_pin(services, uow, user, recovery_pin)
        if activation.method == "sms":
            _check_code(services, uow, activation, user, code, now)
        prior = uow.mobile_keys.recovery_pin(user.id)
        if prior is not None and not services.passwords.verify(prior, recovery_pin):
            _factor_failure(services, uow, user, now)
            record_user_event(uow, "mobile_key.recovery_pin_failed", user.username)
            uow.commit()
            raise InvalidCredentials
        if not uow.mobile_keys.end_activation(activation_id, now=now):
            raise UnknownActivation
        pin_hash = prior or services.passwords.hash(recovery_pin)
        app_id = _token(services, "app_")
        app_ref = uow.mobile_keys.add_app(
            app_id=app_id,
            public_key=key,
            recovery_pin_hash=pin_hash,
            push_provider=push.provider if push else None,
            push_target=push.target if push else None,
            now=now,
            pin=key_pin.stored(services, app_id, pin) if pin else None,
        )
        if prior is None:
            uow.mobile_keys.set_recovery_pin(user.id, pin_hash=pin_hash, now=now)
        enrolled = _enrol(services, uow, app_ref, app_id, user, now)
        record_user_event(
            uow, "mobile_key.activated", user.username, app_id=app_id, via=activation.method
        )
        uow.commit()
    return enrolled


def _check_code(
    services: Services,
    uow: UnitOfWork,
    activation: ActivationRow,
    user: UserRow,
    code: str | None,
    now: datetime,
) -> None:
    if code is None or activation.code_hash is None:
        raise InvalidInput("the SMS activation code is required (request one first)", field="code")
    _factor_failure(services, uow, user, now)
    attempts = uow.mobile_keys.take_attempt(activation.id, limit=MAX_ACTIVATION_ANSWERS)
    if attempts is None:
        raise UnknownActivation
    given = services.box.fingerprint(
        code.strip().encode(), purpose=f"key-activation:{activation.id}"
    )
    if not hmac.compare_digest(given, activation.code_hash):
        record_user_event(uow, "mobile_key.code_failed", user.username, attempt=attempts)
        if attempts >= MAX_ACTIVATION_ANSWERS:
            uow.mobile_keys.end_activation(activation.id, now=now)
        uow.commit()
        raise ActivationFailed
    uow.failures.clear(user.id, FailureCounter.FACTOR)


def _public_key(services: Services, encoded: str) -> bytes:
    try:
        return ports(services).crypto.load_public_key(encoded)
    except ValueError:
        raise InvalidInput(
            "public_key must be base64url of a P-256 SubjectPublicKeyInfo", field="public_key"
        ) from None


def _check_push(services: Services, push: PushTarget | None) -> PushTarget | None:
    """The push target as kept: a Web Push subscription checked and in canonical form
    (``check_webpush_subscription``), an FCM/APNs token of sane length; 422
    ``push_subscription_rejected`` otherwise (nothing written)."""
    if push is None:
        return None
    if push.provider not in PROVIDERS or not 0 < len(push.target) <= MAX_PUSH_TARGET:
        raise PushSubscriptionRejected("push: provider webpush, fcm or apns with its token")
    if push.provider != "webpush":
        return push
    try:
        subscription = json.loads(push.target)
        hosts = ports(services).webpush_http_hosts
        kept = check_webpush_subscription(subscription, http_hosts=hosts)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise PushSubscriptionRejected(f"push.subscription: {exc}") from None
    return PushTarget(provider="webpush", target=kept)


def set_push(services: Services, app: AppRow, push: PushTarget | None) -> None:
    """A signed call: the app's wake-up target set (notifications turned on after the
    activation) or cleared (``None``: turned off); the pull channel works either way."""
    kept = _check_push(services, push)
    with services.uow() as uow:
        uow.mobile_keys.set_push(
            app.id,
            provider=kept.provider if kept else None,
            target=kept.target if kept else None,
        )
        action = "mobile_key.push_set" if kept else "mobile_key.push_cleared"
        data = {"provider": kept.provider} if kept else {}
        uow.audit.record(AuditEvent(action=action, actor=app.app_id, subject=app.app_id, data=data))
        uow.commit()


def _enrol(
    services: Services, uow: UnitOfWork, app_ref: int, app_id: str, user: UserRow, now: datetime
) -> Enrolled:
    """One mobile_key device for (app, user) with a fresh OCRA secret; the user's key on
    any other app is deactivated (R-KEY-3)."""
    secret = services.random.token_bytes(OCRA_SECRET_BYTES)
    public_id = new_device_id(services)
    device_id = uow.devices.add(
        NewDevice(
            public_id=public_id,
            kind=DeviceKind.MOBILE_KEY.value,
            owner_id=user.id,
            state="active",
            label="Mobile Key",
            secret=services.box.seal(secret, context=f"device:{public_id}"),
            params={"app_id": app_id},
            origin="app",
        ),
        at=now,
    )
    uow.mobile_keys.link(app_ref=app_ref, user_id=user.id, device_id=device_id, now=now)
    replaced = uow.mobile_keys.replace_keys(user.id, keep_device_id=device_id, now=now)
    if replaced:
        record_user_event(uow, "mobile_key.replaced", user.username, devices=len(replaced))
    return Enrolled(
        app_id=app_id,
        device_id=public_id,
        username=user.username,
        server_public_key=ports(services).crypto.server_public_key(),
        suite=MOBILE_KEY_SUITE,
        secret=base64.urlsafe_b64encode(secret).decode().rstrip("="),
    )


def authenticate_app(
    services: Services,
    *,
    app_id: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str,
    body: bytes,
) -> AppRow:
    """A signed app call: known active app, time within 120 s, valid signature."""
    now = services.clock.now()
    if not app_id or not timestamp or not signature or not fresh(timestamp, now=now):
        raise KeySignatureInvalid
    with services.uow() as uow:
        app = uow.mobile_keys.app(app_id)
    if app is None or app.state != "active":
        raise KeySignatureInvalid
    message = request_string(method=method, path=path, timestamp=timestamp, body=body)
    if not ports(services).crypto.verify(app.public_key, signature, message):
        raise KeySignatureInvalid
    return app


def add_user(
    services: Services, app: AppRow, *, username: str, password: str, recovery_pin: str
) -> Enrolled:
    """R-KEY-2/3: another username in the same app, with its password and the app's
    recovery PIN; the username's key on another app is deactivated."""
    now = services.clock.now()
    user = login.check_password(services, username, password, now=now)
    with services.uow() as uow:
        uow.failures.clear(user.id, FailureCounter.PASSWORD)
        if not services.passwords.verify(app.recovery_pin_hash, recovery_pin):
            _factor_failure(services, uow, user, now)
            record_user_event(
                uow, "mobile_key.recovery_pin_failed", user.username, app_id=app.app_id
            )
            uow.commit()
            raise InvalidCredentials
        if uow.mobile_keys.recovery_pin(user.id) is None:
            uow.mobile_keys.set_recovery_pin(user.id, pin_hash=app.recovery_pin_hash, now=now)
        enrolled = _enrol(services, uow, app.id, app.app_id, user, now)
        record_user_event(uow, "mobile_key.user_added", user.username, app_id=app.app_id)
        uow.commit()
    return enrolled


def app_users(services: Services, app: AppRow) -> list[AppUser]:
    with services.uow() as uow:
        return uow.mobile_keys.app_users(app.id)
