"""Helpers that look at a test database directly (never used by the product)."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from securelogin.adapters.db.engine import normalize_url
from securelogin.service.context import Services


def url_of(services: Services) -> str:
    """The database URL of wired services (password included, for test connections)."""
    engine = services.database.engine  # type: ignore[attr-defined]
    return str(engine.url.render_as_string(hide_password=False))


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: equal snapshots mean nothing was written."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return {
                name: sorted(
                    (tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr
                )
                for name in tables
            }
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params: object) -> None:
    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params: object) -> object:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()
