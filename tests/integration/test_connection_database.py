"""« Tester la connexion » tests the database too (issue 10 point 4): it answers or not, its
schema is known, older, newer or absent; nothing is created or migrated by the test.
Run on a SQLite file and on the test PostgreSQL server (scripts/postgres.sh)."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from maelis_desk.config import Settings
from maelis_desk.domain import PostgresPlace
from maelis_desk.services.connection import test_database
from maelis_desk.store.database import db, open_database
from maelis_desk.store.migrations import LATEST


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(spec: str, tmp_path) -> Settings:
    return Settings(url="http://127.0.0.1:1/s", user="u", database=spec, home=tmp_path / "home")


def _tables(spec: str) -> int:
    if spec.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(spec) as conn:
            return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    import sqlite3

    with sqlite3.connect(spec) as conn:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]


def test_absent_then_known_then_older_then_newer(database_spec, tmp_path):
    settings = _settings(database_spec, tmp_path)
    shared = database_spec.startswith("postgresql://")
    absent = test_database(settings)
    print(f"\n{absent.text}")
    assert absent.ok
    if shared:
        assert absent.version == 0 and "elle est vide" in absent.text and "créera ses tables" in absent.text
        assert _tables(database_spec) == 0  # nothing created by the test
    else:
        assert absent.version is None and "n'existe pas encore : le poste le créera" in absent.text
        assert not (tmp_path / "desk" / "desk.sqlite3").exists()

    open_database(database_spec)
    try:
        known = test_database(settings)
        print(known.text)
        assert known.ok and known.version == LATEST
        assert known.text.endswith(f"{'répond' if shared else 'est lisible'}, schéma à jour (version {LATEST}).")
        assert ("La base partagée postgresql://" if shared else "Le fichier SQLite") in known.text

        db.execute_sql('DELETE FROM "schema_version" WHERE "version" > 8')
        older = test_database(settings)
        print(older.text)
        assert older.ok and older.version == 8
        assert f"le poste {'la' if shared else 'le'} mettra à jour (version {LATEST})" in older.text

        db.execute_sql('INSERT INTO "schema_version" ("version", "applied_at") VALUES (99, \'2030-01-01\')')
        newer = test_database(settings)
        print(newer.text)
        assert not newer.ok and newer.version == 99
        assert "version plus récente de Maelis Desk" in newer.text and "mettez le poste à jour" in newer.text
    finally:
        db.close()


def test_a_wrong_port_is_said_in_french_without_the_password(tmp_path):
    place = PostgresPlace(host="127.0.0.1", port=_free_port(), base="maelis_test", user="maelis")
    settings = replace(_settings(place.url, tmp_path), database_password="s3cret-DB")
    check = test_database(settings)
    print(f"\n{check.text}")
    assert not check.ok and check.version is None
    assert check.text.startswith(f"Base de données : Le serveur de base de données {place.url} ne répond pas")
    assert "s3cret" not in check.text


def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("pas une base" * 100, encoding="utf-8")
    check = test_database(_settings(str(path), tmp_path))
    assert not check.ok and "n'est pas une base SQLite" in check.text
    assert path.read_text(encoding="utf-8").startswith("pas une base")  # untouched


@pytest.mark.parametrize("kind", ["folder"])
def test_a_folder(tmp_path, kind):
    check = test_database(_settings(str(tmp_path), tmp_path))
    assert not check.ok and "est un dossier" in check.text
