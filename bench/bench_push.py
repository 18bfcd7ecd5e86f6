"""Benchmark: what the client's push receiver costs per delivery, per carrier.

For each carrier's sample push (tests/push_bodies.py) it times ``verify_and_parse`` (check the
signature or credential, read the body into the tracking model, replay check) against the
baseline of only parsing the same bytes as JSON, in the same process and the same rounds, so
the ratio holds on a shared machine. Prints microseconds of CPU per delivery (least over the
rounds) and the ratio to the baseline; also the receiver's deliveries per second on one core.

    python bench/bench_push.py [--rounds 5] [--deliveries 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from client.push import (
    DhlPushAuth,
    FedexPushAuth,
    ReplayGuard,
    UpsPushAuth,
    UspsPushAuth,
    verify_and_parse,
)
from tests import push_bodies as pb

Secret = UpsPushAuth | FedexPushAuth | UspsPushAuth | DhlPushAuth


def _samples() -> dict[str, tuple[dict[str, str], bytes, Secret]]:
    ups = pb.encode(pb.ups_pushes(pb.UPS_V1)["7"])
    fedex = pb.encode(pb.fedex_push())
    notification = pb.usps_spec_examples()["scanEvent"]
    dhl = pb.encode(pb.dhl_push())
    return {
        "ups": (pb.ups_v1_headers(pb.UPS_CREDENTIAL), ups, UpsPushAuth(pb.UPS_CREDENTIAL)),
        "fedex": (
            pb.fedex_headers(fedex, pb.FEDEX_SECURITY_TOKEN),
            fedex,
            FedexPushAuth(pb.FEDEX_SECURITY_TOKEN),
        ),
        "usps": (
            pb.usps_headers(notification),
            pb.encode(notification),
            UspsPushAuth(pb.USPS_SECRET),
        ),
        "dhl": (
            pb.dhl_headers(pb.DHL_HEADER, pb.DHL_TOKEN),
            dhl,
            DhlPushAuth(pb.DHL_HEADER, pb.DHL_TOKEN),
        ),
    }


def _cpu_per_call(func: Callable[[], object], count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        func()
    return (time.process_time() - start) / count * 1e6


def _receiver(
    carrier: str, headers: dict[str, str], body: bytes, secret: Secret
) -> Callable[[], None]:
    # A guard of its own without the time window: each call sees the body anew (forgotten
    # after), and a window would only measure the refusal of the sample's old timestamp.
    guard = ReplayGuard(window=None)

    def receive() -> None:
        delivery = verify_and_parse(carrier, headers, body, secret, replay=guard)
        guard.forget(delivery.delivery_id)

    return receive


def main() -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'carrier':8} {'bytes':>6} {'json µs':>9} {'receive µs':>11} {'ratio':>7} {'/s':>8}")
    for carrier, (headers, body, secret) in _samples().items():
        baseline, receiving = [], []
        for _ in range(args.rounds):
            baseline.append(_cpu_per_call(lambda b=body: json.loads(b), args.deliveries))
            receive = _receiver(carrier, headers, body, secret)
            receiving.append(_cpu_per_call(receive, args.deliveries))
        base, cost = min(baseline), min(receiving)
        print(
            f"{carrier:8} {len(body):6d} {base:9.1f} {cost:11.1f} {cost / base:7.1f} "
            f"{1e6 / cost:8.0f}"
        )


if __name__ == "__main__":
    main()
