"""Qt item models of the desk: invoices of a régie, lines of an invoice,
families found by a search.

Models only hold domain objects handed to them in the GUI thread; they never
call the services. Every change is a whole reset (beginResetModel /
endResetModel): lists are small and arrive whole. Sorting goes through a
QSortFilterProxyModel on SORT_ROLE, which gives numbers for amounts (cents)
and dates (timestamps) so that 1 234,56 € sorts after 99,00 € and 01/03 after
28/02.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from ..domain import Family, Invoice, InvoiceLine, InvoiceStatus, to_cents
from ..formatting import desk_tz, euros, fr_date
from .theme import Colours

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
OBJECT_ROLE = Qt.ItemDataRole.UserRole + 2  # the domain object of the row

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter

RED = QColor(Colours.ERROR)
AMBER = QColor(Colours.TRANSMITTED)
BLUE = QColor(Colours.PENDING)
GREY = QColor(Colours.MUTED)

_STATUS_ORDER = {
    InvoiceStatus.TO_PAY: 0,
    InvoiceStatus.PENDING: 1,
    InvoiceStatus.TRANSMITTED: 2,
    InvoiceStatus.PAID: 3,
}

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the invisible root: default parent of rowCount/columnCount


def today() -> date:
    return datetime.now(desk_tz()).date()


def cents(amount: Decimal) -> int:
    """A sort key for a sum of money (domain.to_cents)."""
    return to_cents(amount)


def stamp(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0


def fr_number(value: Decimal) -> str:
    """7.00 → "7", 1.50 → "1,5": a quantity as a French reader writes it."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def period_fr(start: datetime | None, end: datetime | None) -> str:
    if start and end:
        a, b = fr_date(start), fr_date(end)
        return a if a == b else f"{a} – {b}"
    return fr_date(start or end)


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


def _italic() -> QFont:
    font = QFont()
    font.setItalic(True)
    return font


class RowsTableModel(QAbstractTableModel):
    """A read-only table of domain objects, one per row, replaced whole.

    Subclasses give HEADERS (and HEADER_TIPS, NUMERIC) and `data()`."""

    HEADERS: tuple[str, ...] = ()
    HEADER_TIPS: tuple[str, ...] | None = None
    NUMERIC: tuple[int, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_object(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and self.HEADER_TIPS:
            return self.HEADER_TIPS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if section in self.NUMERIC else LEFT
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def _cell(self, index: _Index):
        """The row's object for a valid index, else None."""
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self._rows[index.row()]


class InvoiceTableModel(RowsTableModel):
    """The invoices of one régie ("À payer" or "Historique")."""

    NUMBER, LABEL, DATE, DEADLINE, AMOUNT, PAID, REMAINING, STATUS = range(8)
    HEADERS = ("N°", "Libellé", "Date", "Échéance", "Montant", "Payé", "Reste à payer", "Statut")
    HEADER_TIPS = (
        "Numéro de la facture, tel qu'imprimé",
        "Libellé de la facture",
        "Date de la facture",
        "Date limite de paiement",
        "Montant de la facture",
        "Déjà payé : en régie (y compris les paiements du poste en attente de transmission) et au Trésor public",
        "Ce qui reste à payer",
        "Où en est la facture",
    )
    NUMERIC = (AMOUNT, PAID, REMAINING)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._today = today()

    # -- content ------------------------------------------------------------------

    def set_invoices(self, invoices: list[Invoice], today_: date | None = None) -> None:
        self._today = today_ or today()
        self.set_rows(invoices)

    def clear(self) -> None:
        self.set_invoices([])

    def invoice(self, row: int) -> Invoice | None:
        return self.row_object(row)

    @property
    def invoices(self) -> list[Invoice]:
        return list(self._rows)

    # -- Qt -------------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        inv = self._cell(index)
        if inv is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(inv, col)
        if role == SORT_ROLE:
            return self._sort_key(inv, col)
        if role == OBJECT_ROLE:
            return inv
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if col in self.NUMERIC else LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(inv, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(inv, col)
        if role == Qt.ItemDataRole.FontRole:
            if col == self.DEADLINE and inv.is_overdue(self._today):
                return _bold()
            if col == self.REMAINING and inv.to_pay_at_regie:
                return _bold()
            if col == self.STATUS and inv.status == InvoiceStatus.TRANSMITTED:
                return _italic()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self._display(inv, col)
            tip = self._tooltip(inv, col)
            return f"{text} ({tip})" if tip else text
        return None

    # -- cells -----------------------------------------------------------------------

    def _display(self, inv: Invoice, col: int) -> str:
        if col == self.NUMBER:
            return inv.id
        if col == self.LABEL:
            return inv.label
        if col == self.DATE:
            return fr_date(inv.date)
        if col == self.DEADLINE:
            return fr_date(inv.deadline)
        if col == self.AMOUNT:
            return euros(inv.amount)
        if col == self.PAID:
            return euros(inv.paid_everywhere)
        if col == self.REMAINING:
            return euros(inv.remaining)
        if col == self.STATUS:
            if inv.status == InvoiceStatus.TO_PAY and inv.is_overdue(self._today):
                return "À payer (en retard)"
            return inv.status.label_fr
        return ""

    def _sort_key(self, inv: Invoice, col: int):
        if col == self.NUMBER:
            return inv.number
        if col == self.LABEL:
            return inv.label.casefold()
        if col == self.DATE:
            return stamp(inv.date)
        if col == self.DEADLINE:
            return stamp(inv.deadline)
        if col == self.AMOUNT:
            return cents(inv.amount)
        if col == self.PAID:
            return cents(inv.paid_everywhere)
        if col == self.REMAINING:
            return cents(inv.remaining)
        if col == self.STATUS:
            return _STATUS_ORDER.get(inv.status, 9)
        return None

    def _tooltip(self, inv: Invoice, col: int) -> str | None:
        if inv.is_transmitted and inv.remaining > 0:
            return inv.refusal_reason
        if col == self.DEADLINE and inv.is_overdue(self._today):
            return "Échéance dépassée"
        if inv.status == InvoiceStatus.PENDING and col in (self.PAID, self.STATUS, self.REMAINING):
            return (
                f"{euros(inv.pending_paid)} payés à ce poste, transmission à Maelis en attente "
                f"(Maelis indique {euros(inv.paid)} payés)."
            )
        if col == self.NUMBER:
            return f"Facture {inv.id} (n° {inv.number} dans la régie {inv.regie.label})"
        if col == self.PAID and inv.paid_treasury > 0:
            return (f"{euros(inv.paid_total)} payés en régie, "
                    f"{euros(inv.paid_treasury)} payés au Trésor public")
        return None

    def _colour(self, inv: Invoice, col: int) -> QColor | None:
        if col == self.DEADLINE and inv.is_overdue(self._today):
            return RED
        if col == self.STATUS:
            status = inv.status
            if status == InvoiceStatus.TRANSMITTED:
                return AMBER
            if status == InvoiceStatus.PENDING:
                return BLUE
            if status == InvoiceStatus.TO_PAY and inv.is_overdue(self._today):
                return RED
            if status == InvoiceStatus.PAID:
                return GREY
        return None


class InvoiceLinesModel(RowsTableModel):
    """The lines of one invoice."""

    PERSON, LABEL, PERIOD, QUANTITY, UNIT_PRICE, AMOUNT = range(6)
    HEADERS = ("Personne", "Libellé", "Période", "Quantité", "Prix unitaire", "Montant")
    NUMERIC = (QUANTITY, UNIT_PRICE, AMOUNT)

    def set_lines(self, lines) -> None:
        self.set_rows(lines)

    def line(self, row: int) -> InvoiceLine | None:
        return self.row_object(row)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        line = self._cell(index)
        if line is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if col == self.PERSON:
                return line.person_name or ""
            if col == self.LABEL:
                return line.label
            if col == self.PERIOD:
                return period_fr(line.start, line.end)
            if col == self.QUANTITY:
                return fr_number(line.quantity)
            if col == self.UNIT_PRICE:
                return euros(line.unit_price)
            if col == self.AMOUNT:
                return euros(line.amount)
            return ""
        if role == SORT_ROLE:
            return (
                (line.person_name or "").casefold(),
                line.label.casefold(),
                stamp(line.start),
                float(line.quantity),  # sorting only: never shown nor summed
                int(line.unit_price * 10_000),  # tariffs may have 4 decimals
                cents(line.amount),
            )[col]
        if role == OBJECT_ROLE:
            return line
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if col in self.NUMERIC else LEFT
        return None


class FamilyListModel(QAbstractListModel):
    """Families found by a search: number, guardians, children."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._families: list[Family] = []

    def set_families(self, families: list[Family]) -> None:
        self.beginResetModel()
        self._families = list(families)
        self.endResetModel()

    def family(self, row: int) -> Family | None:
        return self._families[row] if 0 <= row < len(self._families) else None

    @property
    def families(self) -> list[Family]:
        return list(self._families)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._families)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._families):
            return None
        family = self._families[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            children = family.children_names or "aucun enfant"
            return f"N° {family.number} — {family.guardian_names}\nEnfants : {children}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            lines = [f"Famille n° {family.number}"]
            lines += [f"Responsable : {p.full_name}" for p in family.guardians]
            lines += [f"Enfant : {c.full_name}" for c in family.children]
            return "\n".join(lines)
        if role == OBJECT_ROLE:
            return family
        if role == SORT_ROLE:
            return family.number
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
