"""Background work inside the server process (R-OPS-4/5): deliver due notifications and
retry failed ones.  Safe with several processes: the outbox leases what it claims."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from securelogin.errors import SecureLoginError
from securelogin.service import notifications
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from securelogin.service.lifecycle import jobs

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def background_lifespan(services: Services, *, every: float) -> Lifespan:
    """A lifespan that runs one delivery pass every ``every`` seconds while serving."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_deliver_forever, services, every)
            yield
            tasks.cancel_scope.cancel()

    return lifespan


async def _deliver_forever(services: Services, every: float) -> None:
    while True:
        await anyio.sleep(every)
        # A failing database must not stop the loop; the next pass tries again.
        with contextlib.suppress(SecureLoginError):
            await run_in_threadpool(notifications.deliver_due, services)
        if services.mobile is not None and services.mobile.providers:
            with contextlib.suppress(SecureLoginError):  # mobile key wake-ups (R-KEY-4)
                await run_in_threadpool(push.deliver_wakeups, services)
        with contextlib.suppress(SecureLoginError):  # R-OPS-4: lifecycle jobs, message centre
            await run_in_threadpool(jobs.run_once, services)
