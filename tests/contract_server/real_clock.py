"""The real-clock check of issue 8, by hand (not part of the suite: it takes minutes).

    .venv/bin/python tests/contract_server/real_clock.py [--apply-after 75] [--answer late|never]
                                                         [--minutes 4] [--every 15]

The contract server applies a payInvoices `--apply-after` seconds after receiving
it, its HTTP answer coming right after (late) or never. The desk runs with its
default settings (timeout 5 s; settle, horizon, lease and backoff derived from it:
maelis_desk/config.py) in a fresh desk folder: `pay --no-transmit`, then
`transmit` every `--every` seconds. Printed: each pass, the payment's state, what
the server received and applied (its ledger, by refTransaction).

Seen (2026-12-06, defaults: timeout 5 s, settle 60 s, horizon 3600 s, lease 30 s;
`transmit` every 15 s for 4.5 min), both answers alike: the send timed out after 5 s
(« réponse perdue », uncertain); passes at 15-60 s did nothing (settle not reached);
Maelis applied it at 75.0 s; the reconciliation read at ~76 s found it (answer never:
« matched » at 76.8 s) or just missed it (answer late: « pas encore visible … 1 min 15 s »,
read again at 2 × settle, « matched » at 136 s). payInvoices received once, applied once
(ledger: 10.00 on 3001); the state « Constaté dans Maelis sans accusé : à vérifier »,
listed for a supervisor, never « Confirmé par Maelis »; 8 more passes changed nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

from contract_server import PASSWORD, USER, ContractServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apply-after", type=float, default=75.0)
    parser.add_argument("--answer", choices=["late", "never"], default="late")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--every", type=float, default=15.0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="real-clock-"))
    with ContractServer() as maelis:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_")}
        env.update({"MAELIS_DESK_URL": maelis.url, "MAELIS_DESK_USER": USER, "MAELIS_DESK_PASSWORD": PASSWORD,
                    "MAELIS_DESK_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
        t0 = time.monotonic()

        def desk(*a: str) -> subprocess.CompletedProcess:
            r = subprocess.run([sys.executable, "-m", "maelis_desk", *a], capture_output=True, text=True, env=env,
                               cwd=ROOT, stdin=subprocess.DEVNULL, timeout=120)
            if "Traceback" in r.stderr or r.returncode != 0:
                print(f"!! {' '.join(a)} -> {r.returncode}\n{r.stderr}")
            return r

        def say(text: str) -> None:
            print(f"[{time.monotonic() - t0:6.1f} s] {text}", flush=True)

        desk("session", "open", "--float", "0")
        paid = json.loads(desk("pay", "5100", "--regie", "105", "--invoice", "3001", "--amount", "10,00", "--mode",
                               "carte", "--card-reference", "A1", "--no-transmit", "--json").stdout)
        receipt, ref = paid["receipt"], paid["reference"]
        say(f"recorded {receipt} ({ref}), {paid['state']}; server: apply after {args.apply_after:g} s, "
            f"answer {args.answer}")
        maelis.pay_behaviour(apply_after=args.apply_after, answer=args.answer)
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.minutes * 60:
            started = time.monotonic()
            out = desk("transmit").stdout.strip().splitlines()
            history = json.loads(desk("history", receipt, "--json").stdout)
            calls = maelis.calls("payInvoices")
            applied = maelis.applied(ref)
            when = f", applied at {applied[0].applied_at - applied[0].received_at:.1f} s after receipt" if applied else ""
            say(f"transmit ({time.monotonic() - started:.1f} s): {out[0] if out else ''} | state {history['state']}"
                f" ({history['confirmation']}) | server: payInvoices received {len(calls)}, applied {len(applied)}"
                f"{when}")
            time.sleep(max(0.0, args.every - (time.monotonic() - started)))
        print(desk("history", receipt).stdout)
        print(desk("outbox").stdout)
        print(f"ledger: {[(a.ref, str(a.amount), a.allocations) for a in maelis.applied()]}")
        print(f"server errors: {maelis.errors or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
