"""French presentation of money and dates, shared by the CLI and the UI.

Amounts read `1 234,56 €` (no-break spaces), dates `24/02/2023`, in the
desk's time zone (Europe/Paris unless `MAELIS_DESK_TZ` says otherwise).
Parsing accepts what a tired cashier types (`12,5`, `12.50`, `1 234,56 €`)
and refuses everything else with a French message.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
DESK_TZ = ZoneInfo(os.environ.get("MAELIS_DESK_TZ", "Europe/Paris"))


def euros(amount: Decimal | None, *, sign: bool = False) -> str:
    if amount is None:
        return ""
    value = Decimal(amount).quantize(Decimal("0.01"))
    negative = value < 0
    units, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    text = f"{NBSP.join(groups)},{cents}{NBSP}€"
    if negative:
        return "−" + text
    return ("+" + text) if sign and value > 0 else text


def local(value: datetime) -> datetime:
    return value.astimezone(DESK_TZ)


def fr_date(value: datetime | None) -> str:
    return "" if value is None else f"{local(value):%d/%m/%Y}"


def fr_datetime(value: datetime | None) -> str:
    return "" if value is None else f"{local(value):%d/%m/%Y %H:%M}"


def age_fr(value: datetime | None, now: datetime) -> str:
    """`il y a 5 min`, `il y a 3 h`, `le 24/02/2023`: how old shown data is."""
    if value is None:
        return "jamais lu"
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "à l'instant"
    if seconds < 3600:
        return f"il y a {int(seconds // 60)} min"
    if seconds < 86400:
        return f"il y a {int(seconds // 3600)} h"
    return f"le {fr_datetime(value)}"


class AmountError(ValueError):
    """A typed amount the desk cannot take; the message is for the cashier."""


_AMOUNT = re.compile(r"^\d{1,9}(?:[.,]\d{1,2})?$")


def parse_amount(text: str) -> Decimal:
    """`12,50` → Decimal('12.50'). Spaces and a trailing € are allowed; nothing else."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text or "").removesuffix("€").removesuffix("EUR")
    if not cleaned:
        raise AmountError("Saisissez un montant.")
    if cleaned.startswith("-"):
        raise AmountError("Le montant doit être positif.")
    if not _AMOUNT.match(cleaned):
        if re.match(r"^\d+[.,]\d{3,}$", cleaned):
            raise AmountError("Au plus deux chiffres après la virgule.")
        raise AmountError(f"Montant invalide : « {text.strip()} » (exemple : 12,50).")
    try:
        return Decimal(cleaned.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern already checked
        raise AmountError(f"Montant invalide : « {text.strip()} ».") from None
