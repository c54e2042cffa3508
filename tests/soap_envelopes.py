"""Real SOAP envelopes shaped like shared/maelis-contract.md, for `responses`."""

from __future__ import annotations

from pathlib import Path

WSDL_DIR = Path(__file__).resolve().parent.parent / "maelis_desk" / "simulator" / "wsdl"
BASE = "https://maelis.test/maelisws-recette/services"
NS = "ws.maelis.sigec.com"


def wsdl(service: str) -> str:
    return (WSDL_DIR / f"{service}.wsdl").read_text(encoding="utf-8")


def envelope(operation: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soap:Body><ns2:{operation}Response xmlns:ns2="{NS}">{body}</ns2:{operation}Response>'
        "</soap:Body></soap:Envelope>"
    )


def fault(faultstring: str, code: str = "soap:Server") -> str:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{faultstring}</faultstring></soap:Fault>"
        "</soap:Body></soap:Envelope>"
    )


def regie(code: int = 102, label: str = "CANTINE / CLAE") -> str:
    return f"<code>{code}</code><libelle>{label}</libelle>"


def invoice(
    num: int = 8,
    *,
    amount: str = "28.98",
    paid: str = "0",
    paid_tg: str | None = "0",
    transmitted: str | None = None,
    extra: str = "",
    drop: tuple[str, ...] = (),
    replace: dict[str, str] | None = None,
) -> str:
    fields = {
        "numInvoice": str(num),
        "idInvoice": f"F1005559{num:04d}",
        "libelleTTF": "CLAE JANVIER 2023",
        "regie": regie(),
        "numFamily": "1312",
        "name": "SIMPSON MARGE",
        "dateInvoice": "2023-02-24T00:00:00+01:00",
        "dateDeadline": "2023-03-31T00:00:00+02:00",
        "amountInvoice": amount,
        "amountPaid": paid,
    }
    fields.update(replace or {})
    parts = [f"<{k}>{v}</{k}>" for k, v in fields.items() if k not in drop]
    if paid_tg is not None:
        parts.append(f"<amountPaidTG>{paid_tg}</amountPaidTG>")
    if transmitted == "nil":
        parts.append('<dateTransmissionPES xsi:nil="true"/>')
    elif transmitted:
        parts.append(f"<dateTransmissionPES>{transmitted}</dateTransmissionPES>")
    parts.append(extra)
    parts.append(
        "<lineInvoiceList><numLine>1</numLine><numPers>261483</numPers><name>SIMPSON BART</name>"
        "<libelleLine>Repas cantine</libelleLine><quantity>7</quantity><unitPrice>4.14</unitPrice>"
        "<amountLine>28.98</amountLine></lineInvoiceList>"
    )
    return "<return>" + "".join(parts) + "</return>"


def person(num: int = 261482, last: str = "SIMPSON", first: str = "Marge", extra: str = "") -> str:
    return f"<num>{num}</num><lastname>{last}</lastname><firstname>{first}</firstname>{extra}"


def family(number: int = 1312, *, rl2: str | None = None, children: int = 1, extra: str = "") -> str:
    kids = "".join(
        f"<childList>{person(300 + i, 'SIMPSON', name)}<sexe>M</sexe></childList>"
        for i, name in zip(range(children), ["Bart", "Lisa", "Maggie"])
    )
    rl2_xml = f"<RL2>{rl2}</RL2>" if rl2 else ""
    address = (
        "<civility>MME</civility><adresse><num>742</num><street1>Evergreen Terrace</street1>"
        "<zipcode>31000</zipcode><town>Toulouse</town></adresse>"
    )
    return (
        f"<return><number>{number}</number><category>BI</category>"
        f"<RL1>{person(extra=address)}</RL1>{rl2_xml}{kids}{extra}</return>"
    )
