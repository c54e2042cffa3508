"""Point 8 of issue 8: secrets and personal data.

- the Maelis password never on the command line (`ps` shows it to every user):
  `--password` is refused with the ways that work (environment, --password-file,
  keyring, a prompt on a terminal);
- what the desk writes for itself (database, logs, WSDL copies, receipts) is its
  user's alone: files 0600, folders 0700, older 0755 folders tightened;
- a refused TLS certificate says that it was refused, and why.

Every command runs as a process of its own (`python -m maelis_desk`), as a user runs it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maelis_desk.maelis import MaelisClient, MaelisUnavailable
from maelis_desk.simulator import Simulator

from integration_helpers import DEMO_FAMILY

TLS = Path(__file__).parent / "tls"


def _env(tmp_path, url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_")}
    env.update({"MAELIS_DESK_URL": url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_HOME": str(tmp_path / "home"),
                "MAELIS_DESK_TIMEOUT": "3", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    env.update(extra)
    return env


def _desk(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True,
                          timeout=90, env=env, **kw)


# -- the password ---------------------------------------------------------------

def test_a_password_on_the_command_line_is_refused_and_says_what_works(simulator, tmp_path):
    result = _desk(["--password", "demo", "regies"], _env(tmp_path, simulator.url))
    assert result.returncode == 2, result.stderr
    for way in ("MAELIS_DESK_PASSWORD", "--password-file", "trousseau", "ps"):
        assert way in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists()  # refused before anything was opened
    # after the command's name too, where each command takes the connection options
    assert _desk(["regies", "--password", "demo"], _env(tmp_path, simulator.url)).returncode == 2


def test_the_help_shows_how_to_give_the_password():
    result = _desk(["--help"], {**os.environ})
    assert result.returncode == 0
    assert "--password-file" in result.stdout and "MAELIS_DESK_PASSWORD" in result.stdout
    assert "--password PASSWORD" not in result.stdout


def test_a_password_file_of_its_owner_alone(simulator, tmp_path):
    secret = tmp_path / "maelis.secret"
    secret.write_text("demo\n", encoding="utf-8")
    secret.chmod(0o600)
    env = _env(tmp_path, simulator.url)
    result = _desk(["--password-file", str(secret), "invoices", str(DEMO_FAMILY)], env)
    assert result.returncode == 0, result.stderr
    assert "€" in result.stdout

    wrong = tmp_path / "wrong.secret"
    wrong.write_text("not-the-password\n", encoding="utf-8")
    wrong.chmod(0o600)
    assert _desk(["invoices", str(DEMO_FAMILY), "--password-file", str(wrong)], env).returncode == 4

    secret.chmod(0o644)  # readable by anyone: refused, as ssh refuses such a key
    result = _desk(["--password-file", str(secret), "regies"], env)
    assert result.returncode == 2
    assert "lisible par d'autres" in result.stderr and "chmod 600" in result.stderr

    result = _desk(["--password-file", str(tmp_path / "none"), "regies"], env)
    assert result.returncode == 2 and "n'existe pas" in result.stderr and "Traceback" not in result.stderr

    empty = tmp_path / "empty.secret"
    empty.touch(mode=0o600)
    result = _desk(["--password-file", str(empty), "regies"], env)
    assert result.returncode == 2 and "vide" in result.stderr


def _on_a_terminal(args: list[str], env: dict, typed: str) -> tuple[int, str]:
    """Run the desk with a pseudo-terminal as its controlling terminal; type `typed`
    once it asks for the password. Its exit code and everything it wrote there."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its stdin, stdout, stderr and /dev/tty
        os.execve(sys.executable, [sys.executable, "-m", "maelis_desk", *args], env)
    out, typed_yet, deadline = b"", False, time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            out += chunk
        if not typed_yet and b"Mot de passe Maelis" in out:
            os.write(fd, typed.encode() + b"\r")
            typed_yet = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_without_a_password_the_desk_asks_on_a_terminal_without_echo(simulator, tmp_path):
    code, screen = _on_a_terminal(["invoices", str(DEMO_FAMILY)], _env(tmp_path, simulator.url), "demo")
    assert code == 0, screen
    assert "Mot de passe Maelis de demo :" in screen and "€" in screen
    assert "demo\r\n" not in screen.split("Mot de passe Maelis de demo :", 1)[1][:8]  # not echoed


def test_a_command_without_a_terminal_does_not_wait_for_a_password(simulator, tmp_path):
    result = _desk(["invoices", str(DEMO_FAMILY)], _env(tmp_path, simulator.url), stdin=subprocess.DEVNULL)
    assert result.returncode == 4, result.stderr  # refused by Maelis: no password, nothing asked
    assert "Mot de passe" not in result.stdout + result.stderr.split("Corrigez")[0]


# -- what the desk writes ------------------------------------------------------

def _loose(root: Path) -> list[str]:
    """Every file or folder under root (root itself is the test's) that someone else than its user may read."""
    found = []
    for path in root.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not path.is_symlink() and mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


def test_what_the_desk_writes_is_its_users_alone(simulator, tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True, mode=0o755)  # made by an older desk, open to all
    (home / "data").chmod(0o755)
    env = _env(tmp_path, simulator.url, MAELIS_DESK_PASSWORD="demo")
    old = os.umask(0o022)  # the usual umask, which the desk inherits
    try:
        listed = _desk(["invoices", str(DEMO_FAMILY), "--regie", "102", "--json"], env)
        assert listed.returncode == 0, listed.stderr
        first = json.loads(listed.stdout)["invoices"][0]
        assert _desk(["session", "open", "--float", "0"], env).returncode == 0
        result = _desk(["pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(first["number"]),
                        "--amount", "1,00", "--mode", "carte", "--card-reference", "A1",
                        "--receipt", str(home / "quittance.pdf")], env)
        assert result.returncode == 0, result.stderr
        result = _desk(["-v", "pdf", "102", str(first["number"]), "--family", str(DEMO_FAMILY),
                        "-o", str(home / "facture.pdf")], env)
        assert result.returncode == 0, result.stderr
    finally:
        os.umask(old)
    written = [p for p in home.rglob("*") if p.is_file()]
    assert (home / "quittance.pdf") in written
    assert any(p.suffix == ".sqlite3" for p in written)
    assert any("wsdl" in p.parts for p in written)  # the WSDL copies
    assert _loose(home) == []


# -- TLS ---------------------------------------------------------------------

@pytest.fixture
def tls_simulator(tmp_path, request):
    name = getattr(request, "param", "loopback")
    with Simulator(port=0, families=40, state_dir=tmp_path / "maelis-tls",
                   tls=(TLS / f"{name}.pem", TLS / f"{name}.key")) as sim:
        assert sim.url.startswith("https://127.0.0.1:")
        yield sim


def test_a_certificate_the_desk_trusts_works(tls_simulator, tmp_path):
    env = _env(tmp_path, tls_simulator.url, MAELIS_DESK_PASSWORD="demo", REQUESTS_CA_BUNDLE=str(TLS / "loopback.pem"))
    result = _desk(["regies"], env)
    assert result.returncode == 0, result.stderr
    assert "CRÈCHES" in result.stdout


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_a_self_signed_certificate_is_refused_saying_so(tls_simulator, tmp_path, verbose):
    env = _env(tmp_path, tls_simulator.url, MAELIS_DESK_PASSWORD="demo")
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.pop("SSL_CERT_FILE", None)
    result = _desk([*verbose, "regies"], env)
    assert result.returncode == 3, result.stderr  # Maelis unreachable, nothing in the cache
    assert "certificat du serveur Maelis (127.0.0.1:" in result.stderr
    assert "auto-signé" in result.stderr and "Rien n'a été envoyé" in result.stderr
    assert "coupée" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("tls_simulator", ["expired"], indirect=True)
def test_an_expired_certificate_says_it_has_expired(tls_simulator, tmp_path):
    env = _env(tmp_path, tls_simulator.url, MAELIS_DESK_PASSWORD="demo", REQUESTS_CA_BUNDLE=str(TLS / "expired.pem"))
    result = _desk(["regies"], env)
    assert result.returncode == 3, result.stderr
    assert "le certificat a expiré" in result.stderr


def test_plain_http_to_a_tls_port_and_a_refused_payment_was_not_sent(tls_simulator, tmp_path):
    """A refused handshake happens before anything leaves: a payment is known not sent
    (so it stays to send, never « in doubt »)."""
    client = MaelisClient(tls_simulator.url, "demo", "demo", timeout=3, wsdl_dir=tmp_path / "wsdl")
    with pytest.raises(MaelisUnavailable) as refused:
        client.read_regies()
    assert not refused.value.request_sent and "certificat" in str(refused.value)
    client.close()
    plain = MaelisClient(tls_simulator.url.replace("https://", "http://"), "demo", "demo", timeout=3,
                         wsdl_dir=tmp_path / "wsdl2")
    with pytest.raises(MaelisUnavailable):
        plain.read_regies()
    plain.close()
