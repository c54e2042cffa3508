"""zeep objects → domain objects, checking the contract on the way.

Only the fields the contract names are read; anything else zeep parsed is
ignored. A required field that is absent, nil or of the wrong type raises
MaelisProtocolError naming the field, never a crash and never a silent zero.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import Address, Child, Contact, Family, Invoice, InvoiceLine, Person, Regie, amount_problem
from .errors import MaelisProtocolError

PARIS = ZoneInfo("Europe/Paris")
_MISSING = object()


def _nil(obj: Any) -> bool:
    """zeep turns `<payer xsi:nil="true"/>` into an object whose fields are all None."""
    values = getattr(obj, "__values__", None)
    return values is not None and all(v is None or v == [] for v in values.values())


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    try:
        value = obj[name]
    except (KeyError, TypeError, AttributeError, IndexError):
        value = getattr(obj, name, None)
    return None if _nil(value) else value


def _bad(path: str) -> MaelisProtocolError:
    return MaelisProtocolError(
        f"Réponse de Maelis non conforme : le champ « {path} » est absent ou invalide."
    )


def req(obj: Any, name: str, kind: type, path: str) -> Any:
    value = _get(obj, name)
    value = _typed(value, kind, f"{path}.{name}")
    if value is None:
        raise _bad(f"{path}.{name}")
    return value


def opt(obj: Any, name: str, kind: type, path: str) -> Any:
    return _typed(_get(obj, name), kind, f"{path}.{name}")


def _typed(value: Any, kind: type, path: str) -> Any:
    if value is None:
        return None
    if kind is str:
        if not isinstance(value, str):
            raise _bad(path)
        return value.strip()
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(path)
        return value
    if kind is Decimal:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise _bad(path)
        return value
    if kind is datetime:
        if not isinstance(value, datetime):
            raise _bad(path)
        return aware(value)
    return value


def amount(obj: Any, name: str, path: str, *, required: bool = True, places: int = 2,
           signed: bool = False) -> Decimal | None:
    """A figure of the answer, refused as a protocol error unless a régie can hold it
    (see domain.amount_problem): before anything reaches the cache or a screen."""
    value = req(obj, name, Decimal, path) if required else opt(obj, name, Decimal, path)
    if value is None:
        return None
    problem = amount_problem(value, places=places, signed=signed)
    if problem:
        raise MaelisProtocolError(
            f"Réponse de Maelis non conforme : le montant « {path}.{name} » {problem} ; "
            "aucune régie ne peut tenir ce chiffre, il n'est ni affiché ni gardé.",
            detail=f"{path}.{name} = {value}",
        )
    return value


def aware(value: datetime) -> datetime:
    """A timezone-aware datetime with a plain fixed offset (Paris when none given)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=PARIS)
    return value.astimezone(timezone(value.utcoffset()))


def _list(obj: Any, name: str) -> list:
    value = _get(obj, name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def person(obj: Any, path: str) -> Person:
    if obj is None:
        raise _bad(path)
    birth = _get(obj, "birth")
    adresse = _get(obj, "adresse")
    contact = _get(obj, "contact")
    address = None
    if adresse is not None:
        address = Address(
            num=opt(adresse, "num", str, f"{path}.adresse"),
            street1=req(adresse, "street1", str, f"{path}.adresse"),
            zipcode=req(adresse, "zipcode", str, f"{path}.adresse"),
            town=req(adresse, "town", str, f"{path}.adresse"),
        )
    contact_obj = None
    if contact is not None:
        contact_obj = Contact(
            phone=opt(contact, "phone", str, f"{path}.contact"),
            mobile=opt(contact, "mobile", str, f"{path}.contact"),
            mail=opt(contact, "mail", str, f"{path}.contact"),
        )
    return Person(
        num=req(obj, "num", int, path),
        lastname=req(obj, "lastname", str, path),
        firstname=req(obj, "firstname", str, path),
        civility=opt(obj, "civility", str, path),
        birth=opt(birth, "dateBirth", datetime, f"{path}.birth") if birth is not None else None,
        address=address,
        contact=contact_obj,
    )


def child(obj: Any, path: str) -> Child:
    birth = _get(obj, "birth")
    return Child(
        num=req(obj, "num", int, path),
        lastname=req(obj, "lastname", str, path),
        firstname=req(obj, "firstname", str, path),
        sex=opt(obj, "sexe", str, path),
        birth=opt(birth, "dateBirth", datetime, f"{path}.birth") if birth is not None else None,
    )


def family(obj: Any, *, complete: bool) -> Family:
    path = "FamilyBean" if complete else "FamilySummaryBean"
    if obj is None:
        raise _bad(path)
    rl2 = _get(obj, "RL2")
    return Family(
        number=req(obj, "number", int, path),
        category=opt(obj, "category", str, path) if complete else None,
        situation=opt(obj, "situation", str, path) if complete else None,
        rl1=person(_get(obj, "RL1"), f"{path}.RL1"),
        rl2=person(rl2, f"{path}.RL2") if rl2 is not None else None,
        children=tuple(child(c, f"{path}.childList") for c in _list(obj, "childList")),
        complete=complete,
    )


def regie(obj: Any, path: str = "RegieBean") -> Regie:
    if obj is None:
        raise _bad(path)
    return Regie(code=req(obj, "code", int, path), label=req(obj, "libelle", str, path))


def line(obj: Any, path: str) -> InvoiceLine:
    return InvoiceLine(
        number=req(obj, "numLine", int, path),
        person_num=opt(obj, "numPers", int, path),
        person_name=opt(obj, "name", str, path),
        label=req(obj, "libelleLine", str, path),
        start=opt(obj, "dateStart", datetime, path),
        end=opt(obj, "dateEnd", datetime, path),
        # A line may be a reduction (negative), and tariffs may have more
        # decimals than cents; the invoice's own figures are what money is
        # taken on, and those are strict (below).
        quantity=amount(obj, "quantity", path, places=3, signed=True),
        unit_price=amount(obj, "unitPrice", path, places=4, signed=True),
        amount=amount(obj, "amountLine", path, signed=True),
    )


def invoice(obj: Any) -> Invoice:
    path = "InvoiceBean"
    if obj is None:
        raise _bad(path)
    payer = _get(obj, "payer")
    return Invoice(
        number=req(obj, "numInvoice", int, path),
        id=req(obj, "idInvoice", str, path),
        label=req(obj, "libelleTTF", str, path),
        regie=regie(_get(obj, "regie"), f"{path}.regie"),
        family=req(obj, "numFamily", int, path),
        payer_name=req(obj, "name", str, path),
        date=req(obj, "dateInvoice", datetime, path),
        deadline=req(obj, "dateDeadline", datetime, path),
        amount=amount(obj, "amountInvoice", path),
        paid=amount(obj, "amountPaid", path),
        paid_treasury=amount(obj, "amountPaidTG", path, required=False) or Decimal("0"),
        transmitted_at=opt(obj, "dateTransmissionPES", datetime, path),
        payer=person(payer, f"{path}.payer") if payer is not None else None,
        lines=tuple(line(x, f"{path}.lineInvoiceList") for x in _list(obj, "lineInvoiceList")),
    )


def as_list(result: Any) -> list:
    """A list operation's answer: zero or more `<return>`."""
    if result is None:
        return []
    return list(result) if isinstance(result, (list, tuple)) else [result]
