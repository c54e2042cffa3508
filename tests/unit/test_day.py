"""The régie's day (services/day.py): sessions, movements, the close, dockets,
their numbers under concurrency, and the documents read back."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from maelis_desk.services.operators import OperatorService
from maelis_desk.store.operators import Operators
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtPdf import QPdfDocument
from python_calamine import CalamineWorkbook

from maelis_desk.domain import Invoice, Regie
from maelis_desk.domain_day import CashCount, Counted, DayError, DocketState, DocketType, MoveReason
from maelis_desk.services import day_documents as docs
from maelis_desk.services.day import DayService, NoOpenSession
from maelis_desk.services.errors import DayRefused
from maelis_desk.services.payments import Mode, PaymentRefused, PaymentRequest, PaymentService
from maelis_desk.store import Cache, models, open_database
from maelis_desk.store.day import CashClosing, CashSession, DayCounter, DayStore
from maelis_desk.store.database import release_connection
from maelis_desk.store.payments import Payments

PLUS1 = timezone(timedelta(hours=1))
REGIE = Regie(102, "CANTINE / CLAE")
ALL_MODES = {"102": [m.value for m in Mode]}


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def invoice(number: int, amount: str = "5000") -> Invoice:
    return Invoice(regie=REGIE, number=number, id=f"F{number:08d}", label="CLAE", family=1312,
                   payer_name="SIMPSON MARGE", date=datetime(2026, 2, 1, tzinfo=PLUS1),
                   deadline=datetime(2026, 3, 31, tzinfo=PLUS1), amount=Decimal(amount), paid=Decimal("0"))


class World:
    """A desk's services on a fresh database (SQLite file or PostgreSQL): cache, payments, day."""

    def __init__(self, path, desk="guichet-1", operator="Agnès"):
        self.database = open_database(path)
        self.clock = Clock(datetime(2026, 11, 16, 8, 30, tzinfo=timezone.utc))  # 09:30 in Paris
        self.operator = operator
        self.cache = Cache()
        self.cache.save_invoices(1312, 102, [invoice(n) for n in range(1, 40)], self.clock())
        self.day = DayService(DayStore(), Payments(), desk=desk, operator=lambda: self.operator, clock=self.clock)
        operators = OperatorService(Operators(), desk=desk, clock=self.clock, fallback_name=operator)
        self.payments = PaymentService(self.cache, Payments(), operators=operators, desk=desk, clock=self.clock,
                                       day=self.day, mode_overrides=ALL_MODES)
        self._next = 1

    def pay(self, amount: str, mode: Mode = Mode.ESPECES, **details):
        if mode is Mode.CHEQUE:
            details.setdefault("cheque_number", f"{1000 + self._next}")
        if mode is Mode.CARTE:
            details.setdefault("card_reference", "A1")
        number = self._next
        self._next += 1
        return self.payments.record(PaymentRequest(1312, 102, [number], Decimal(amount), mode, details))


@pytest.fixture
def world(database_spec):
    w = World(database_spec)
    yield w
    w.database.close()


def pdf_text(data: bytes) -> str:
    array = QByteArray(data)  # kept alive while the document reads it
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    assert doc.status() == QPdfDocument.Status.Ready
    text = "\n".join(doc.getAllText(i).text() for i in range(doc.pageCount()))
    doc.close()
    return text


def read_csv(data: bytes) -> list[list[str]]:
    """As a French spreadsheet reads it: UTF-8 announced by its BOM, `;` between fields."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8")), delimiter=";"))


def fr_number(text: str) -> Decimal:
    assert "." not in text and "€" not in text
    return Decimal(text.replace(",", "."))


# --- sessions ------------------------------------------------------------------


def test_no_payment_without_an_open_session(world):
    with pytest.raises(NoOpenSession) as info:
        world.pay("10")
    assert "Aucune caisse n'est ouverte" in str(info.value) and "session open --float 50,00" in str(info.value)
    # the same sentence serves the window: it names the menu as well as the command
    assert "Caisse > Ouvrir la caisse…" in str(info.value) and world.day.refusal().startswith(str(info.value)[:40])
    assert isinstance(info.value, PaymentRefused) and info.value.field == "session"
    assert models.Payment.select().count() == 0
    world.day.open_session(Decimal("50"))
    # the refusal did not consume a receipt number
    assert world.pay("10").receipt == "102-2026-GUICHET1-000001"


def test_every_payment_belongs_to_the_open_session(world):
    session = world.day.open_session(Decimal("50"))
    a, b = world.pay("10"), world.pay("12.50", Mode.CHEQUE)
    assert a.session == b.session == session.id
    status = world.day.status()
    assert [p.receipt for p in status.payments] == [a.receipt, b.receipt]
    assert world.day.current().payments_count == 2


def test_one_open_session_per_desk(world, tmp_path):
    world.day.open_session(Decimal("50"))
    with pytest.raises(DayRefused, match="déjà ouverte"):
        world.day.open_session(Decimal("20"))
    other = DayService(DayStore(), Payments(), desk="guichet-2", operator=lambda: "Paul", clock=world.clock)
    assert other.open_session(Decimal("0")).desk == "guichet-2"
    assert {s.desk for s in world.day.sessions(every_desk=True)} == {"guichet-1", "guichet-2"}
    assert [s.desk for s in world.day.sessions()] == ["guichet-1"]


def test_a_session_left_open_yesterday_must_be_closed_first(world):
    world.day.open_session(Decimal("50"))
    world.pay("10")
    world.clock.now += timedelta(days=1)
    with pytest.raises(NoOpenSession, match="La caisse ouverte le 16/11/2026 n'a pas été arrêtée"):
        world.pay("5")
    with pytest.raises(DayRefused, match="faites d'abord son arrêté"):
        world.day.open_session(Decimal("50"))
    assert "16/11/2026" in world.day.refusal()
    assert "Caisse > Arrêté de caisse…" in world.day.refusal() and "session close" in world.day.refusal()
    world.day.close(Counted(Decimal("60"), 0, Decimal("0"), Decimal("0")))
    world.day.open_session(Decimal("60"))
    assert world.day.refusal() is None
    assert world.pay("5").session == world.day.current().id


def test_float_counted_by_denomination(world):
    count = CashCount({2000: 2, 500: 1, 200: 2, 50: 1})
    assert count.total == Decimal("49.50")
    session = world.day.open_session(count=count)
    assert session.float_amount == Decimal("49.50") and session.float_count == count
    with pytest.raises(DayError, match="Coupure inconnue"):
        CashCount({300: 1})


def test_movements_have_a_reason_and_never_take_more_than_the_till(world):
    world.day.open_session(Decimal("50"))
    world.pay("100")
    assert world.day.move(Decimal("20"), MoveReason.APPORT).amount == Decimal("20")
    out = world.day.move(Decimal("-150"), MoveReason.VERSEMENT)
    assert out.amount == Decimal("-150") and out.operator == "Agnès"
    assert world.day.move(Decimal("5"), MoveReason.VERSEMENT).amount == Decimal("-5")  # a withdrawal, sign omitted
    with pytest.raises(DayRefused, match="doit être positif"):
        world.day.move(Decimal("-5"), MoveReason.APPORT)
    with pytest.raises(DayRefused, match="commentaire"):
        world.day.move(Decimal("-5"), MoveReason.RETRAIT)
    with pytest.raises(DayRefused, match="ne contient que 15,00"):
        world.day.move(Decimal("-16"), MoveReason.VERSEMENT)
    assert world.day.status().expected.cash == Decimal("15.00")


# --- the close -------------------------------------------------------------------


def take_a_day(world):
    world.day.open_session(Decimal("50"))
    world.pay("30")
    world.pay("12.50", Mode.CHEQUE, bank="La Poste", drawer="M. Dupont")
    world.pay("20.00", Mode.CHEQUE)
    world.pay("80", Mode.CARTE)
    world.pay("7", Mode.CESU)
    world.day.move(Decimal("-20"), MoveReason.VERSEMENT)


def test_close_compares_counted_with_expected_and_needs_a_comment_per_difference(world):
    take_a_day(world)
    expected = world.day.status().expected
    assert (expected.cash, expected.cheques_count, expected.cheques_total, expected.card_total) == (
        Decimal("60.00"), 2, Decimal("32.50"), Decimal("80"))
    assert expected.others == {"cesu": Decimal("7")}
    count = CashCount({2000: 2, 1000: 1, 500: 1, 100: 3})  # 58 €: 2 € short
    counted = Counted.from_count(count, 2, Decimal("32.50"), Decimal("80"))
    with pytest.raises(DayRefused, match=r"Écart sur « Espèces » \(-2,00") as info:
        world.day.close(counted, {})
    assert info.value.field == "cash"
    assert world.day.current() is not None and DayCounter.select().count() == 0  # nothing taken, no Z used
    with pytest.raises(DayRefused, match="détail des coupures"):
        world.day.close(Counted(Decimal("60"), 2, Decimal("32.50"), Decimal("80"), count), {})
    world.clock.now += timedelta(hours=9)
    closing = world.day.close(counted, {"cash": "pièce de 2 € rendue en trop", "card_total": "ignored: no diff"})
    assert closing.z_number == 1 and closing.comments == {"cash": "pièce de 2 € rendue en trop"}
    assert closing.differences == {"cash": Decimal("-2.00"), "cheques_count": 0, "cheques_total": 0,
                                   "card_total": 0}
    session = world.day.store.get(closing.session)
    assert session.state.value == "closed" and session.z_number == 1 and session.closed_by == "Agnès"


def test_a_closed_session_never_changes(world):
    take_a_day(world)
    closing = world.day.close(Counted(Decimal("60"), 2, Decimal("32.50"), Decimal("80")), {})
    first = docs.z_report_pdf(closing, city="Ville de Toulouse")
    with pytest.raises(NoOpenSession):
        world.pay("1")
    with pytest.raises(DayRefused, match="Aucune caisse n.est ouverte"):
        world.day.move(Decimal("10"), MoveReason.APPORT)
    with pytest.raises(DayRefused, match="Aucune caisse ouverte à arrêter"):
        world.day.close(Counted(Decimal("0"), 0, Decimal("0"), Decimal("0")), {})
    # the next session's life leaves the closed one as it was
    world.day.open_session(Decimal("60"))
    world.pay("3")
    world.day.close(Counted(Decimal("63"), 0, Decimal("0"), Decimal("0")), {})
    again = world.day.closing_by_z(1)
    assert again == closing and CashClosing.select().count() == 2
    assert docs.z_report_pdf(again, city="Ville de Toulouse") == first  # a reprint is the same document
    assert [p.receipt for p in world.day.status(closing.session).payments] == [
        "102-2026-GUICHET1-000001", "102-2026-GUICHET1-000002", "102-2026-GUICHET1-000003", "102-2026-GUICHET1-000004", "102-2026-GUICHET1-000005"]


def test_z_report_pdf_says_what_the_close_said(world):
    take_a_day(world)
    count = CashCount({2000: 2, 1000: 1, 500: 1, 100: 3})
    long = ("pièce de 2 € rendue en trop à une famille pressée, signalé au régisseur le soir même, "
            "à retenir sur le prochain versement au comptable public")
    world.day.move(Decimal("1"), MoveReason.APPORT, "")
    world.day.move(Decimal("-1"), MoveReason.RETRAIT, "monnaie prêtée à la régie voisine pour la fête de "
                   "l'école, rendue demain matin par son régisseur")  # the two leave the cash expected as it was
    closing = world.day.close(Counted.from_count(count, 2, Decimal("32.50"), Decimal("80")), {"cash": long})
    text = " ".join(pdf_text(docs.z_report_pdf(closing, city="Ville de Toulouse")).split())
    # long texts wrap in their cells, never cut to the cell's width (a comment, a movement's reason)
    assert text.count("au comptable public") == 1, text
    assert "rendue demain matin par son régisseur" in text, text
    for expected in ("Rapport Z n° 1", "guichet-1", "Agnès", "102 CANTINE / CLAE", "Espèces", "Chèque",
                     "Carte bancaire", "CESU", "60,00 €", "58,00 €", "-2,00 €", "pièce de 2 € rendue en trop",
                     "Retrait pour versement au comptable", "-20,00 €", "16/11/2026", "Fond de caisse", "50,00 €",
                     "149,50 €", "102-2026-GUICHET1-000004", "20 €", "Aucune annulation"):
        assert expected in text, expected


# --- dockets ---------------------------------------------------------------------------


def test_cheque_docket_draft_validate_lock(world):
    take_a_day(world)
    with pytest.raises(DayRefused, match="Aucun paiement par Chèque de la régie 102 jusqu'au 15/11/2026"):
        world.day.create_docket(102, DocketType.CHEQUE, until=date(2026, 11, 15))
    draft = world.day.create_docket(102, DocketType.CHEQUE)
    assert draft.state is DocketState.DRAFT and draft.number is None
    assert (draft.count, draft.total) == (2, Decimal("32.50"))
    assert [line.details.get("cheque_number") for line in draft.lines] == ["1002", "1003"]
    with pytest.raises(DayRefused, match="existe déjà"):
        world.day.create_docket(102, DocketType.CHEQUE)
    assert world.day.lock_reason(draft.lines[0].payment) is None  # a draft locks nothing yet
    world.clock.now += timedelta(hours=2)
    done = world.day.validate_docket(draft.id)
    assert done.number == "B-102-2026-0001" and done.state is DocketState.VALIDATED
    reason = world.day.lock_reason(done.lines[0].payment)
    assert "B-102-2026-0001" in reason and "ne peut plus être annulé" in reason and "16/11/2026" in reason
    assert world.day.is_locked(done.lines[1].payment) and not world.day.is_locked(
        models.Payment.get(models.Payment.mode == "especes").id)
    with pytest.raises(DayRefused, match="déjà validé"):
        world.day.validate_docket(draft.id)
    with pytest.raises(DayRefused, match="ne peut plus être supprimé"):
        world.day.discard_docket(draft.id)
    # paid cheques are in a docket now: a new draft gathers only the new one
    world.pay("9", Mode.CHEQUE)
    nxt = world.day.validate_docket(world.day.create_docket(102, DocketType.CHEQUE).id)
    assert nxt.number == "B-102-2026-0002" and nxt.count == 1
    cash = world.day.create_docket(102, DocketType.ESPECES)
    assert cash.total == Decimal("30.00")
    world.day.discard_docket(cash.id)
    assert world.day.validate_docket(world.day.create_docket(102, DocketType.ESPECES).id).number == "B-102-2026-0003"


def test_cancelled_payments_leave_the_draft_and_the_expected(database_spec):
    cancelled: set[str] = set()
    w = World(database_spec)
    w.day._cancelled = lambda ids: {i for i in ids if i in cancelled}
    try:
        w.day.open_session(Decimal("0"))
        a = w.pay("10", Mode.CHEQUE)
        b = w.pay("15", Mode.CHEQUE)
        draft = w.day.create_docket(102, DocketType.CHEQUE)
        cancelled.add(a.id)
        assert w.day.status().expected.cheques_total == Decimal("15")
        done = w.day.validate_docket(draft.id)
        assert [line.payment for line in done.lines] == [b.id] and done.total == Decimal("15")
    finally:
        w.database.close()


def test_docket_numbers_are_gap_free_under_concurrency(database_spec):
    """Four desks' threads (own connections to one SQLite file) build and
    validate dockets of one régie at once: numbers 1..N, none twice, none missing."""
    w = World(database_spec)
    w.day.open_session(Decimal("0"))
    types = [DocketType.CHEQUE, DocketType.CESU, DocketType.ANCV, DocketType.ESPECES]
    rounds = 6
    lock = threading.Lock()
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(types))

    def desk(t: DocketType):
        try:
            day = DayService(DayStore(), Payments(), desk="guichet-1", operator=lambda: f"op-{t.value}",
                             clock=w.clock)
            barrier.wait()
            for _ in range(rounds):
                with lock:  # one invoice per payment: pick it under a lock, record concurrently
                    number = w._next
                    w._next += 1
                details = {"cheque_number": str(number)} if t is DocketType.CHEQUE else {}
                w.payments.record(PaymentRequest(1312, 102, [number], Decimal("3"), Mode(t.mode), details))
                docket = day.validate_docket(day.create_docket(102, t).id)
                with lock:
                    numbers.append(docket.number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            release_connection()

    threads = [threading.Thread(target=desk, args=(t,)) for t in types]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    try:
        assert not errors, errors
        assert sorted(numbers) == [f"B-102-2026-{i:04d}" for i in range(1, len(types) * rounds + 1)]
    finally:
        w.database.close()


def test_docket_exports_read_back(world):
    world.day.open_session(Decimal("0"))
    world.pay("1234.50", Mode.CHEQUE, cheque_number="0012345", bank="Crédit Agricole", drawer="Mme Éloïse Dupont")
    world.pay("20", Mode.CHEQUE, cheque_number="77", bank="La Banque Postale")
    docket = world.day.validate_docket(world.day.create_docket(102, DocketType.CHEQUE).id)

    text = pdf_text(docs.docket_pdf(docket, city="Ville de Toulouse"))
    for expected in ("Bordereau de remise de chèques", "B-102-2026-0001", "0012345", "Crédit Agricole",
                     "Mme Éloïse Dupont", "1 234,50 €", "SIMPSON MARGE", "2 chèques", "1 254,50 €",
                     "mille-deux-cent-cinquante-quatre euros et cinquante centimes", "Cachet de la banque"):
        assert expected in text.replace("\u00a0", " ").replace("1 2", "1 2"), expected

    rows = read_csv(docs.docket_csv(docket))
    header, body = rows[0], rows[1:]
    assert header[-5:] == ["N° de chèque", "Banque", "Tireur", "Quittance", "Montant"]
    assert [(r[6], r[7], r[8], fr_number(r[10])) for r in body] == [
        ("0012345", "Crédit Agricole", "Mme Éloïse Dupont", Decimal("1234.50")),
        ("77", "La Banque Postale", "SIMPSON MARGE", Decimal("20.00"))]
    assert sum(fr_number(r[10]) for r in body) == docket.total

    import tempfile, os  # noqa: E401 - calamine reads from a path
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "b.ods")
        with open(path, "wb") as f:
            f.write(docs.docket_ods(docket))
        sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert sheet[0][1] == "B-102-2026-0001"
    table = [r for r in sheet if r and r[0] == "B-102-2026-0001"]
    assert [r[6] for r in table] == ["0012345", "77"]
    assert [Decimal(str(r[10])) for r in table] == [Decimal("1234.5"), Decimal("20")]
    # the payment's date is a date to the spreadsheet (sorted, filtered as one), dd/mm/yyyy in the CSV
    assert all(isinstance(r[4], date) for r in table), [r[4] for r in table]
    assert [r[4] for r in body] == [f"{r[4]:%d/%m/%Y}" for r in table]
    totals = {r[0]: r[1] for r in sheet if r and r[0] in ("Nombre", "Total")}
    assert totals["Nombre"] == 2 and Decimal(str(totals["Total"])) == Decimal("1254.5")


# --- the monthly statement ----------------------------------------------------------------


def test_statement_and_a_cancellation_after_the_close_in_the_next_month(world):
    cancellations: list[dict] = []
    world.day._cancellations = lambda regie, since, until: [c for c in cancellations if since <= c["at"] < until]
    take_a_day(world)
    world.day.close(Counted(Decimal("58"), 2, Decimal("32.50"), Decimal("80")), {"cash": "2 € manquants"})
    world.day.validate_docket(world.day.create_docket(102, DocketType.CHEQUE).id)
    november = world.day.statement(102, 2026, 11)
    assert [(m, c, t) for m, c, t in november.by_mode] == [
        ("especes", 1, Decimal("30")), ("cheque", 2, Decimal("32.50")), ("carte", 1, Decimal("80")),
        ("cesu", 1, Decimal("7"))]
    assert [d.number for d in november.dockets] == ["B-102-2026-0001"] and len(november.sessions) == 1
    rows = read_csv(docs.statement_csv(november))
    assert rows[0][:3] == ["Régie", "Mois", "Rubrique"]
    assert sum(fr_number(r[7]) for r in rows[1:] if r[2] == "Encaissements") == Decimal("149.50")
    assert any(r[2] == "Session arrêtée" and fr_number(r[7]) == Decimal("-2.00") and "2 € manquants" in r[8]
               for r in rows)
    text = pdf_text(docs.statement_pdf(november, city="Ville de Toulouse"))
    assert "novembre 2026" in text and "B-102-2026-0001" in text and "2 € manquants" in text

    # a payment of November cancelled in December: November's statement stays, December's shows it
    paid = world.day.status(november.sessions[0].session).payments[0]
    cancellations.append({"receipt": paid.receipt, "at": datetime(2026, 12, 2, 10, tzinfo=timezone.utc),
                          "paid_at": paid.created_at, "mode": paid.mode, "amount": f"{paid.amount:.2f}",
                          "reason": "saisie erronée"})
    assert world.day.statement(102, 2026, 11).cancellations == []
    december = world.day.statement(102, 2026, 12)
    assert [c["receipt"] for c in december.cancellations] == [paid.receipt]
    rows = read_csv(docs.statement_csv(december))
    assert [(r[2], r[4], fr_number(r[7])) for r in rows[1:]] == [("Annulation", paid.receipt, Decimal("-30.00"))]


def test_month_parsing():
    assert docs.month_of("2026-11") == (2026, 11) and docs.month_of("11/2026") == (2026, 11)
    with pytest.raises(ValueError):
        docs.month_of("2026-13")


def test_session_row_forbids_two_open_sessions_of_one_desk(world):
    world.day.open_session(Decimal("0"))
    import peewee

    with pytest.raises(peewee.IntegrityError):
        CashSession.create(desk="guichet-1", open_desk="guichet-1", operator="x", opened_at=world.clock(),
                           float_cents=0, state="open")
