"""What building the ASGI app costs (issue 10: the test suite builds ≈ 500 apps).

    python -m bench.create_app_bench [--builds 20]

CPU (``time.process_time``) per ``create_app(services)`` on a migrated SQLite file,
averaged over ``--builds`` builds after one warm-up build, and per build followed by
three requests (``/healthz``, the portal's ``/``, ``/api/v1/me``) through a TestClient —
a test's first requests: FastAPI analyses an included route on its first use.  The
module-level routers' routes are made once per process and shared by every app
(``entrypoints/web/routing.py``); no router is built around one app's services.
"""

from __future__ import annotations

import argparse
import base64
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services


def per_build(builds: int, build: Callable[[], object]) -> float:
    start = time.process_time()
    for _ in range(builds):
        build()
    return (time.process_time() - start) / builds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--builds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            master_key=base64.b64encode(b"\x07" * 32).decode(),
        )
        services: Services = bootstrap(settings, migrate=True)

        def build_and_ask() -> None:
            with TestClient(create_app(services)) as client:
                for path in ("/healthz", "/", "/api/v1/me"):
                    client.get(path)

        build_and_ask()  # warm-up: imports, the shared routes, templates
        alone = per_build(args.builds, lambda: create_app(services))
        asked = per_build(args.builds, build_and_ask)
        services.database.close()
    print(f"create_app: {alone * 1000:.1f} ms CPU per build ({args.builds} builds)")
    print(f"create_app + 3 requests: {asked * 1000:.1f} ms CPU per build")


if __name__ == "__main__":
    main()
