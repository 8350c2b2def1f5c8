"""Operators of the brokerage and their roles (SPEC §1 "Operator", §7).

Service functions that act for an operator take an :class:`Operator` and call
:func:`require_role` first; the audit actor of such an action is :attr:`Operator.actor`.
``admin`` may do everything the other roles may.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from securelogin.errors import AccessDenied


class Role(StrEnum):
    HELPDESK = "helpdesk"
    COMPLIANCE = "compliance"
    LOGISTICS = "logistics"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    username: str
    roles: frozenset[Role]

    @property
    def actor(self) -> str:
        """How audit events name this operator."""
        return f"operator:{self.username}"

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


def require_role(operator: Operator, role: Role) -> None:
    """Refuse (``access_denied``) an operator who lacks ``role``; nothing is written."""
    if not operator.has(role):
        raise AccessDenied(f"operator {operator.username} lacks the {role.value} role")
