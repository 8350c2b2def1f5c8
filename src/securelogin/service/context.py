"""What every use case receives: the ports, wired once by ``bootstrap`` (STYLE.md rule 11)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from securelogin.domain.devices.catalogue import DEFAULT_CATALOGUE, DeviceKind, KindInfo
from securelogin.domain.lifecycle import LifecyclePolicy
from securelogin.service.ceremony.knowledge import KnownFactor
from securelogin.service.ceremony.outcomes import Approval, Denial, Purpose
from securelogin.service.lifecycle_ports import StatementPrinter
from securelogin.service.mobile_key_ports import MobileKeyPorts
from securelogin.service.oidc_ports import OidcPorts
from securelogin.service.ports import (
    CardPrinter,
    Clock,
    Database,
    MailGateway,
    PasswordHasher,
    Random,
    SecretBox,
    SeedFileReader,
    SmsGateway,
    UnitOfWork,
    UnitOfWorkFactory,
)
from securelogin.service.webauthn_ports import RelyingParty


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The configurable numbers of the SPEC, in the units the services use."""

    common_passwords: frozenset[str] = frozenset()
    catalogue: dict[DeviceKind, KindInfo] = field(default_factory=lambda: DEFAULT_CATALOGUE)
    lockout_threshold: int = 10
    lockout_window_hours: int = 24
    login_ttl_seconds: int = 180
    session_idle_seconds: int = 300
    session_absolute_seconds: int = 12 * 3600
    timezone: str = "America/New_York"
    calendar: str = "XNYS"
    opt_out_allowed: bool = True
    #: R-OPS-5: a notification is given up after this many failed attempts
    outbox_max_attempts: int = 8
    #: SPEC §3: positions of a new security code card
    card_positions: int = 200
    #: R-LOST-2: an online security code card is valid this many days
    online_card_days: int = 21
    #: §5.4–5.6: replacement, deposit, auto-activation, reminders, expiry (issue 6)
    lifecycle: LifecyclePolicy = field(default_factory=LifecyclePolicy)
    #: operator console sessions (issue 6): idle timeout, absolute lifetime
    operator_idle_seconds: int = 15 * 60
    operator_session_seconds: int = 8 * 3600
    #: R-LOST-1: a temporary code needs an identity check recorded this recently
    identity_check_minutes: int = 30


class ApprovalHandler(Protocol):
    """A ceremony's client: books the effect of an approval in the approval's own unit
    of work (it must not commit; raising rolls the approval back too)."""

    def __call__(self, services: Services, uow: UnitOfWork, approval: Approval) -> None: ...


class DenialHandler(Protocol):
    """A ceremony's client: what a push denied on the device ends (a withdrawal refused,
    a share request failed), in the denial's unit of work (it must not commit)."""

    def __call__(self, services: Services, uow: UnitOfWork, denial: Denial) -> None: ...


def no_fault(point: str) -> None:
    """No test hook (production): see ``adapters/faults.py``."""


@dataclass(frozen=True, kw_only=True)
class Services:
    uow: UnitOfWorkFactory
    database: Database
    clock: Clock
    random: Random
    box: SecretBox
    passwords: PasswordHasher
    seed_files: SeedFileReader
    sms: SmsGateway
    mail: MailGateway
    printer: CardPrinter
    statements: StatementPrinter
    policy: Policy
    #: the mobile key's signatures and push providers (issue 4)
    mobile: MobileKeyPorts | None = None
    #: the OpenID Connect provider's JOSE and back-channel logout (issue 16 §1)
    oidc: OidcPorts | None = None
    #: the WebAuthn relying party: passkeys, the app's biometric unlock (issue 16, 15)
    webauthn: RelyingParty | None = None
    #: what each purpose does with an approved push (wired in bootstrap.py, issue 11)
    on_approval: Mapping[Purpose, ApprovalHandler] = field(default_factory=dict)
    #: how a user with no device confirms, per purpose (R-WD-4: the password for a
    #: withdrawal; wired in bootstrap.py); a purpose not named here needs a device
    without_device: Mapping[Purpose, KnownFactor] = field(default_factory=dict)
    #: what each purpose does when its push is denied (a login needs none: its status
    #: is its ceremony's state)
    on_denial: Mapping[Purpose, DenialHandler] = field(default_factory=dict)
    #: a test hook at named points of a use case (``ceremony.push.AFTER_APPROVAL``)
    fault: Callable[[str], None] = no_fault
