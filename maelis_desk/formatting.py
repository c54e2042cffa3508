"""French presentation of money and dates, shared by the CLI and the UI.

Amounts read `1 234,56 €` (no-break spaces), dates `24/02/2023`, in the
desk's time zone: `Settings.timezone` (Europe/Paris unless configured), which
opening the desk installs here with `use_time_zone`.
Parsing accepts what a tired cashier types (`12,5`, `12.50`, `1 234,56 €`)
and refuses everything else with a French message.
"""

from __future__ import annotations

import errno
import html
import re
from datetime import datetime
from decimal import Context, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
_desk_tz = ZoneInfo("Europe/Paris")


def use_time_zone(tz: ZoneInfo) -> None:
    """Show dates in `tz` from now on (the desk's settings, when it opens)."""
    global _desk_tz
    _desk_tz = tz


def desk_tz() -> ZoneInfo:
    """The time zone the desk shows dates in."""
    return _desk_tz


def euros(amount: Decimal | None, *, sign: bool = False) -> str:
    if amount is None:
        return ""
    value = Decimal(amount)
    # enough precision for any finite figure: formatting must never crash
    value = value.quantize(Decimal("0.01"), context=Context(prec=max(28, value.adjusted() + 4)))
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
    return value.astimezone(_desk_tz)


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


_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
          "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"]
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix
        base = "soixante" if tens == 7 else "quatre-vingt"
        return f"{base}-et-onze" if n == 71 else f"{base}-{_UNITS[10 + unit]}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_UNITS[unit]}"
    if unit == 0:
        return _TENS[tens]
    return f"{_TENS[tens]}-et-un" if unit == 1 else f"{_TENS[tens]}-{_UNITS[unit]}"


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100(rest)
    head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]}-cent{'s' if rest == 0 else ''}"
    return head if rest == 0 else f"{head}-{_below_100(rest)}"


def number_in_words(n: int) -> str:
    """French numbers in words, 1990 spelling (hyphens everywhere): 1234 → mille-deux-cent-trente-quatre."""
    if n < 1000:
        return _below_1000(n)
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = "mille" if thousands == 1 else f"{_below_1000(thousands).removesuffix('s')}-mille"
        return head if rest == 0 else f"{head}-{_below_1000(rest)}"
    millions, rest = divmod(n, 1_000_000)
    head = f"{number_in_words(millions)}-million{'s' if millions > 1 else ''}"
    return head if rest == 0 else f"{head}-{number_in_words(rest)}"


def euros_in_words(amount: Decimal) -> str:
    """The sum written in full, as on a receipt: « mille-deux-cent-trente-quatre euros et cinquante-six centimes »."""
    value = Decimal(amount).quantize(Decimal("0.01"))
    units, cents = int(value), int((value - int(value)) * 100)
    parts = []
    if units or not cents:
        of = "d'" if units and units % 1_000_000 == 0 else ""  # un million d'euros
        parts.append(f"{number_in_words(units)} {of}euro{'s' if units > 1 else ''}")
    if cents:
        parts.append(f"{number_in_words(cents)} centime{'s' if cents > 1 else ''}")
    return " et ".join(parts)


def html_text(text: str) -> str:
    """Text put inside the rich text of a Qt label (names, labels, errors): escaped."""
    return html.escape(text, quote=False)


def os_error_fr(exc: OSError) -> str:
    """An OSError's cause in French (the system's own text is English)."""
    reasons = {
        errno.ENOENT: "le dossier n'existe pas",
        errno.EACCES: "permission refusée",
        errno.EPERM: "permission refusée",
        errno.ENOSPC: "le disque est plein",
        errno.EROFS: "le support est en lecture seule",
        errno.EISDIR: "c'est un dossier",
        errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
        errno.EDQUOT: "le quota du disque est atteint",
        errno.EIO: "erreur d'entrée-sortie du disque",
        errno.EPIPE: "la sortie a été fermée",
        errno.EEXIST: "il existe déjà",
    }
    return reasons.get(exc.errno, f"erreur du système ({exc.strerror or exc})")


def duration_fr(seconds: float) -> str:
    """12 s, 4 min 05 s, 1 h 07 min."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def count_fr(n: int) -> str:
    """1\u202f234: a count, its thousands apart with a narrow space."""
    return f"{n:,}".replace(",", "\u202f")
