"""How the second-factor page shows each prompt of SPEC §10.2 (R-LOGIN-4).

The prompt comes from the login service; this module only picks the words and the input
for it: the steps the original articles give for each device (DSC+: PIN, then the
challenge, then the response; the code card's two index numbers; "code sent to
+1•••••••89"; "enter code"), and the keyboard a phone should offer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from securelogin.domain.devices.base import PromptType
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.service.ceremony.factors import FactorView

#: the steps above the challenge code, per device kind (catalogue keys)
CHALLENGE_STEPS: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.DSC_PLUS: ("verify.dsc_plus.1", "verify.dsc_plus.2", "verify.response_step"),
    DeviceKind.PLATINUM_CARD: ("verify.legacy.1", "verify.response_step"),
    DeviceKind.GOLD_CARD: ("verify.legacy.1", "verify.response_step"),
    DeviceKind.MOBILE_KEY: ("verify.mobile_key.1", "verify.mobile_key.2", "verify.mobile_key.3"),
}
CHALLENGE_DEFAULT = ("verify.challenge.generic", "verify.response_step")

#: the steps for codes typed from a device (prompt type ``code``)
CODE_STEPS: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.DSC: ("verify.dsc.1", "verify.code.generic"),
    DeviceKind.TOTP_APP: ("verify.totp_app.1", "verify.code.generic"),
    DeviceKind.TEMPORARY_CODE: ("verify.temporary_code.1",),
}
CODE_DEFAULT = ("verify.code.generic",)


@dataclass(frozen=True, kw_only=True)
class PromptPage:
    """What verify.html needs to show one prompt."""

    type: str
    kind: str
    device_key: str
    steps: tuple[str, ...] = ()
    challenge: str | None = None
    indices: tuple[int, int] | None = None
    sent_to: str | None = None
    number: str | None = None
    rp_id: str | None = None
    #: the answer box: its label, the phone keyboard, and a hint under it
    label_key: str = "verify.code"
    input_mode: str = "numeric"
    hint_key: str | None = None
    #: ``password`` for the password of a user with no device (R-WD-4): masked, and
    #: offered by the browser's password manager
    input_type: str = "text"
    autocomplete: str = "one-time-code"


#: the password of a rank-0 user with no device, confirming a withdrawal (R-WD-4)
PASSWORD_PAGE = PromptPage(
    type=PromptType.PASSWORD.value,
    kind="password",
    device_key="kind.password",
    steps=("withdraw.password.lead",),
    label_key="withdraw.password.label",
    input_mode="text",
    hint_key="withdraw.password.hint",
    input_type="password",
    autocomplete="current-password",
)


def prompt_page(factor: FactorView) -> PromptPage:
    prompt, kind = factor.prompt, factor.kind
    if prompt.type is PromptType.PASSWORD or kind is None:  # no device: the password
        return PASSWORD_PAGE
    base = PromptPage(type=prompt.type.value, kind=kind.value, device_key=f"kind.{kind.value}")
    if prompt.type is PromptType.CHALLENGE:
        return replace(
            base,
            steps=CHALLENGE_STEPS.get(kind, CHALLENGE_DEFAULT),
            challenge=prompt.challenge,
            label_key="login.response",
            number=prompt.number,  # a share's push goes out too: its number to match
        )
    if prompt.type is PromptType.CARD:
        return replace(base, indices=prompt.indices, input_mode="text", hint_key="verify.card.hint")
    if prompt.type is PromptType.SMS:
        return replace(base, steps=("verify.sms.enter",), sent_to=prompt.sent_to, hint_key=None)
    if prompt.type is PromptType.PASSKEY:
        return replace(
            base, steps=("verify.passkey.1",), challenge=prompt.challenge, rp_id=prompt.rp_id
        )
    if prompt.type is PromptType.PUSH:
        return replace(base, steps=("login.push_wait",), number=prompt.number)
    if kind is DeviceKind.TEMPORARY_CODE:
        return replace(
            base,
            steps=CODE_STEPS[kind],
            label_key="verify.temporary_code.label",
            input_mode="text",
            hint_key="verify.temporary_code.hint",
        )
    return replace(base, steps=CODE_STEPS.get(kind, CODE_DEFAULT))
