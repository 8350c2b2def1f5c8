"""Passkeys (issue 16 §2): registered after a login with a device, used as the second
factor of a login and of a withdrawal (R-WD-4), removed — and every assertion that must
not pass (wrong origin, wrong RP ID, no user verification, replay, a sign count going
back) refused with a clear error that changes nothing.  SQLite and PostgreSQL; the
authenticator is tests/webauthn_kit.py (the browser tests use Chromium's)."""

from __future__ import annotations

from typing import Any

import pytest

from securelogin.domain.access import Platform
from securelogin.errors import (
    AlreadyUsed,
    ConfirmationFailed,
    DeviceLoginRequired,
    LoginClosed,
    LoginFailed,
    PasskeyCeremonyClosed,
    PasskeyRejected,
    Unauthenticated,
    UnknownPasskey,
)
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.login import login, passkeys
from securelogin.service.sessions import CurrentSession
from tests import withdrawal_kit
from tests.devices import PASSWORD
from tests.fakes import FakeClock
from tests.webauthn_kit import SoftAuthenticator, unb64url


@pytest.fixture
def maya(services: Services) -> CurrentSession:
    """A user with an SMS device, logged in with it."""
    withdrawal_kit.load(services, {"maya": ["sms"]})
    return sessions.authenticate(services, withdrawal_kit.session_token(services, "maya", "sms"))


def register(services: Services, current: CurrentSession, key: SoftAuthenticator) -> str:
    started = passkeys.start_registration(services, current, label="Laptop")
    options = dict(started.options)
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    done = passkeys.finish_registration(
        services, current, registration_id=started.registration_id, credential=key.create(options)
    )
    return done.device_id


def passkey_login(services: Services) -> tuple[str, dict[str, Any]]:
    started = login.start_login(
        services, username="maya", password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None and started.factor.kind == "passkey"  # strongest
    return started.login_id, started.factor.prompt.as_json()


def counter(services: Services, device_id: str) -> int | None:
    with services.uow() as uow:
        found = uow.lifecycle.device_by_public_id(device_id)
        assert found is not None
        row = uow.device_access.by_id(found.id)
        assert row is not None
        return row.last_counter


def test_R_LOGIN_4_a_passkey_registered_after_a_device_login_logs_in_at_rank_2(
    services: Services, maya: CurrentSession
) -> None:
    key = SoftAuthenticator()
    device_id = register(services, maya, key)
    assert [p.label for p in passkeys.list_passkeys(services, maya)] == ["Laptop"]
    login_id, prompt = passkey_login(services)
    assert prompt["type"] == "passkey" and prompt["rp_id"] == "localhost"
    assert len(unb64url(prompt["challenge"])) == 24
    grant = login.answer_login(services, login_id, key.get(prompt["challenge"]))
    assert grant.tier.rank == 2 and grant.tier.device_kind == "passkey"
    assert counter(services, device_id) == 1


def test_R_LOGIN_6_refused_assertions_change_nothing(
    services: Services, maya: CurrentSession
) -> None:
    """Wrong origin, wrong RP ID, no user verification, another credential: 401
    ``login_failed`` each time, no session, the sign count where it was."""
    key = SoftAuthenticator()
    device_id = register(services, maya, key)
    stranger = SoftAuthenticator()
    for bad in (
        lambda c: key.get(c, origin="http://evil.example:8000"),
        lambda c: key.get(c, rp_id="evil.example"),
        lambda c: key.get(c, uv=False),
        lambda c: stranger.get(c),
        lambda c: "{not json",
    ):
        login_id, prompt = passkey_login(services)
        with pytest.raises(LoginFailed):
            login.answer_login(services, login_id, bad(prompt["challenge"]))
        assert login.login_state(services, login_id).status == "challenge"
        assert counter(services, device_id) is None
    # the right assertion still works on a fresh login
    login_id, prompt = passkey_login(services)
    key.count = 0
    login.answer_login(services, login_id, key.get(prompt["challenge"]))


def test_R_LOGIN_6_a_replayed_passkey_assertion_is_refused(
    services: Services, maya: CurrentSession
) -> None:
    key = SoftAuthenticator()
    register(services, maya, key)
    login_id, prompt = passkey_login(services)
    assertion = key.get(prompt["challenge"])
    login.answer_login(services, login_id, assertion)
    with pytest.raises((LoginClosed, AlreadyUsed)):
        login.answer_login(services, login_id, assertion)
    # the same assertion against a new login's challenge: the signature covers the old one
    other, _ = passkey_login(services)
    with pytest.raises(LoginFailed):
        login.answer_login(services, other, assertion)


def test_R_LOGIN_6_a_sign_count_going_back_is_refused_and_audited(
    services: Services, maya: CurrentSession
) -> None:
    """A clone warning: the credential answered with a count not above the last one."""
    key = SoftAuthenticator()
    device_id = register(services, maya, key)
    login_id, prompt = passkey_login(services)
    login.answer_login(services, login_id, key.get(prompt["challenge"], count=7))
    login_id, prompt = passkey_login(services)
    with pytest.raises(LoginFailed):
        login.answer_login(services, login_id, key.get(prompt["challenge"], count=3))
    assert counter(services, device_id) == 7
    with services.uow() as uow:
        chain = list(uow.audit.chain())
    events = [c.event for c in chain if c.event.action == "device.clone_warning"]
    assert len(events) == 1
    assert events[0].subject == device_id
    assert dict(events[0].data) == {"kind": "passkey", "stored_count": 7, "received_count": 3}


def test_R_LOGIN_6_registration_refusals_change_nothing(
    services: Services, maya: CurrentSession, clock: FakeClock
) -> None:
    key = SoftAuthenticator()
    for bad in (
        {"origin": "http://evil.example:8000"},
        {"rp_id": "evil.example"},
        {"uv": False},
    ):
        started = passkeys.start_registration(services, maya)
        with pytest.raises(PasskeyRejected):
            passkeys.finish_registration(
                services,
                maya,
                registration_id=started.registration_id,
                credential=key.create(dict(started.options), **bad),  # type: ignore[arg-type]
            )
        assert passkeys.list_passkeys(services, maya) == []
    # single use: the registration that succeeded cannot be finished again
    started = passkeys.start_registration(services, maya)
    answer = key.create(dict(started.options))
    passkeys.finish_registration(
        services, maya, registration_id=started.registration_id, credential=answer
    )
    with pytest.raises(PasskeyCeremonyClosed):
        passkeys.finish_registration(
            services, maya, registration_id=started.registration_id, credential=answer
        )
    # expiring: 5 minutes
    started = passkeys.start_registration(services, maya)
    clock.advance(seconds=301)
    with pytest.raises(PasskeyCeremonyClosed):
        passkeys.finish_registration(
            services,
            maya,
            registration_id=started.registration_id,
            credential=SoftAuthenticator().create(dict(started.options)),
        )
    assert len(passkeys.list_passkeys(services, maya)) == 1


def test_R_LOGIN_7_a_password_only_session_cannot_add_a_passkey(
    services: Services, maya: CurrentSession
) -> None:
    from dataclasses import replace

    from securelogin.service.sessions import Tier

    password_only = replace(maya, tier=Tier(rank=0, device_kind=None))
    with pytest.raises(DeviceLoginRequired):
        passkeys.start_registration(services, password_only)


def test_R_LOGIN_11_removing_a_passkey_ends_it_and_its_sessions(
    services: Services, maya: CurrentSession
) -> None:
    key = SoftAuthenticator()
    device_id = register(services, maya, key)
    login_id, prompt = passkey_login(services)
    grant = login.answer_login(services, login_id, key.get(prompt["challenge"]))
    passkeys.remove_passkey(services, maya, device_id=device_id)
    assert passkeys.list_passkeys(services, maya) == []
    with pytest.raises(Unauthenticated):
        sessions.authenticate(services, grant.token)
    with pytest.raises(UnknownPasskey):
        passkeys.remove_passkey(services, maya, device_id=device_id)
    started = login.start_login(
        services, username="maya", password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None and started.factor.kind == "sms"


def test_R_WD_4_a_passkey_confirms_only_the_withdrawal_its_challenge_was_derived_from(
    services: Services, maya: CurrentSession
) -> None:
    key = SoftAuthenticator()
    register(services, maya, key)

    def start(amount: int, destination: str, idem: str) -> withdrawals.WithdrawalStarted:
        request = withdrawals.WithdrawalRequest(
            account=withdrawal_kit.ACCOUNT,
            amount_cents=amount,
            destination=destination,
            idempotency_key=idem,
        )
        return withdrawals.request_withdrawal(services, maya, request)

    first = start(25_000, "Chase ****1234", "k-1")
    second = start(25_000, "Chase ****9999", "k-2")
    assert first.factor is not None and second.factor is not None
    p1, p2 = first.factor.prompt, second.factor.prompt
    assert p1.type == "passkey" and p1.amount == "250.00" and p1.destination == "Chase ****1234"
    assert p1.challenge != p2.challenge
    # an assertion over the first withdrawal's challenge does not confirm the second
    assert p1.challenge is not None
    with pytest.raises(ConfirmationFailed):
        withdrawal_confirm.confirm_withdrawal(
            services, maya, second.withdrawal_id, key.get(p1.challenge)
        )
    done = withdrawal_confirm.confirm_withdrawal(
        services, maya, first.withdrawal_id, key.get(p1.challenge)
    )
    assert done.status == "accepted"
