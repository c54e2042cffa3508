"""Receipt numbers under concurrency (issue 10 point 2): several desk processes recording
payments at once in one database — a SQLite file, then PostgreSQL — get one gap-free,
duplicate-free sequence per régie and year."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maelis_desk.store import open_database
from maelis_desk.store.database import db
from maelis_desk.store.models import ReceiptCounter
from maelis_desk.store.payments import Payments

ROOT = Path(__file__).resolve().parents[2]

# One desk: records `count` payments as fast as it can, alternating two régies and two
# years, and prints the receipt numbers it got.
DESK = r"""
import json, sys
from datetime import datetime, timezone
from decimal import Decimal
from maelis_desk.store import open_database
from maelis_desk.store.payments import Payments

spec, code, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
open_database(spec, desk_code=code)
payments, got = Payments(), []
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()  # every desk starts at once

def build(expected):
    return {"regie_label": "CANTINE", "payer_name": "SIMPSON MARGE", "details": {},
            "invoices": [{"number": 8, "id": "F8", "label": "CLAE", "share": "1.00", "expected_paid": "1.00"}]}

for i in range(count):
    regie, year = (102, 101)[i % 2], (2026, 2027)[(i // 2) % 2]
    rec = payments.record(regie=regie, family=1000 + i, amount=Decimal("1.00"), mode="especes", operator="Anne",
                          desk=f"poste-{code}", desk_code=code, created_at=datetime.now(timezone.utc), year=year,
                          desk_id=f"{code}:test", build=build)
    got.append([rec.regie, year, rec.receipt, code])
print(json.dumps(got))
"""


def seq_of(receipt: str) -> int:
    return int(receipt.rsplit("-", 1)[1])


@pytest.mark.parametrize("desks", [2, 4])
def test_receipt_numbers_stay_gap_free_and_unique_with_desks_recording_at_once(database_spec, desks):
    open_database(database_spec).close()  # migrated once, before the desks start
    per_desk = 30
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", DESK, database_spec, f"D{n}", str(per_desk)], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(desks)]
    for p in procs:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * desks, [err for _, err in outputs]
    got = [tuple(row) for out, _ in outputs for row in json.loads(out)]
    assert len(got) == desks * per_desk

    by_counter = collections.defaultdict(list)
    takers = collections.defaultdict(dict)
    for regie, year, receipt, code in got:
        by_counter[(regie, year)].append(seq_of(receipt))
        takers[(regie, year)][seq_of(receipt)] = code
    receipts = [receipt for _, _, receipt, _ in got]
    # the desks did record at once: in a counter's sequence, the desk changes many times
    switches = sum(sum(1 for a, b in zip(order, order[1:]) if a != b)
                   for order in ([t[n] for n in sorted(t)] for t in takers.values()))
    duplicates = len(receipts) - len(set(receipts))
    gaps = sum(max(seqs) - len(set(seqs)) for seqs in by_counter.values())
    print(f"\n{len(got)} payments by {desks} desk processes on "
          f"{'PostgreSQL' if '://' in database_spec else 'SQLite'}: duplicates {duplicates}, gaps {gaps}, "
          f"desk switches within a sequence {switches}, counters { {k: len(v) for k, v in sorted(by_counter.items())} }")
    assert duplicates == 0 and gaps == 0
    assert switches >= 1, "the desks did not overlap: nothing was tested"
    for (regie, year), seqs in by_counter.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (regie, year)
    # what the database holds agrees: each counter's last number, each payment once
    open_database(database_spec)
    try:
        stored = collections.Counter((p.regie, int(p.receipt.split("-")[1])) for p in Payments().list())
        assert stored == {k: len(v) for k, v in by_counter.items()}
        assert {(c.regie, c.year): c.last for c in ReceiptCounter.select()} == {k: len(v) for k, v in by_counter.items()}
    finally:
        db.close()
