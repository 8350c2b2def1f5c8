"""The operator console (SPEC §7, §8): helpdesk, compliance and logistics pages under /console.

Operators log in at ``/console/login`` (username + password, then their own TOTP code;
see :mod:`securelogin.service.operators.operators`) and get a console session of their own: cookie
``sl_console`` (HttpOnly, SameSite=Strict, path ``/console``; its CSRF token in
``sl_console_csrf``, never the portal's ``sl_csrf``), token stored hashed, idle
timeout ``policy.operator_idle_seconds`` (15 min), absolute ``policy.operator_session_seconds``
(8 h).  The home page ``/console`` lists what the operator's roles allow.

How a feature adds console pages
================================

1. Create ``entrypoints/console/<feature>.py`` with a ``MENU`` and a module-level
   ``router`` whose handlers receive what they need as parameters::

       from typing import Annotated

       from fastapi import APIRouter, Form, Request
       from fastapi.responses import HTMLResponse, Response

       from securelogin.domain.operators import Role
       from securelogin.entrypoints.console.web import (
           ConsolePagesDep, MenuItem, error_message,
       )
       from securelogin.entrypoints.web.deps import ServicesDep
       from securelogin.entrypoints.web.pages import CsrfField
       from securelogin.service.lifecycle import logistics   # your service module

       MENU = (
           MenuItem(role=Role.LOGISTICS, path="/console/logistics",
                    key="console.logistics", text_key="console.logistics.text"),
       )

       router = APIRouter()

       @router.get("/console/logistics", response_class=HTMLResponse)
       def overview(request: Request, services: ServicesDep,
                    pages: ConsolePagesDep) -> Response:
           operator = pages.operator(request, Role.LOGISTICS)
           if isinstance(operator, Response):   # not logged in, or lacks the role
               return operator
           return pages.render(request, "console/logistics.html", operator=operator,
                               orders=logistics.open_orders(services, operator))

       @router.post("/console/logistics/ship", response_class=HTMLResponse)
       def ship(request: Request, services: ServicesDep, pages: ConsolePagesDep,
                token: CsrfField = "",
                serial: Annotated[str, Form()] = "") -> Response:
           return pages.submit(                             # CSRF, one call, words
               request, Role.LOGISTICS, token,
               lambda operator: logistics.ship(services, operator, serial=serial),
               refused=lambda operator, exc: pages.render(
                   request, "console/logistics.html", operator=operator,
                   status_code=422, messages=[error_message(exc)], …),
               done=lambda operator, _: pages.redirect(request, "/console/logistics"),
           )                                                # 303 See Other

   Paths are absolute (``/console/<feature>…``).  ``pages.operator(request, role)``
   yields the logged-in :class:`~securelogin.domain.operators.Operator` or a response to
   return as it is (redirect to the login, or 403 when the role is missing; ``admin``
   holds every role).  ``pages.submit(request, role, token, action, refused=…, done=…)``
   is the whole form POST: the operator, the console CSRF check (403), ``action`` (one
   service call), its :class:`~securelogin.errors.SecureLoginError` to ``refused``, its
   result to ``done``; ``pages.form_operator(request, role, token)`` is the first two
   steps alone.  Service functions acting for an operator take the ``Operator``,
   call :func:`~securelogin.domain.operators.require_role` first, and audit with
   ``actor=operator.actor`` (``operator:<name>``).

2. Templates go in ``entrypoints/console/templates/console/<feature>.html`` and start
   with ``{% extends "console/base.html" %}`` and ``{% block main %}…{% endblock %}``;
   forms carry ``<input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">``;
   ``{% include "_messages.html" %}`` shows ``messages``; ``t("key")`` translates.

3. Words go in ``entrypoints/web/words/console.py`` (``console.<feature>.…`` keys, EN
   and ZH_CN both; a test checks the keys match).  ``error_message(exc)`` shows the words
   ``console.error.<code>`` when they exist, else a generic line.

4. Add the module to ``FEATURES`` in ``entrypoints/console/routes.py`` (one line).
"""
