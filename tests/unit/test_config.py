"""Settings: where they come from, what is written, what is refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from maelis_desk.config import (
    DEFAULT_TIMEOUT,
    Settings,
    SettingsError,
    config_dir,
    data_dir,
    load_settings,
    save_settings,
    settings_file,
)

URL = "https://maelis.example.org/maelisws-recette/services"


@pytest.fixture
def env(tmp_path):
    """An environment of our own: only MAELIS_DESK_HOME set."""
    return {"MAELIS_DESK_HOME": str(tmp_path / "home")}


def write_file(env, data):
    path = settings_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_home_moves_config_and_data(tmp_path, env):
    home = tmp_path / "home"
    assert config_dir(env) == home / "config"
    assert data_dir(env) == home / "data"
    assert settings_file(env) == home / "config" / "settings.json"
    settings = load_settings(env=env)
    assert settings.home == home / "data"
    assert Path(settings.database_spec) == home / "data" / "demo" / "maelis-desk.sqlite3"
    real = load_settings({"url": URL, "password": "x"}, env=env)
    assert Path(real.database_spec) == home / "data" / "maelis-desk.sqlite3"
    assert real.wsdl_dir == home / "data" / "wsdl"


def test_the_autouse_fixture_home_is_used_by_default(desk_home):
    assert config_dir() == desk_home / "config"
    assert load_settings().home == desk_home / "data"


def test_defaults_are_the_demo_with_demo_credentials(env):
    settings = load_settings(env=env)
    assert settings.demo and settings.url is None
    assert settings.user == "demo" and settings.password == "demo"
    assert settings.timeout == DEFAULT_TIMEOUT and settings.offline is False


def test_demo_ignores_configured_credentials(env):
    settings = load_settings({"user": "agent", "password": "secret"}, env={**env, "MAELIS_DESK_USER": "x"})
    assert settings.user == "demo" and settings.password == "demo"


def test_precedence_file_then_env_then_overrides(env):
    write_file(env, {"url": "https://file/services", "user": "file-user", "timeout": 7, "operator": "File",
                     "database": "/tmp/file.sqlite3", "city": "Ville de Test"})
    from_file = load_settings({"password": "p"}, env=env)
    assert from_file.url == "https://file/services" and from_file.user == "file-user"
    assert from_file.timeout == 7.0 and from_file.operator == "File" and from_file.city == "Ville de Test"

    env2 = {**env, "MAELIS_DESK_URL": "https://env/services", "MAELIS_DESK_TIMEOUT": "12,5",
            "MAELIS_DESK_OPERATOR": "Env", "MAELIS_DESK_OFFLINE": "oui"}
    from_env = load_settings({"password": "p"}, env=env2)
    assert from_env.url == "https://env/services" and from_env.timeout == 12.5
    assert from_env.user == "file-user"  # not in the environment: the file's
    assert from_env.operator == "Env" and from_env.offline is True
    assert from_env.database == "/tmp/file.sqlite3"

    over = load_settings({"url": "https://cli/services", "timeout": "3", "password": "p", "user": None}, env=env2)
    assert over.url == "https://cli/services" and over.timeout == 3.0
    assert over.user == "file-user"  # None means "not given", not "empty"
    assert over.operator == "Env"


def test_empty_environment_variables_are_not_set(env):
    write_file(env, {"url": "https://file/services", "user": "u"})
    settings = load_settings({"password": "p"}, env={**env, "MAELIS_DESK_URL": "", "MAELIS_DESK_USER": ""})
    assert settings.url == "https://file/services" and settings.user == "u"


def test_password_from_the_environment(env):
    settings = load_settings({"url": URL, "user": "agent"}, env={**env, "MAELIS_DESK_PASSWORD": "s3cret"})
    assert settings.password == "s3cret"
    assert "s3cret" not in repr(settings)


def test_no_password_without_keyring(env):
    # conftest selects the null keyring: nothing to read
    settings = load_settings({"url": URL, "user": "agent"}, env=env)
    assert settings.password is None


def test_a_password_in_the_file_is_ignored(env):
    write_file(env, {"url": URL, "user": "agent", "password": "leaked"})
    assert load_settings(env=env).password is None


def test_unknown_keys_in_the_file_are_ignored(env):
    write_file(env, {"url": URL, "colour": "blue", "user": "a"})
    assert load_settings({"password": "p"}, env=env).url == URL


def test_save_settings_never_writes_the_password_and_is_private(env):
    settings = load_settings({"url": URL, "user": "agent", "password": "s3cret-P4ss", "timeout": 9,
                              "regie_modes": {102: ["especes", "cheque"]}}, env=env)
    path = save_settings(settings, env=env)
    assert path == settings_file(env)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "s3cret-P4ss" not in text and "password" not in text
    stored = json.loads(text)
    assert stored["url"] == URL and stored["user"] == "agent" and stored["timeout"] == 9.0
    assert "home" not in stored and "offline" not in stored and "demo_url" not in stored
    assert not path.with_suffix(".tmp").exists()
    # and it reads back the same (the password given again)
    again = load_settings({"password": "s3cret-P4ss"}, env=env)
    assert again == settings
    assert again.regie_modes == {"102": ["especes", "cheque"]}


def test_save_settings_replaces_a_world_readable_file(env):
    path = write_file(env, {"url": URL})
    os.chmod(path, 0o644)
    save_settings(load_settings({"url": URL, "user": "a", "password": "p"}, env=env), env=env)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "Délai invalide : « abc » (un nombre de secondes est attendu)."),
        ("0", "Le délai doit être compris entre 0 et 300 secondes."),
        ("-1", "Le délai doit être compris entre 0 et 300 secondes."),
        ("301", "Le délai doit être compris entre 0 et 300 secondes."),
        ("nan", "Le délai doit être compris entre 0 et 300 secondes."),
        ("inf", "Le délai doit être compris entre 0 et 300 secondes."),
    ],
)
def test_bad_timeout(env, value, message):
    with pytest.raises(SettingsError) as refused:
        load_settings({"timeout": value}, env=env)
    assert str(refused.value) == message
    with pytest.raises(SettingsError):
        load_settings(env={**env, "MAELIS_DESK_TIMEOUT": value})


def test_unreadable_settings_file(env):
    path = settings_file(env)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="Fichier de réglages illisible"):
        load_settings(env=env)


def test_bad_regie_modes(env):
    with pytest.raises(SettingsError, match="regie_modes"):
        load_settings({"regie_modes": ["especes"]}, env=env)


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("OUI", True), ("0", False),
                                             ("non", False), ("false", False)])
def test_offline_flag(env, value, expected):
    assert load_settings(env={**env, "MAELIS_DESK_OFFLINE": value}).offline is expected


def test_maelis_url_falls_back_to_the_running_demo():
    assert Settings(url=None, demo_url="http://127.0.0.1:1234/s").maelis_url == "http://127.0.0.1:1234/s"
    assert Settings(url=URL, demo_url="http://127.0.0.1:1234/s").maelis_url == URL


def test_the_null_keyring_is_no_keyring():
    # tests/conftest.py selects keyring's null backend: it forgets what it is given
    from maelis_desk import config as cfg

    assert not cfg.keyring_available()
    assert cfg.store_password("https://m/s", "agent", "secret") is False


# -- the desk's code (issue 10 point 2) -------------------------------------------------


@pytest.mark.parametrize("name, code", [
    ("caisse-1", "CAISSE1"), ("mairie-caisse-01", "MAIRSE01"), ("mairie-caisse-02", "MAIRSE02"),
    ("régie-crèche.mairie.local", "REGIECHE"), ("DESKTOP-7H3K9QZ", "DESKK9QZ"), ("---", "POSTE"), ("a", "A"),
])
def test_the_desk_code_is_derived_from_the_host_name(name, code):
    from maelis_desk.domain import desk_code_from, desk_code_problem

    assert desk_code_from(name) == code and desk_code_problem(code) is None
    assert Settings(desk=name).code == code


def test_the_desk_code_set_by_file_environment_or_option_wins(env):
    assert load_settings(env=env).desk_code is None
    write_file(env, {"desk_code": "b"})
    assert load_settings(env=env).code == "B"
    assert load_settings(env={**env, "MAELIS_DESK_CODE": " c2 "}).code == "C2"
    assert load_settings({"desk_code": "ACCUEIL"}, env={**env, "MAELIS_DESK_CODE": "C2"}).code == "ACCUEIL"
    # kept by the settings file
    save_settings(load_settings({"desk_code": "d"}, env=env), env=env)
    assert json.loads(settings_file(env).read_text(encoding="utf-8"))["desk_code"] == "D"


@pytest.mark.parametrize("value", ["A-1", "É1", "TROPLONGUE", "a b"])
def test_a_bad_desk_code_is_refused_in_french(env, value):
    with pytest.raises(SettingsError) as refused:
        load_settings({"desk_code": value}, env=env)
    assert "Le code du poste" in str(refused.value) and "de 1 à 8 caractères" in str(refused.value)


# -- the database's password (issue 10 point 4) -------------------------------------------

PG = "postgresql://caisse@db.mairie.local:5433/regie_102"


class MemoryKeyring:
    """A keyring that keeps its passwords in a dict: a system keyring's behaviour, no system."""

    priority = 1

    def __init__(self):
        self.kept = {}

    def get_password(self, service, key):
        return self.kept.get((service, key))

    def set_password(self, service, key, password):
        self.kept[(service, key)] = password

    def delete_password(self, service, key):
        self.kept.pop((service, key), None)


@pytest.fixture
def memory_keyring(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class Backend(MemoryKeyring, KeyringBackend):
        pass

    backend = Backend()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_a_password_typed_in_the_url_is_taken_out_of_it_and_never_saved(env):
    settings = load_settings({"database": "postgresql://caisse:s3cr%40t-DB@db.mairie.local:5433/regie_102",
                              "url": URL, "user": "agent", "password": "maelis-pw"}, env=env)
    assert settings.database == PG and settings.database_spec == PG
    assert settings.database_password == "s3cr@t-DB"  # unquoted, as psycopg would
    assert "s3cr" not in repr(settings)
    path = save_settings(settings, env=env)
    text = path.read_text(encoding="utf-8")
    assert "s3cr" not in text and "password" not in text and "maelis-pw" not in text
    assert json.loads(text)["database"] == PG
    again = load_settings({"password": "maelis-pw"}, env=env)
    assert again.database == PG and again.database_password is None  # no keyring here: nothing kept


def test_the_database_password_from_the_environment(env):
    settings = load_settings({"database": PG}, env={**env, "MAELIS_DESK_DATABASE_PASSWORD": " p w "})
    assert settings.database == PG and settings.database_password == " p w "
    text = save_settings(settings, env=env).read_text(encoding="utf-8")
    assert " p w " not in text and "database_password" not in text
    # typed in the URL on the command line, it wins over the environment
    typed = load_settings({"database": PG.replace("caisse@", "caisse:typed@")},
                          env={**env, "MAELIS_DESK_DATABASE_PASSWORD": "env"})
    assert typed.database_password == "typed" and typed.database == PG


def test_the_database_password_from_the_keyring_under_its_own_key(env, memory_keyring):
    from maelis_desk import config as cfg

    assert cfg.store_database_password(PG, "k3yring-DB")
    assert cfg.store_password(URL, "agent", "maelis-pw")
    assert memory_keyring.kept == {("maelis-desk", f"base:{PG}"): "k3yring-DB",
                                   ("maelis-desk", f"agent@{URL}"): "maelis-pw"}
    settings = load_settings({"database": PG, "url": URL, "user": "agent"}, env=env)
    assert settings.database_password == "k3yring-DB" and settings.password == "maelis-pw"
    # the environment's comes before the keyring's
    assert load_settings({"database": PG}, env={**env, "MAELIS_DESK_DATABASE_PASSWORD": "e"}).database_password == "e"
    # another base, another entry
    assert load_settings({"database": PG.replace("regie_102", "autre")}, env=env).database_password is None
    text = save_settings(settings, env=env).read_text(encoding="utf-8")
    assert "k3yring-DB" not in text and "maelis-pw" not in text


def test_a_database_password_in_the_file_is_ignored(env):
    write_file(env, {"database": PG, "database_password": "leaked"})
    assert load_settings(env=env).database_password is None


def test_a_sqlite_path_has_no_password(env, tmp_path):
    settings = load_settings({"database": str(tmp_path / "d.sqlite3")},
                             env={**env, "MAELIS_DESK_DATABASE_PASSWORD": "x"})
    assert settings.database == str(tmp_path / "d.sqlite3")


@pytest.mark.parametrize("url, place", [
    ("postgresql://caisse@db.mairie.local:5433/regie_102", ("db.mairie.local", 5433, "regie_102", "caisse")),
    ("postgresql://caisse:pw@127.0.0.1/maelis_desk", ("127.0.0.1", 5432, "maelis_desk", "caisse")),
    ("postgres://r%C3%A9gie@[::1]:6000/b%20c", ("::1", 6000, "b c", "régie")),
])
def test_a_postgres_place_from_and_to_its_url(url, place):
    from maelis_desk.domain import PostgresPlace, split_database_password

    parsed = PostgresPlace.from_url(url)
    assert (parsed.host, parsed.port, parsed.base, parsed.user) == place
    assert "pw" not in parsed.url and parsed.url.startswith("postgresql://")
    assert PostgresPlace.from_url(parsed.url) == parsed
    assert split_database_password(parsed.url) == (parsed.url, None)
    assert PostgresPlace.from_url("/var/lib/desk.sqlite3") is None


def test_the_password_reaches_the_server_apart_from_the_url():
    """psycopg gets the password as a parameter of its own: the URL the desk keeps, shows and
    logs has none (the test server trusts every login, so it is read back from the connection)."""
    from maelis_desk.store.database import make_database, public_url

    server = os.environ.get("MAELIS_DESK_TEST_POSTGRES")
    if not server:
        pytest.skip("MAELIS_DESK_TEST_POSTGRES non défini : pas de serveur PostgreSQL de test (test.sh en démarre un)")
    database = make_database(server, password="p4ss-apart")
    database.connect()
    try:
        assert database.connection().info.password == "p4ss-apart"
        assert "p4ss" not in database.database and "p4ss" not in public_url(database.database_url)
    finally:
        database.close()
