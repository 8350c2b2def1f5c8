"""What the admin commands of issues 5 and 6 share: the services of one command, and the
operator a command acts for (audited under that name).

Without ``--operator`` a lifecycle command acts as the local administrator ``cli`` —
whoever can run the command already holds the database URL and the master key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.cli.common import open_services
from securelogin.service.context import Services
from securelogin.service.operators import operators

LOCAL_ADMIN = Operator(id=0, username="cli", roles=frozenset({Role.ADMIN}))


def open_acting(database_url: str | None, name: str | None) -> tuple[Services, Operator]:
    """The services (schema migrated) and the operator acting: the enabled operator
    ``name``, or :data:`LOCAL_ADMIN` when none is named."""
    services = open_services(database_url, migrate=True)
    actor = LOCAL_ADMIN if name is None else operators.operator_named(services, name)
    return services, actor


@contextmanager
def opened(database_url: str | None) -> Iterator[Services]:
    """The services (schema migrated) for one command; the database is closed after."""
    services = open_services(database_url, migrate=True)
    try:
        yield services
    finally:
        services.database.close()
