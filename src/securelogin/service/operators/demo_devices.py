"""``securelogin admin demo-device SERIAL [CHALLENGE]``: play a demo card or token, so that
a person trying the demo can log in without hardware.  Refuses every device that the demo
did not create: it reads seeds, which no tool may do for a real device."""

from __future__ import annotations

from collections.abc import Callable

from securelogin.domain import otp
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.registry import PLUGINS
from securelogin.errors import Forbidden, InvalidInput, NotFound
from securelogin.service.context import Services

DEMO_ORIGIN = "demo"


def play_demo_device(
    services: Services, serial: str, *, challenge: str | None, ask_pin: Callable[[], str]
) -> str:
    """What the demo device would show: a TOTP code now, or the OCRA response to
    ``challenge`` (after the PIN for a DSC+; a wrong PIN gives a wrong response)."""
    with services.uow() as uow:
        device = uow.device_access.by_serial(serial)
    if device is None:
        raise NotFound(f"no device with serial {serial}")
    if device.origin != DEMO_ORIGIN:
        raise Forbidden(
            f"device {serial} was not created by the demo; demo-device plays demo devices only"
        )
    kind = DeviceKind(device.kind)
    box = services.box
    secret = (
        box.open(device.secret, context=f"device:{device.public_id}") if device.secret else None
    )
    if kind in (DeviceKind.DSC, DeviceKind.TOTP_APP) and secret is not None:
        return otp.totp(
            secret, at=services.clock.now().timestamp(), digits=int(device.params.get("digits", 6))
        )
    if kind is DeviceKind.TEMPORARY_CODE and secret is not None:
        return secret.decode()
    suite = getattr(PLUGINS.get(kind), "suite", None)
    if suite is None or secret is None:
        raise InvalidInput(
            f"a {kind} shows nothing to compute: "
            + (
                "open its card PDF"
                if "card" in kind
                else "read the code with `securelogin admin outbox`"
            )
        )
    return _respond(suite, secret, challenge, ask_pin)


def _respond(suite: str, secret: bytes, challenge: str | None, ask_pin: Callable[[], str]) -> str:
    parsed = otp.parse_ocra_suite(suite)
    if challenge is None or not challenge.isdigit() or len(challenge) != parsed.question_length:
        raise InvalidInput(
            f"give the {parsed.question_length}-digit challenge shown on the login screen",
            field="challenge",
        )
    pin = ask_pin() if parsed.pin_algorithm else None
    if pin is not None and not (pin.isdigit() and len(pin) == 4):
        raise InvalidInput("the PIN is 4 digits", field="pin")
    return otp.ocra(parsed, secret, question=challenge, pin=pin)
