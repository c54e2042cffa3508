"""The database failing gives a French message and its exit code, never a traceback,
and a payment is either recorded with its receipt number or not taken (issue 8 point 9).

The disk is really full: a 2 MB tmpfs filled up (root can mount one; else skipped, saying why)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from integration_helpers import DEMO_FAMILY
from test_cli import run

from maelis_desk.cli import EXIT_USAGE
from maelis_desk.services.errors import EXIT_DATABASE, EXIT_NOT_RECORDED


@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / "small"
    where.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("a small tmpfs needs root and mount(8): the full disk is not reproduced here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder, leave: int = 0) -> None:
    """Fill the file system, then give back `leave` bytes."""
    filler = folder / f"filler-{uuid.uuid4()}"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass
    if filler.exists():
        os.truncate(filler, max(0, filler.stat().st_size - leave))


def test_a_full_disk_while_paying_takes_nothing_and_says_so(simulator, small_disk):
    env = {"MAELIS_DESK_DATABASE": str(small_disk / "desk.sqlite3")}
    shown = run("invoices", str(DEMO_FAMILY), "--regie", "102", "--json", url=simulator.url, env_extra=env)
    invoice = json.loads(shown.stdout)["invoices"][0]
    assert run("session", "open", "--float", "0", url=simulator.url, env_extra=env).returncode == 0

    def pay():
        return run("pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(invoice["number"]), "--amount",
                   "1,00", "--mode", "carte", "--card-reference", "A1", "--no-transmit", "--offline", env_extra=env)

    assert pay().returncode == 0
    _fill(small_disk)
    failed = pay()
    # Full at the open (SQLite's -shm cannot be made: exit 10) or while writing (exit 12):
    # either way the cashier is told that nothing was taken.
    assert failed.returncode in (EXIT_DATABASE, EXIT_NOT_RECORDED), failed.stderr
    assert "disque" in failed.stderr and "plein" in failed.stderr
    assert ("PAS enregistré" if failed.returncode == EXIT_NOT_RECORDED else "Rien n'y a été écrit") in failed.stderr
    assert "Traceback" not in failed.stderr
    listed = run("outbox", "--offline", "--json", env_extra=env)
    assert "Traceback" not in listed.stderr
    if listed.returncode == 0:
        assert len(json.loads(listed.stdout)) == 1  # the first payment, durable; the second not taken
    else:
        assert listed.returncode in (EXIT_DATABASE, EXIT_NOT_RECORDED) and "plein" in listed.stderr
    for filler in small_disk.glob("filler-*"):
        filler.unlink()
    listed = run("outbox", "--offline", "--json", env_extra=env)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1


@pytest.mark.parametrize("kind", ["folder", "text", "random", "missing-parent-read-only"])
def test_a_database_that_cannot_be_opened(tmp_path, kind):
    path = tmp_path / "db"
    if kind == "folder":
        path.mkdir()
        expected = "est un dossier"
    elif kind == "text":
        path.write_text("ceci n'est pas une base\n")
        expected = "n'est pas une base SQLite"
    elif kind == "random":
        path.write_bytes(os.urandom(8192))
        expected = "n'est pas une base SQLite"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)],
                                               capture_output=True).returncode:
            pytest.skip("a read-only tmpfs needs root and mount(8)")
        path = ro / "sub" / "desk.sqlite3"
        expected = "lecture seule"
    try:
        result = run("outbox", "--offline", "--database", str(path))
    finally:
        if kind == "missing-parent-read-only":
            subprocess.run(["umount", "-l", str(tmp_path / "ro")], check=False)
    assert result.returncode == EXIT_DATABASE, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_family_number_too_large():
    result = run("family", "99999999999999999999", "--offline")
    assert result.returncode == EXIT_USAGE and "trop grand" in result.stderr and "Traceback" not in result.stderr


def test_a_database_full_while_recording_takes_nothing(make_desk):
    """The write itself fails (SQLite's max_page_count: « database or disk is full »,
    a real SQLite failure): the payment is not recorded and said so, exit 12."""
    from decimal import Decimal

    from maelis_desk.services.errors import DatabaseFailed
    from maelis_desk.services.payments import Mode, PaymentRequest
    from maelis_desk.store.database import db

    desk = make_desk()
    regie_list = next(r for r in desk.reader.open_family(DEMO_FAMILY).regies if r.to_pay)
    inv = regie_list.to_pay[0]
    request = PaymentRequest(family=DEMO_FAMILY, regie=inv.regie.code, invoices=[inv.number],
                             amount=Decimal("1.00"), mode=Mode.ESPECES)
    first = desk.payments.record(request)
    pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    db.execute_sql(f"PRAGMA max_page_count = {pages}")
    try:
        with pytest.raises(DatabaseFailed) as failed:
            for _ in range(200):  # until a write needs one page more
                desk.payments.record(request)
    finally:
        db.execute_sql("PRAGMA max_page_count = 1073741823")
    assert failed.value.exit_code == EXIT_NOT_RECORDED
    assert "PAS enregistré" in failed.value.message and "plein" in failed.value.message
    recorded = desk.payments.outbox(include_confirmed=True)
    numbers = sorted(int(r.receipt.split("-")[-1]) for r in recorded)
    assert numbers == list(range(1, len(numbers) + 1)) and first.receipt in {r.receipt for r in recorded}
    after = desk.payments.record(request)  # space again: the next number follows, no gap
    assert int(after.receipt.split("-")[-1]) == len(numbers) + 1
