"""Test configuration shared by every layer.

Each test session gets its own MAELIS_DESK_HOME, so nothing touches a real
desk's data; Qt runs offscreen. Qt warnings fail tests (pyproject's
qt_log_level_fail) and so do Python warnings (filterwarnings = error).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MAELIS_DESK_TZ"] = "Europe/Paris"
for var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE",
            "MAELIS_DESK_DATABASE_PASSWORD",
            "MAELIS_DESK_TIMEOUT", "MAELIS_DESK_OFFLINE", "MAELIS_DESK_OPERATOR", "MAELIS_DESK_CODE"):
    os.environ.pop(var, None)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(autouse=True)
def desk_home(tmp_path, monkeypatch):
    """Every test has its own desk folder (config, cache, demo data)."""
    home = tmp_path / "desk-home"
    monkeypatch.setenv("MAELIS_DESK_HOME", str(home))
    return home


# -- the database the store, payment and CLI tests run on -----------------------------------
# MAELIS_DESK_TEST_POSTGRES: a postgresql:// URL of a throw-away server (test.sh starts one,
# scripts/postgres.sh); its tests are skipped, saying why, only when it is not given.
POSTGRES_URL = os.environ.get("MAELIS_DESK_TEST_POSTGRES")
NO_POSTGRES = "MAELIS_DESK_TEST_POSTGRES non défini : pas de serveur PostgreSQL de test (test.sh en démarre un)"


def fresh_postgres(url: str) -> str:
    """Empty the test server's database (every table gone) and return its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_spec(request, tmp_path):
    """A new, empty desk database: a SQLite file, then the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "desk" / "desk.sqlite3")
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    return fresh_postgres(POSTGRES_URL)
