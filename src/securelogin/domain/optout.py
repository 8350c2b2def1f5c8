"""Opting out of the Secure Login System and back in (SPEC §5.1, R-OPT-1..3).  Pure: the
waiver's words, its digest, and who may change an account's security settings.

The waiver follows the original articles (reference/seed-articles.txt, ibkr-sls.md §4.1):
an opted-out client exposes themselves to risks, loses Pink Sheet and OTCBB trading and
the higher withdrawal limits, and takes full responsibility for losses from theft or
misuse of their login information.  What the user signed is kept word for word, with
its version and SHA-256 digest, so that the record proves which text was accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from securelogin.domain.identity import Right

WAIVER_VERSION = "2026-11-1"

WAIVER_EN = (
    "Secure Login System opt-out agreement. "
    "I ask to opt out of the Secure Login System for my user. I understand that clients "
    "who have performed an opt-out from the Secure Login System expose themselves to "
    "certain risks and are therefore subject to certain restrictions: I will not be able "
    "to trade Pink Sheet and OTCBB stocks; withdrawals and transfers out are limited to "
    "USD 50,000 per business day and USD 100,000 per five business days; trading "
    "platforms will accept my username and password without a security device, while the "
    "Client Portal still asks for my security device where I have one. "
    "I assume full responsibility for losses associated with theft or misuse of my login "
    "information, and I accept that the broker will not compensate or credit my account "
    "if it is compromised. I may opt back into the Secure Login System at any time."
)

WAIVER_ZH_CN = (
    "安全登录系统退出协议。"
    "本人申请为本人的用户名退出安全登录系统。本人理解，退出安全登录系统的客户将面临一定风险，"
    "因此须受到某些限制：本人将无法交易粉单（Pink Sheet）和OTCBB股票；取款和转出资金限额为"
    "每个工作日50,000美元、每五个工作日100,000美元；交易平台将仅凭用户名和密码即可登录，"
    "无需安全设备，而登录客户端时，如本人持有安全设备，仍须使用该设备。"
    "本人对因登录信息被盗或被滥用而造成的损失承担全部责任，并接受若账户遭到入侵，经纪商"
    "将不会为本人的账户提供赔偿或补偿。本人可随时重新加入安全登录系统。"
)

WAIVERS: dict[str, str] = {"en": WAIVER_EN, "zh-CN": WAIVER_ZH_CN}


class OptInChoice(StrEnum):
    """R-OPT-3: the three ways back into the Secure Login System."""

    MOBILE_KEY = "mobile_key"
    ONLINE_CARD = "online_card"
    SHARE = "share"


@dataclass(frozen=True, kw_only=True)
class Waiver:
    version: str
    language: str
    text: str

    @property
    def digest(self) -> str:
        return waiver_digest(self.version, self.text)


def waiver_digest(version: str, text: str) -> str:
    """SHA-256 of the version and the exact words shown (what the signature covers)."""
    return hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()


def waiver(language: str) -> Waiver:
    """The current waiver in ``language`` (English when there is no such translation)."""
    lang = language if language in WAIVERS else "en"
    return Waiver(version=WAIVER_VERSION, language=lang, text=WAIVERS[lang])


def signed_waiver(digest: str) -> Waiver | None:
    """The current waiver, in whichever language, whose digest the user signed."""
    for language in WAIVERS:
        shown = waiver(language)
        if shown.digest == digest:
            return shown
    return None


@dataclass(frozen=True, kw_only=True)
class AccountRights:
    """One grant of the user asking, with the primary users of that account."""

    account: str
    rights: frozenset[Right]
    primary_users: Sequence[str]


def missing_rights(grants: Sequence[AccountRights]) -> tuple[tuple[str, str], ...]:
    """R-OPT-1: the accounts on which this user lacks ``security_settings``, each with the
    users who have it.  Empty = the user may change their security settings.

    A user's security settings act on every account they use (an opt-out lowers the
    limits of all of them), so the right is needed on each of those accounts.  (A user
    without any grant has no account to change settings for: see :func:`may_change`.)
    """
    return tuple(
        (g.account, ", ".join(sorted(g.primary_users)) or "-")
        for g in grants
        if Right.SECURITY_SETTINGS not in g.rights
    )


def may_change(grants: Sequence[AccountRights]) -> bool:
    return bool(grants) and not missing_rights(grants)


def primaries_by_account(
    rows: Sequence[tuple[str, str, frozenset[Right]]],
) -> Mapping[str, list[str]]:
    """Group ``(account, username, rights)`` rows into the primary users of each account."""
    found: dict[str, list[str]] = {}
    for account, username, rights in rows:
        bucket = found.setdefault(account, [])
        if Right.SECURITY_SETTINGS in rights:
            bucket.append(username)
    return found
