"""``securelogin admin audit verify`` (R-OPS-6)."""

from __future__ import annotations

from securelogin.domain.audit import AuditEvent, ChainCheck, check_chain
from securelogin.errors import IntegrityViolation
from securelogin.service.context import Services
from securelogin.service.ports import UnitOfWork


def verify_chain(services: Services) -> ChainCheck:
    """Walk the whole chain; raise IntegrityViolation naming the first broken link."""
    with services.uow() as uow:
        head_id, head_hash = uow.audit.head()
        result = check_chain(uow.audit.chain(), head_id=head_id, head_hash=head_hash)
    if result.first_bad_id is not None:
        raise IntegrityViolation(
            f"audit chain broken at event {result.first_bad_id} "
            f"({result.events} events read, last good event {result.last_id})",
            first_bad_id=result.first_bad_id,
        )
    return result


def record_user_event(
    uow: UnitOfWork, action: str, username: str, **data: str | int | None
) -> None:
    """An event a user caused, on that user (R-OPS-6), in the use case's transaction;
    details that are None are left out."""
    uow.audit.record(
        AuditEvent(
            action=action,
            actor=username,
            subject=username,
            data={k: v for k, v in data.items() if v is not None},
        )
    )
