"""The payment modes and their fields: one table, read by the rules, the dialog and the CLI.

Each mode has its French label and its own fields (the cheque's number, bank and
drawer, the card's authorisation...); each field says how the cashier is asked for
it (the dialog's label with its mnemonic, a hint; the CLI's option and help), whether
it is required, and how it is checked and cleaned. `check_details` applies the
table: the rules are written here once, and ui/payment_dialog.py builds its
per-mode form from `MODES` as cli.py builds the `pay` options.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..formatting import AmountError, euros, parse_amount
from .errors import PaymentRefused

#: the legal cap on a cash payment of public revenue, per payment
CASH_LIMIT = Decimal("300.00")


class Mode(str, enum.Enum):
    ESPECES = "especes"
    CHEQUE = "cheque"
    CARTE = "carte"
    VIREMENT = "virement"
    CESU = "cesu"
    ANCV = "ancv"

    @property
    def label_fr(self) -> str:
        return MODES[self].label

    @property
    def spec(self) -> ModeSpec:
        return MODES[self]


class Kind(enum.Enum):
    TEXT = "text"  # a reference, kept as typed (stripped), cut at `max_length`
    TENDERED = "tendered"  # a sum handed over (French decimals), at least the amount; the change follows


@dataclass(frozen=True)
class ModeField:
    """One detail of a mode, as recorded in the payment's details under `key`."""

    key: str
    label: str  # the dialog's label, with its mnemonic (&)
    help: str  # the CLI option's help
    metavar: str = "REF"
    hint: str = ""  # the dialog's placeholder
    kind: Kind = Kind.TEXT
    missing: str | None = None  # required: the French message when it is left empty
    squeeze: bool = False  # white space removed (a cheque number typed in groups)
    pattern: str | None = None  # what a value must look like...
    invalid: str = ""  # ...and the French message when it does not
    max_length: int = 64
    printed: str = ""  # its name on a receipt or a docket (« N° de chèque »); "" : the label's words

    @property
    def print_label(self) -> str:
        return self.printed or self.label.replace("&", "").rstrip(" :")

    @property
    def required(self) -> bool:
        return self.missing is not None

    @property
    def option(self) -> str:
        """The CLI option: --cheque-number for cheque_number."""
        return "--" + self.key.replace("_", "-")

    def clean(self, value: Any, amount: Decimal) -> dict[str, str]:
        """The recorded details for this field's value; PaymentRefused (on this field) if it is wrong."""
        if self.kind is Kind.TENDERED:
            return self._tendered(value, amount)
        text = str(value).strip() if value is not None else ""
        if self.squeeze:
            text = re.sub(r"\s", "", text)
        if not text:
            if self.missing:
                raise PaymentRefused(self.missing, self.key)
            return {}
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise PaymentRefused(self.invalid, self.key)
        return {self.key: text[: self.max_length]}

    def typed(self, text: str) -> Any:
        """The value as the cashier typed it: a sum handed over is read in French decimals."""
        if self.kind is not Kind.TENDERED or isinstance(text, Decimal):
            return text
        try:
            return parse_amount(str(text))
        except AmountError as exc:
            raise PaymentRefused(f"Somme remise : {exc}", self.key) from None

    def _tendered(self, given: Any, amount: Decimal) -> dict[str, str]:
        if given in (None, ""):
            if self.missing:
                raise PaymentRefused(self.missing, self.key)
            return {}
        given = self.typed(given)
        if given < amount:
            raise PaymentRefused(
                f"La somme remise ({euros(given)}) est inférieure au montant ({euros(amount)}).", self.key
            )
        return {self.key: f"{given:.2f}", "change": f"{given - amount:.2f}"}


@dataclass(frozen=True)
class ModeSpec:
    """A payment mode: its French label, its fields, and its cap per payment if it has one."""

    mode: Mode
    label: str
    fields: tuple[ModeField, ...] = ()
    limit: Decimal | None = None
    over_limit: str = ""  # the French message beyond `limit`

    @property
    def gives_change(self) -> bool:
        return any(f.kind is Kind.TENDERED for f in self.fields)

    def check(self, amount: Decimal, details: dict[str, Any]) -> dict[str, str]:
        """The mode's own rules, field by field in the table's order; returns the cleaned details."""
        if self.limit is not None and amount > self.limit:
            raise PaymentRefused(self.over_limit, "amount")
        clean: dict[str, str] = {}
        for f in self.fields:
            clean.update(f.clean(details.get(f.key), amount))
        return clean


_VOUCHERS = "n° des titres CESU ou des chèques vacances"

MODES: dict[Mode, ModeSpec] = {spec.mode: spec for spec in (
    ModeSpec(Mode.ESPECES, "Espèces", (
        ModeField("cash_given", "Somme &remise (€) :", "somme remise en espèces (calcule la monnaie)",
                  metavar="MONTANT", hint="ex. 50 — pour calculer la monnaie", kind=Kind.TENDERED,
                  printed="Somme remise"),
    ), limit=CASH_LIMIT, over_limit=(
        f"Paiement en espèces refusé au-delà de {euros(CASH_LIMIT)} par paiement "
        "(plafond légal des recettes publiques) : proposez un autre moyen de paiement.")),
    ModeSpec(Mode.CHEQUE, "Chèque", (
        ModeField("cheque_number", "N° du &chèque (obligatoire) :", "n° du chèque (obligatoire par chèque)",
                  metavar="NUMERO", hint="ex. 1234567", missing="Le numéro du chèque est obligatoire.",
                  squeeze=True, pattern=r"[0-9A-Za-z]{1,20}",
                  invalid="Numéro de chèque invalide (chiffres et lettres seulement).", printed="N° de chèque"),
        ModeField("bank", "&Banque :", "banque du chèque", metavar="BANQUE", max_length=100),
        ModeField("drawer", "&Tireur, s'il n'est pas le payeur :", "tireur du chèque s'il n'est pas le payeur",
                  metavar="TIREUR", max_length=100, printed="Tireur"),
    )),
    ModeSpec(Mode.CARTE, "Carte bancaire", (
        ModeField("card_reference", "N° d'&autorisation ou de ticket :", "n° d'autorisation ou de ticket carte",
                  missing="Saisissez le numéro d'autorisation ou la référence du ticket carte.",
                  printed="Autorisation / ticket"),
    )),
    ModeSpec(Mode.VIREMENT, "Virement", (
        ModeField("transfer_reference", "&Référence du virement :", "référence du virement",
                  missing="Saisissez la référence du virement."),
    )),
    ModeSpec(Mode.CESU, "CESU", (
        ModeField("reference", "N° des &titres CESU :", _VOUCHERS, hint="facultatif"),
    )),
    ModeSpec(Mode.ANCV, "Chèques vacances (ANCV)", (
        ModeField("reference", "N° des &chèques vacances :", _VOUCHERS, hint="facultatif"),
    )),
)}

MODE_LABELS: dict[Mode, str] = {mode: spec.label for mode, spec in MODES.items()}

#: details the desk writes itself, no one types them: the change handed back (Kind.TENDERED)
COMPUTED_DETAILS = {"change": "Monnaie rendue"}


def printed_details(mode: str, details: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """A payment's details as a receipt prints them: (name, value, is a sum of money), in the
    table's order, then what the desk computed; a key no mode has any more, under its own name."""
    spec = MODES.get(Mode(mode)) if mode in Mode._value2member_map_ else None
    fields = {f.key: f for f in (spec.fields if spec else ())}
    rows = []
    for key in [*fields, *COMPUTED_DETAILS, *details]:
        if key not in details or any(r[0] == key for r in rows):
            continue
        field = fields.get(key)
        name = field.print_label if field else COMPUTED_DETAILS.get(key, key)
        money = (field is not None and field.kind is Kind.TENDERED) or key in COMPUTED_DETAILS
        rows.append((key, name, money))
    return [(name, details[key], money) for key, name, money in rows]


def mode_label(value: str) -> str:
    """A stored mode's French label; a value no mode has any more, as it was stored."""
    return MODE_LABELS[Mode(value)] if value in Mode._value2member_map_ else value


def check_details(mode: Mode, amount: Decimal, details: dict[str, Any]) -> dict[str, Any]:
    """The mode's own rules (its table entry); returns the cleaned details to record."""
    return MODES[mode].check(amount, details)


def detail_options() -> dict[str, tuple[ModeField, list[Mode]]]:
    """The CLI's options for the modes' fields: one per detail key, with the modes that use it."""
    options: dict[str, tuple[ModeField, list[Mode]]] = {}
    for spec in MODES.values():
        for f in spec.fields:
            options.setdefault(f.key, (f, []))[1].append(spec.mode)
    return options
