"""Settings of a desk: where Maelis is, who we are, where the database lives.

Sources, the later winning: built-in defaults, the settings file
(`settings.json` in the user config folder, never a password), environment
variables (`MAELIS_DESK_URL`, `_USER`, `_PASSWORD`, `_DATABASE`, `_TIMEOUT`,
`_OFFLINE`, `_OPERATOR`, `_CODE` (the desk's code), `_TZ`, `_LOCK_MINUTES` (idle time before the
desk locks itself), and the transmission's `_SETTLE_SECONDS`,
`_BACKOFF_SECONDS`, `_LEASE_SECONDS`, `_HORIZON_SECONDS`), then command-line options. Nothing
else in the desk reads the environment for a setting. The password comes from
the command line or environment, else from the system keyring; it is never
written to a file. So does a PostgreSQL database's: a password typed in the
URL (`--database postgresql://caisse:MOT@…`) is taken out of it, else
`MAELIS_DESK_DATABASE_PASSWORD`, else the keyring's entry for that URL; the
URL kept in `Settings.database`, the file and the messages has none.

`MAELIS_DESK_HOME` moves every file of the desk (config, data) into one
folder: the tests and the demo use it to stay apart from real data.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from .domain import desk_code_from, desk_code_problem, is_postgres_url, split_database_password
from .formatting import os_error_fr

log = logging.getLogger(__name__)

APP = "maelis-desk"
KEYRING_SERVICE = "maelis-desk"
DEFAULT_TIMEOUT = 5.0
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
DEFAULT_TIMEZONE = "Europe/Paris"


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    home = env.get("MAELIS_DESK_HOME")
    return Path(home) / "config" if home else Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    home = env.get("MAELIS_DESK_HOME")
    return Path(home) / "data" if home else Path(platformdirs.user_data_dir(APP, appauthor=False))


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name on some systems
        return "caisse"


@dataclass(frozen=True)
class Settings:
    url: str | None = None  # base of the services; None: the built-in demo Maelis
    user: str = ""
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    database: str | None = None  # a path or a database URL, never with a password; None: default file
    # a PostgreSQL database's password: the environment's, else the keyring's; never in a file
    database_password: str | None = field(default=None, repr=False)
    offline: bool = False
    operator: str = field(default_factory=_default_operator)  # the cashier's name on receipts
    desk: str = field(default_factory=socket.gethostname)  # this workstation
    # its code on every payment (and in its receipt numbers); None: derived from `desk`
    desk_code: str | None = None
    home: Path = field(default_factory=data_dir)  # the desk's data folder
    demo_families: int = 300
    demo_url: str | None = None  # set by the launcher once the built-in demo Maelis runs
    city: str = "Ville de Toulouse"  # printed on receipts
    receipt_paper: str = "a4"  # receipts on "a4" or on an 80 mm counter-printer ticket, "ticket80"
    regie_modes: dict | None = None  # {"102": ["especes", "cheque", ...]}: modes each régie accepts
    timezone: str = DEFAULT_TIMEZONE  # dates are shown (and receipts numbered by year) in this zone
    # the transmission (services/transmission.py); None: derived from the timeout
    settle_seconds: float | None = None  # after a lost answer, wait this long before reconciling
    backoff_seconds: float = 5.0  # first retry delay, doubling up to 5 minutes
    lease_seconds: float | None = None  # how long a desk holds an outbox entry
    # after a lost answer, how long Maelis is re-read for the payment before a person is asked
    horizon_seconds: float | None = None
    # minutes without a key or a click before the desk locks itself (0: never); see ui/counter.py
    lock_after: float = 10.0
    # the first start's offer to create the régisseur's account was declined: not offered again
    # at start (it stays in Fichier > Créer le compte du régisseur…)
    one_person_chosen: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def code(self) -> str:
        """This desk's code: the one set, else derived from its name (domain.desk_code_from)."""
        return self.desk_code or desk_code_from(self.desk)

    @property
    def transmission_settle(self) -> float:
        return self.settle_seconds if self.settle_seconds is not None else max(60.0, 6 * self.timeout)

    @property
    def transmission_horizon(self) -> float:
        # a back-end may apply a payment minutes after its client gave up: re-read for an hour at least
        if self.horizon_seconds is not None:
            return max(self.horizon_seconds, self.transmission_settle)
        return max(3600.0, 20 * self.transmission_settle)

    @property
    def transmission_lease(self) -> float:
        # a lease covers a baseline read, a send and a confirmation read
        return self.lease_seconds if self.lease_seconds is not None else 4 * self.timeout + 10

    @property
    def demo(self) -> bool:
        return not self.url

    @property
    def maelis_url(self) -> str | None:
        """Where the client connects: the configured Maelis, else the running demo."""
        return self.url or self.demo_url

    @property
    def profile_dir(self) -> Path:
        """Files of this Maelis: the demo keeps its own, so demo data never mixes with real data."""
        return self.home / "demo" if self.demo else self.home

    @property
    def database_spec(self) -> str:
        return self.database or str(self.profile_dir / "maelis-desk.sqlite3")

    @property
    def wsdl_dir(self) -> Path:
        return self.profile_dir / "wsdl"

    def to_file_dict(self) -> dict:
        """What the settings file keeps: never the password."""
        data = asdict(self)
        for key in ("password", "database_password", "home", "offline", "demo_url"):
            data.pop(key)
        return data


_ENV = {
    "url": "MAELIS_DESK_URL",
    "user": "MAELIS_DESK_USER",
    "password": "MAELIS_DESK_PASSWORD",
    "database": "MAELIS_DESK_DATABASE",
    "database_password": "MAELIS_DESK_DATABASE_PASSWORD",
    "timeout": "MAELIS_DESK_TIMEOUT",
    "offline": "MAELIS_DESK_OFFLINE",
    "operator": "MAELIS_DESK_OPERATOR",
    "desk_code": "MAELIS_DESK_CODE",
    "timezone": "MAELIS_DESK_TZ",
    "settle_seconds": "MAELIS_DESK_SETTLE_SECONDS",
    "backoff_seconds": "MAELIS_DESK_BACKOFF_SECONDS",
    "lease_seconds": "MAELIS_DESK_LEASE_SECONDS",
    "horizon_seconds": "MAELIS_DESK_HORIZON_SECONDS",
    "receipt_paper": "MAELIS_DESK_RECEIPT_PAPER",
    "demo_families": "MAELIS_DESK_DEMO_FAMILIES",
    "lock_after": "MAELIS_DESK_LOCK_MINUTES",
}
RECEIPT_PAPERS = {"a4": "A4", "ticket80": "Ticket 80 mm (imprimante de comptoir)"}


class SettingsError(ValueError):
    """A setting has a value the desk cannot use (message in French)."""


def parse_desk_code(text: str) -> str | None:
    """A desk code as typed (lower case accepted); None when empty (derived from the name)."""
    code = text.strip().upper()
    if not code:
        return None
    problem = desk_code_problem(code)
    if problem:
        raise SettingsError(problem[0].upper() + problem[1:] + ".")
    return code


def _coerce(name: str, value):
    if value is None:
        return None
    if name == "timeout":
        try:
            timeout = float(str(value).replace(",", "."))
        except ValueError:
            raise SettingsError(f"Délai invalide : « {value} » (un nombre de secondes est attendu).") from None
        if not 0 < timeout <= 300:
            raise SettingsError("Le délai doit être compris entre 0 et 300 secondes.")
        return timeout
    if name in ("settle_seconds", "backoff_seconds", "lease_seconds", "horizon_seconds"):
        try:
            seconds = float(str(value).replace(",", "."))
        except ValueError:
            raise SettingsError(f"{_ENV[name]} invalide : « {value} » (un nombre de secondes est attendu).") from None
        if seconds < 0:
            raise SettingsError(f"{_ENV[name]} doit être positif.")
        return seconds
    if name == "timezone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"Fuseau horaire inconnu : « {value} » (par exemple Europe/Paris).") from None
        return str(value)
    if name == "lock_after":
        try:
            minutes = float(str(value).replace(",", "."))
        except ValueError:
            raise SettingsError(f"Délai de verrouillage invalide : « {value} » (un nombre de minutes est attendu, "
                                "0 pour jamais).") from None
        if not 0 <= minutes <= 24 * 60:
            raise SettingsError("Le délai de verrouillage doit être compris entre 0 (jamais) et 1440 minutes.")
        return minutes
    if name in ("offline", "one_person_chosen"):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "oui")
    if name == "receipt_paper":
        paper = str(value).strip().lower()
        if paper not in RECEIPT_PAPERS:
            raise SettingsError(f"Papier des quittances inconnu : « {value} » (a4 ou ticket80).")
        return paper
    if name == "desk_code":
        return parse_desk_code(str(value))
    if name == "demo_families":
        return int(value)
    if name == "regie_modes":
        if not isinstance(value, dict):
            raise SettingsError("regie_modes : un objet {code de régie: [modes]} est attendu.")
        return {str(k): [str(m) for m in v] for k, v in value.items()}
    if name == "database_password":
        return str(value) or None  # as typed: a password may begin or end with a space
    value = str(value).strip()
    return value or None if name in ("url", "database") else value


def settings_file(env: Mapping[str, str] = os.environ) -> Path:
    return config_dir(env) / "settings.json"


def settings_from_args(args) -> Settings:
    """The settings for the command line's options (the window and every
    command alike): an option not given leaves the stored setting."""
    return load_settings(
        {
            "url": getattr(args, "url", None),
            "user": getattr(args, "user", None),
            "password": password_from_file(getattr(args, "password_file", None)),
            "database": getattr(args, "database", None),
            "timeout": getattr(args, "timeout", None),
            "offline": getattr(args, "offline", None),
            "operator": getattr(args, "operator", None),
            "desk_code": getattr(args, "desk_code", None),
        }
    )


def keep_private(*folders: Path) -> None:
    """The desk's own folders readable by its user only (0700): an older desk made them 0755.
    New files and folders are private by the process's umask (__main__.PRIVATE_UMASK)."""
    for folder in folders:
        try:
            st = folder.stat()
            if st.st_uid == os.getuid() and st.st_mode & 0o077:
                folder.chmod(0o700)
        except OSError as exc:  # a folder not made yet, or not ours: nothing to tighten
            log.debug("keep_private %s: %s", folder, exc)


def password_from_file(path: str | None) -> str | None:
    """The first line of `path` (--password-file), the way a script hands a secret
    without showing it to `ps`; None without a file."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            line = fh.readline().rstrip("\r\n")
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SettingsError(f"Le fichier du mot de passe « {path} » n'existe pas.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"Fichier du mot de passe « {path} » illisible : "
                            f"{os_error_fr(exc) if isinstance(exc, OSError) else 'texte non UTF-8'}.") from None
    if mode & 0o077:
        # as ssh does with a key: a secret others can read is no longer a secret
        raise SettingsError(f"Le fichier du mot de passe « {path} » est lisible par d'autres utilisateurs : "
                            f"réservez-le-vous (« chmod 600 {path} »).")
    if not line:
        raise SettingsError(f"Le fichier du mot de passe « {path} » est vide : le mot de passe est sa première ligne.")
    return line


def load_settings(overrides: Mapping[str, object] | None = None, env: Mapping[str, str] = os.environ) -> Settings:
    values: dict[str, object] = {"home": data_dir(env)}
    path = settings_file(env)
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"Fichier de réglages illisible ({path}) : {exc}") from None
        known = {f.name for f in fields(Settings)}
        values.update({k: v for k, v in stored.items()
                       if k in known and k not in ("password", "database_password")})
    for name, var in _ENV.items():
        if env.get(var) not in (None, ""):
            values[name] = env[var]
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    values = {k: (_coerce(k, v) if k != "home" else Path(v)) for k, v in values.items()}
    settings = _database_password(
        Settings(**{k: v for k, v in values.items() if v is not None or k in ("url", "database")}))
    if settings.demo:
        return replace(settings, user=DEMO_USER, password=DEMO_PASSWORD)
    if settings.password is None and settings.user:
        settings = replace(settings, password=keyring_password(settings.url, settings.user))
    return settings


def save_settings(settings: Settings, env: Mapping[str, str] = os.environ) -> Path:
    """Write the settings file (mode 0600, without the password)."""
    return _write_settings(settings.to_file_dict(), env)


def _write_settings(data: dict, env: Mapping[str, str]) -> Path:
    path = settings_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    tmp.replace(path)
    return path


def remember_setting(name: str, value, env: Mapping[str, str] = os.environ) -> Path:
    """Write one setting into the settings file, leaving the others as stored (not as
    the environment or the command line set them for this run)."""
    if name not in {f.name for f in fields(Settings)} or name in ("password", "database_password", "home", "offline", "demo_url"):
        raise ValueError(f"not a stored setting: {name}")
    path = settings_file(env)
    stored: dict = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"Fichier de réglages illisible ({path}) : {exc}") from None
    stored[name] = value
    return _write_settings(stored, env)


def _database_password(settings: Settings) -> Settings:
    """A PostgreSQL URL's password taken out of it (so that no file, log or message gets
    it), else the environment's (MAELIS_DESK_DATABASE_PASSWORD), else the keyring's."""
    if not settings.database or not is_postgres_url(settings.database):
        return settings
    url, password = split_database_password(settings.database)
    password = password or settings.database_password or keyring_database_password(url)
    return replace(settings, database=url, database_password=password)


# -- the passwords, in the system keyring --------------------------------------


def _keyring_key(url: str | None, user: str) -> str:
    return f"{user}@{url}"


def database_keyring_key(url: str) -> str:
    """The keyring entry of a database's password: « base:postgresql://caisse@serveur:5432/base »
    (Maelis' are « user@url »: the two never meet)."""
    return f"base:{split_database_password(url)[0]}"


def keyring_available() -> bool:
    try:
        import keyring
        from keyring.backends import fail, null

        # "fail" raises, "null" silently forgets: neither keeps a password
        return not isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring))
    except Exception:  # noqa: BLE001 - a broken keyring is no keyring
        return False


def keyring_password(url: str | None, user: str) -> str | None:
    return _keyring_get(_keyring_key(url, user))


def _keyring_get(key: str) -> str | None:
    if not keyring_available():
        return None
    import keyring

    try:
        return keyring.get_password(KEYRING_SERVICE, key)
    except Exception as exc:  # noqa: BLE001
        log.warning("Keyring unreadable: %s", type(exc).__name__)
        return None


def store_password(url: str | None, user: str, password: str) -> bool:
    """Keep the password in the keyring; False when there is none (then ask at start)."""
    return _keyring_set(_keyring_key(url, user), password)


def _keyring_set(key: str, password: str) -> bool:
    if not keyring_available():
        return False
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, key, password)
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("Keyring not writable: %s", type(exc).__name__)
        return False


def keyring_database_password(url: str) -> str | None:
    """The password kept for the database at `url` (a postgresql:// URL), None when none is."""
    return _keyring_get(database_keyring_key(url))


def store_database_password(url: str, password: str) -> bool:
    """Keep a database's password in the keyring; False when there is none."""
    return _keyring_set(database_keyring_key(url), password)
