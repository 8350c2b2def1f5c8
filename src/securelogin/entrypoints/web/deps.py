"""FastAPI dependencies the portal's and the console's handlers share.

Handlers are module-level functions on a module-level ``APIRouter``; what they need from
the running app comes in as a parameter: ``services: ServicesDep`` is the
:class:`~securelogin.service.context.Services` the app was built around
(``app.state.services``, set once by ``create_app``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from securelogin.service.context import Services


async def services_of(request: Request) -> Services:
    """The app's services (``create_app`` keeps them in ``app.state.services``);
    ``async`` so that FastAPI calls it on the event loop — a plain ``def`` dependency
    goes through a worker thread on every request."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]
