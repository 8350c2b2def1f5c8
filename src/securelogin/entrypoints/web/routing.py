"""Routes every app of the process shares (issue 10: a cheap ``create_app``).

A module-level router's handlers take what they need from the running app
(``request.app.state``, :mod:`securelogin.entrypoints.web.deps`), so its routes hold no
state of one app.  ``include_router`` would still analyse every route's signature again
for each new app (its dependencies, the pydantic models of its parameters and answers);
:func:`add_shared` instead puts the routes :func:`shared_routes` built once into the app's
route list, in place, as ``app.include_router`` would put them.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

#: the routes made of each sequence of module-level routers (by their ids: an
#: ``APIRouter`` is not hashable; module-level routers live as long as the process)
_SHARED: dict[tuple[int, ...], tuple[BaseRoute, ...]] = {}


def shared_routes(*routers: APIRouter) -> tuple[BaseRoute, ...]:
    """``routers`` included, in order, into one router made once per process (the
    included routes keep their analysis, made on first use, for every app)."""
    key = tuple(id(router) for router in routers)
    found = _SHARED.get(key)
    if found is None:
        holder = APIRouter()
        for router in routers:
            holder.include_router(router)
        found = _SHARED.setdefault(key, tuple(holder.routes))
    return found


def add_shared(app: FastAPI, *routers: APIRouter) -> None:
    """``app.include_router`` of each of ``routers``, with the process's shared routes.

    Only for module-level routers whose handlers read the app's state (never a router
    built around one app's services)."""
    app.router.routes.extend(shared_routes(*routers))
