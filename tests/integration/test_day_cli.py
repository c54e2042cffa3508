"""The régie's day from the command line, against the demo Maelis over HTTP:
`pay` refused without a session (exit 7), a whole day (open, pay, move,
close, Z report, dockets, statement), and the desk killed (SIGKILL) at each
step of a close and of a docket validation."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from integration_helpers import DEMO_FAMILY


def cli(simulator, database, *args, env_extra=None, timeout=60):
    env = dict(os.environ)
    env.update({"MAELIS_DESK_URL": simulator.url, "MAELIS_DESK_USER": "demo", "MAELIS_DESK_PASSWORD": "demo",
                "MAELIS_DESK_DATABASE": str(database)})  # a one-person desk: no operator named
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "maelis_desk", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def to_pay(simulator, database, regie=102):
    shown = cli(simulator, database, "invoices", str(DEMO_FAMILY), "--regie", str(regie), "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["invoices"]


def pay(simulator, database, invoice, amount, mode, *extra):
    return cli(simulator, database, "pay", str(DEMO_FAMILY), "--regie", "102", "--invoice", str(invoice),
               "--amount", amount, "--mode", mode, "--no-transmit", "--json", *extra)


def test_pay_without_a_session_is_refused_with_exit_7(simulator, tmp_path):
    database = tmp_path / "desk.sqlite3"
    invoice = to_pay(simulator, database)[0]
    refused = pay(simulator, database, invoice["number"], "1,00", "especes")
    assert refused.returncode == 7, refused.stderr
    assert "Aucune caisse n'est ouverte" in refused.stderr and "session open --float 50,00" in refused.stderr
    assert "Traceback" not in refused.stderr
    status = cli(simulator, database, "session", "status")
    assert status.returncode == 7 and "Aucune caisse" in status.stderr


def test_a_day_from_the_command_line(simulator, tmp_path):
    database = tmp_path / "desk.sqlite3"
    invoice = to_pay(simulator, database)[0]["number"]
    opened = cli(simulator, database, "session", "open", "--float", "50,00")
    assert opened.returncode == 0 and "50,00\u00a0€" in opened.stdout
    assert pay(simulator, database, invoice, "1,00", "especes").returncode == 0
    cheque = pay(simulator, database, invoice, "1,50", "cheque", "--cheque-number", "0012345", "--bank", "CIC",
                 "--drawer", "Mme Dupont")
    assert cheque.returncode == 0, cheque.stderr
    assert pay(simulator, database, invoice, "2,00", "carte", "--card-reference", "A1").returncode == 0
    card = pay(simulator, database, invoice, "3,00", "carte", "--card-reference", "A2")
    assert card.returncode == 0, card.stderr
    card_receipt = json.loads(card.stdout)["receipt"]
    # cancelled before the close (the one-person desk is its own régisseur): it leaves what the till expects
    cancelled = cli(simulator, database, "cancel", card_receipt, "--reason", "erreur")
    assert cancelled.returncode == 0, cancelled.stderr
    moved = cli(simulator, database, "session", "move", "--amount", "-20,00", "--reason", "versement")
    assert moved.returncode == 0, moved.stderr
    status = json.loads(cli(simulator, database, "session", "status", "--json").stdout)
    assert status["float"] == "50.00" and status["expected"]["especes"] == "31.00"
    assert status["expected"]["cheque"] == {"count": 1, "total": "1.50"} and status["expected"]["carte"] == "2.00"
    assert [p["mode"] for p in status["payments"]] == ["especes", "cheque", "carte", "carte"]

    no_comment = cli(simulator, database, "session", "close", "--counted-cash", "29,00", "--counted-cheques", "1",
                     "--cheques-total", "1,50", "--card-total", "2,00")
    assert no_comment.returncode == 7 and "commentaire est obligatoire" in no_comment.stderr
    closed = cli(simulator, database, "session", "close", "--counted-cash", "29,00", "--counted-cheques", "1",
                 "--cheques-total", "1,50", "--card-total", "2,00", "--comment", "2 € rendus en trop")
    assert closed.returncode == 0, closed.stderr
    z_number = int(closed.stdout.strip())
    assert z_number == 1 and "rapport Z n° 1" in closed.stderr
    report = tmp_path / "z.pdf"
    assert cli(simulator, database, "session", "report", "1", "-o", str(report)).returncode == 0
    assert report.read_bytes().startswith(b"%PDF")
    again = tmp_path / "z2.pdf"
    cli(simulator, database, "session", "report", "1", "-o", str(again))
    assert again.read_bytes() == report.read_bytes()
    assert pay(simulator, database, invoice, "1,00", "especes").returncode == 7  # closed: no more money

    created = cli(simulator, database, "docket", "create", "--regie", "102", "--type", "cheque")
    assert created.returncode == 0, created.stderr
    docket_id = int(created.stdout.strip())
    validated = cli(simulator, database, "docket", "validate", str(docket_id))
    assert validated.returncode == 0 and validated.stdout.strip().startswith("B-102-")
    number = validated.stdout.strip()
    listed = json.loads(cli(simulator, database, "docket", "list", "--json").stdout)
    assert [(d["number"], d["count"], d["total"]) for d in listed] == [(number, 1, "1.50")]
    for suffix in ("pdf", "csv", "ods"):
        out = tmp_path / f"b.{suffix}"
        done = cli(simulator, database, "docket", "export", str(docket_id), "-o", str(out))
        assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "b.csv").read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[1][0] == number and rows[1][6:9] == ["0012345", "CIC", "Mme Dupont"] and rows[1][-1] == "1,50"
    sheet = CalamineWorkbook.from_path(str(tmp_path / "b.ods")).get_sheet_by_index(0).to_python()
    assert any(r[0] == number and r[6] == "0012345" for r in sheet)

    month = json.loads(closed.stdout and cli(simulator, database, "session", "list", "--json").stdout)[0]
    statement = tmp_path / "etat.csv"
    done = cli(simulator, database, "statement", "--regie", "102", "--month", month["opened_at"][:7], "-o",
               str(statement))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(statement.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert sum(Decimal(r[7].replace(",", ".")) for r in rows[1:] if r[2] == "Encaissements") == Decimal("7.50")
    assert [(r[4], r[7]) for r in rows if r[2] == "Annulation"] == [(card_receipt, "-3,00")]  # in the month's statement
    assert any(r[2] == "Bordereau" and r[4] == number for r in rows)

    # the journal recorded each step of the day, what was expected and counted included
    assert cli(simulator, database, "journal", "verify").returncode == 0
    entries = json.loads(cli(simulator, database, "journal", "--json").stdout)
    day = [e["kind"] for e in entries if e["kind"].startswith(("session.", "docket."))]
    assert day == ["session.opened", "session.movement", "session.closed", "docket.drafted", "docket.validated"]
    closing = next(e for e in entries if e["kind"] == "session.closed")
    assert closing["data"]["z"] == 1 and closing["data"]["expected"]["cash"] == "31.00"
    assert closing["data"]["counted"]["cash"] == "29.00" and "2 € rendus en trop" in str(closing["data"]["comments"])
    listed = cli(simulator, database, "journal").stdout
    assert "Arrêté de caisse : Z n° 1" in listed and f"Bordereau validé : {number}" in listed
    assert "Mouvement de caisse (Retrait pour versement au comptable)" in listed


def open_and_take(simulator, database):
    invoice = to_pay(simulator, database)[0]["number"]
    assert cli(simulator, database, "session", "open", "--float", "10").returncode == 0
    assert pay(simulator, database, invoice, "1,00", "cheque", "--cheque-number", "42").returncode == 0
    return invoice


CLOSE = ("session", "close", "--counted-cash", "10", "--counted-cheques", "1", "--cheques-total", "1")


@pytest.mark.parametrize("step", ["close-held", "close-numbered", "close-written", "close-committed"])
def test_killed_at_each_step_of_a_close(simulator, tmp_path, step):
    database = tmp_path / "desk.sqlite3"
    open_and_take(simulator, database)
    killed = cli(simulator, database, *CLOSE, env_extra={"MAELIS_DESK_FAILPOINT": step})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    status = json.loads(cli(simulator, database, "session", "list", "--json").stdout)
    if step == "close-committed":  # the close had committed: closed with Z 1, whole
        assert [(s["state"], s["z_number"]) for s in status] == [("closed", 1)]
        assert cli(simulator, database, "session", "report", "1", "-o", str(tmp_path / "z.pdf")).returncode == 0
        assert journaled(simulator, database, "session.closed") == 1
        return
    # before the commit nothing of the close remains: still open, Z 1 still free, nothing journaled
    assert [(s["state"], s["z_number"]) for s in status] == [("open", None)]
    assert journaled(simulator, database, "session.closed") == 0
    done = cli(simulator, database, *CLOSE)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr
    assert journaled(simulator, database, "session.closed") == 1


@pytest.mark.parametrize("step", ["docket-held", "docket-numbered", "docket-validated", "docket-committed"])
def test_killed_at_each_step_of_a_docket_validation(simulator, tmp_path, step):
    database = tmp_path / "desk.sqlite3"
    open_and_take(simulator, database)
    docket_id = cli(simulator, database, "docket", "create", "--regie", "102", "--type", "cheque").stdout.strip()
    killed = cli(simulator, database, "docket", "validate", docket_id, env_extra={"MAELIS_DESK_FAILPOINT": step})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    listed = json.loads(cli(simulator, database, "docket", "list", "--json").stdout)
    if step == "docket-committed":
        assert [(d["state"], d["number"]) for d in listed] == [("validated", listed[0]["number"])]
        assert listed[0]["number"].endswith("-0001")
        assert journaled(simulator, database, "docket.validated") == 1
        return
    assert [(d["state"], d["number"], d["count"]) for d in listed] == [("draft", None, 1)]
    assert journaled(simulator, database, "docket.validated") == 0
    done = cli(simulator, database, "docket", "validate", docket_id)
    assert done.returncode == 0 and done.stdout.strip().endswith("-0001"), done.stderr  # no number lost
    assert journaled(simulator, database, "docket.validated") == 1


def journaled(simulator, database, kind: str) -> int:
    """How many entries of `kind` the journal holds, its chain verified intact first."""
    verified = cli(simulator, database, "journal", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    entries = json.loads(cli(simulator, database, "journal", "--json").stdout)
    return sum(1 for e in entries if e["kind"] == kind)


def test_the_z_report_says_why_each_payment_was_cancelled(make_desk, simulator, qapp):
    """The real desk (not a fake) gives the close each cancelled payment's motive; the Z report prints it."""
    from maelis_desk.domain_day import Counted
    from maelis_desk.services.day_documents import z_report_pdf
    from maelis_desk.services.payments import Mode, PaymentRequest

    desk = make_desk()  # its till open with no float
    view = desk.reader.open_family(DEMO_FAMILY)
    regie = next(r for r in view.regies if r.to_pay)
    invoice = regie.to_pay[0]
    paid = desk.payments.record(PaymentRequest(DEMO_FAMILY, regie.regie.code, [invoice.number], Decimal("1.00"),
                                               Mode.CARTE, {"card_reference": "T-9"}))
    desk.cancellations.cancel(paid.receipt, "erreur", "carte passée deux fois")
    closing = desk.day.close(Counted(Decimal("0"), 0, Decimal("0"), Decimal("0")), {})
    cancelled = [p for p in closing.report["payments"] if p["cancelled"]]
    assert [(p["receipt"], p["motive"]) for p in cancelled] == [(paid.receipt, "Saisie erronée (carte passée deux fois)")]
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtPdf import QPdfDocument

    data = QByteArray(z_report_pdf(closing))
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    text = " ".join(" ".join(document.getAllText(i).text() for i in range(document.pageCount())).split())
    document.close()
    assert "Motif" in text and "Saisie erronée (carte passée deux fois)" in text, text
