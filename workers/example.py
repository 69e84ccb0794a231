"""An example worker: charges cards for the `charge-card` topic (the Camunda 7 payment fixture in
tests/modellers/fixtures). A card number ending in 0000 is declined (BPMN error CARD_DECLINED); an amount that
is not a number fails the task (retried with back-off, then an incident).

    python -m workers.example --url http://127.0.0.1:5000 --user worker --password secret
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from workers.client import BpmnError, ExternalTask, ExternalTaskClient, Worker


def charge_card(task: ExternalTask) -> dict[str, Any]:
    card = str(task.variables.get("card_number", ""))
    amount = float(task.variables.get("amount", 0))  # a ValueError here is a failure, retried
    if card.endswith("0000"):
        raise BpmnError("CARD_DECLINED", f"card ending {card[-4:]} declined", {"declined": True})
    return {"charged": True, "charged_amount": amount, "receipt": f"R-{task.business_key}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--worker-id", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    client = ExternalTaskClient(args.url, username=args.user, password=args.password, worker_id=args.worker_id)
    worker = Worker(client, lock_duration_ms=30_000)
    worker.subscribe("charge-card", charge_card)
    worker.run()


if __name__ == "__main__":
    main()
