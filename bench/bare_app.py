"""The reference: what the stack itself costs for a second-factor-shaped request.

    python -m bench.bare_app --db FILE --rows N --port P
                             [--http h11|httptools] [--loop asyncio|uvloop]

A bare FastAPI endpoint, ``POST /bare/{id}/answer`` with a JSON body
``{"response": "..."}`` (validated by a pydantic model, as securelogin's answer is),
that does **one SQLite read and one conditional update** in the thread pool: the
stored answer of challenge ``id`` is read, compared in constant time, and the challenge
is spent with ``UPDATE … WHERE used = 0`` (single use); 200 ``{"status":
"authenticated"}``, 401 when the answer is wrong or already spent.  The database is
opened as securelogin opens SQLite (WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``
for the write), served by the same uvicorn with the same HTTP protocol class, so the
difference to ``POST /api/v1/logins/{id}/answer`` is securelogin's own work
(``bench/wrk_bench.py`` measures both in one run).

``--rows N`` (re)creates the table with challenges ``c0 … c{N-1}`` whose answer is
``answer_of(n)``; ``wrk_bench`` writes the matching request file.
"""

from __future__ import annotations

import argparse
import hmac
import sqlite3
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from securelogin.entrypoints.server import protocol_for


class AnswerIn(BaseModel):
    response: str


class AnswerOut(BaseModel):
    status: str


def answer_of(n: int) -> str:
    return f"{(n * 7919) % 100_000_000:08d}"


def prepare(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("DROP TABLE IF EXISTS challenges")
        conn.execute(
            "CREATE TABLE challenges (id TEXT PRIMARY KEY, answer TEXT NOT NULL,"
            " used INTEGER NOT NULL DEFAULT 0)"
        )
        conn.executemany(
            "INSERT INTO challenges (id, answer) VALUES (?, ?)",
            ((f"c{n}", answer_of(n)) for n in range(rows)),
        )


def create_app(path: Path) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            local.conn = conn
        return conn

    @app.post("/bare/{challenge_id}/answer", response_model=AnswerOut)
    def answer(challenge_id: str, body: AnswerIn) -> AnswerOut:
        conn = connection()
        row = conn.execute(
            "SELECT answer FROM challenges WHERE id = ? AND used = 0", (challenge_id,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row[0], body.response):
            raise HTTPException(401, "login_failed")
        conn.execute("BEGIN IMMEDIATE")
        spent = conn.execute(
            "UPDATE challenges SET used = 1 WHERE id = ? AND used = 0", (challenge_id,)
        ).rowcount
        conn.execute("COMMIT")
        if spent != 1:
            raise HTTPException(401, "login_failed")
        return AnswerOut(status="authenticated")

    return app


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=0, help="(re)create N challenges first")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--http", default="h11", choices=["h11", "httptools"])
    ap.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    a = ap.parse_args(argv)
    if a.rows:
        prepare(a.db, a.rows)
    uvicorn.run(
        create_app(a.db),
        host="127.0.0.1",
        port=a.port,
        log_level="info",
        access_log=False,
        http=protocol_for(a.http),
        loop=a.loop,
    )


if __name__ == "__main__":
    main()
