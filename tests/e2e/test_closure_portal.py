"""A closed account in the Client Portal (R-CLOSE-1, R-LOGIN-8): the password alone opens a
``documents_only`` session that lists and downloads statements, and nothing else."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from securelogin.service.context import Services
from securelogin.service.lifecycle import closure
from tests.devices import SEED20, Brokerage
from tests.e2e.portal_forms import path_of, submit_password
from tests.lifecycle_kit import ADMIN


def test_R_LOGIN_8_closed_account_user_reads_and_downloads_documents(
    api: TestClient, services: Services
) -> None:
    Brokerage().user(
        "otto", {"kind": "dsc", "serial": "DSC-OTTO", "secret_hex": SEED20.hex()}
    ).load(services)
    closure.close_account(services, ADMIN, account="U7000001")
    landing = submit_password(api, "otto")
    assert path_of(landing) == "/portal/documents"
    link = re.search(r'href="(/portal/documents/doc_[0-9a-f]+\.pdf)"', landing.text)
    assert link, landing.text
    pdf = api.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert path_of(api.get("/portal")) == "/portal/documents"  # nothing else
    assert path_of(api.get("/portal/replacement")) == "/portal/documents"
    assert api.get("/portal/documents/doc_0000.pdf").status_code == 404
