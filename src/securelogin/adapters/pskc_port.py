"""The ``SeedFileReader`` port over the RFC 6030 PSKC reader (SPEC §2, R-OPS-3).

The service sees seed records and the error tree only: every ``PskcError`` (malformed or
unsafe XML, wrong password, bad MAC …) becomes ``InvalidInput`` with the reader's message,
``field="file"``; a missing or wrong password says ``field="password"`` and a missing or
wrong pre-shared key ``field="preshared_key"``, so that an operator is asked for the right
thing.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as defused_et  # type: ignore[import-untyped]  # no stubs shipped
from defusedxml import DefusedXmlException

from securelogin.adapters.pskc import PSKC_NS, XENC11_NS, PskcError, PskcKeyError, read_pskc
from securelogin.errors import InvalidInput
from securelogin.service.ports import SeedRecord


class PskcSeedFiles:
    """Reads PSKC files; ``needs_password`` lets an entry point ask only when it must."""

    def read(
        self, data: bytes, *, password: str | None, preshared_key: bytes | None
    ) -> list[SeedRecord]:
        try:
            keys = read_pskc(data, password=password, preshared_key=preshared_key)
        except PskcKeyError as exc:
            field = "password" if self.needs_password(data) else "preshared_key"
            raise InvalidInput(str(exc), field=field) from None
        except PskcError as exc:
            raise InvalidInput(str(exc), field="file") from None
        return [
            SeedRecord(
                serial=key.serial,
                secret=key.secret,
                algorithm=key.algorithm,
                digits=key.digits,
                counter=key.counter,
                time_interval=key.time_interval,
                manufacturer=key.manufacturer,
            )
            for key in keys
        ]

    def needs_password(self, data: bytes) -> bool:
        """RFC 6030 §6.2: ``EncryptionKey/xenc11:DerivedKey``.  An unreadable file says
        False here and gets its precise error from :meth:`read`."""
        try:
            root: Element = defused_et.fromstring(
                data, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except (DefusedXmlException, defused_et.ParseError):
            return False
        found = root.find(f"{{{PSKC_NS}}}EncryptionKey/{{{XENC11_NS}}}DerivedKey")
        return found is not None
