"""Serves the mobile key web app (docs/mobile-key-app.md): its shell at ``/key/``, the
manifest, the service worker and the ES modules, CSS and icons it loads.

The app is a client of the mobile key protocol (docs/mobile-key-protocol.md) like the
terminal key; the server only hands out its files. Only the files named in
:data:`FILES` are served (no directory listing, no path from the request reaches the
file system). Each answer says ``no-cache``: the browser revalidates, and the service
worker keeps its own copy for offline use.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from securelogin.entrypoints.api.problems import problem_responses
from securelogin.errors import NotFound

STATIC_DIR = Path(__file__).with_name("static")
PREFIX = "/key"

_JS = "text/javascript; charset=utf-8"
#: served name -> media type; everything the app shell needs, and nothing else
FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "sw.js": _JS,
    "app.js": _JS,
    "ocra.js": _JS,
    "wire.js": _JS,
    "store.js": _JS,
    "bio.js": _JS,
    "vault.js": _JS,
    "i18n.js": _JS,
    "scan.js": _JS,
    "jsQR.js": _JS,  # vendored jsQR 1.4.0 (Apache-2.0, jsQR.LICENSE), the QR decoder
    "app.css": "text/css; charset=utf-8",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
HEADERS = {"Cache-Control": "no-cache"}


def _file(name: str) -> Response:
    media_type = FILES.get(name)
    if media_type is None:
        raise NotFound(f"no such file of the mobile key app: {name}")
    headers = dict(HEADERS)
    if name == "sw.js":
        headers["Service-Worker-Allowed"] = f"{PREFIX}/"
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=headers)


router = APIRouter(prefix=PREFIX, tags=["mobile key app"], include_in_schema=False)


@router.get("")
def app_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.get("/", responses=problem_responses(404))
def app_shell() -> Response:
    """The app's one page; the modules draw its screens."""
    return _file("index.html")


@router.get("/{name}", responses=problem_responses(404))
def app_file(name: str) -> Response:
    return _file(name)
