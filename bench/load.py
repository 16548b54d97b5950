"""A bounded HTTP load generator for the GraphQL API, run as its own process on loopback.

Usage: python -m bench.load --url http://127.0.0.1:PORT/graphql --token SECRET
       --workload register|answers|typename [--clients 16] [--seconds 5]

Prints one JSON object: requests, errors, requests per second, p50 and p99 latency.
A request counts as an error if the status is not 200 or the body carries "errors".
"""

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from typing import Any

import httpx

REGISTER = (
    "mutation($input: RegisterParticipantInput!) "
    "{ registerParticipant(input: $input) { id logPosition } }"
)
KINDS = ["SERVICE_USER", "CARER", "STAFF", "TRUSTEE_OR_BOARD_MEMBER", "OTHER"]
ANSWERS = """
query($slice: SliceInput) {
  intendedOutcomes(slice: $slice) {
    position byAssessment { key count } shareAchieved { value numerator denominator }
  }
  differences(slice: $slice) {
    position contributions byResponse { key count } byScope { key count }
    shareAdoptedOrAdapted { value }
  }
  processExperience(slice: $slice) { position answers involved respondents }
  endResult(slice: $slice) { position outcomesByDifference { key count } }
  beyond(slice: $slice) { position byKind { kind } }
}
"""
TYPENAME = "{ __typename }"


def body_of(workload: str, rng: random.Random, initiative: str | None) -> Any:
    if workload == "register":
        return {
            "query": REGISTER,
            "variables": {
                "input": {
                    "pseudonym": f"L-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}",
                    "participantKind": rng.choice(KINDS),
                }
            },
        }
    if workload == "answers":
        slice_ = {"initiativeId": initiative} if initiative else None
        return {"query": ANSWERS, "variables": {"slice": slice_}}
    return {"query": TYPENAME}


def drive(
    url: str,
    token: str,
    workload: str,
    clients: int,
    seconds: float,
    initiative: str | None = None,
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    first_error: list[str] = []
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        rng = random.Random(number)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=90.0) as http:
            start.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    response = http.post(url, json=body_of(workload, rng, initiative))
                    ok = response.status_code == 200 and "errors" not in response.json()
                    if not ok and not first_error:
                        first_error.append(response.text[:300])
                except Exception as error:  # every failure is counted, none hidden
                    ok = False
                    if not first_error:
                        first_error.append(repr(error)[:300])
                latencies[number].append(time.perf_counter() - began)
                if not ok:
                    errors[number] += 1

    threads = [
        threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join(seconds + 60)
    took = time.perf_counter() - began
    every = sorted(t for per_client in latencies for t in per_client)
    count = len(every)
    return {
        "workload": workload,
        "clients": clients,
        "seconds": round(took, 3),
        "requests": count,
        "errors": sum(errors),
        "first_error": first_error[0] if first_error else None,
        "rps": count / took if took else 0.0,
        "p50": statistics.median(every) if every else None,
        "p99": every[min(count - 1, int(count * 0.99))] if every else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument(
        "--workload", choices=["register", "answers", "typename"], required=True
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--initiative", help="answer for this initiative only")
    arguments = parser.parse_args()
    result = drive(
        arguments.url,
        arguments.token,
        arguments.workload,
        arguments.clients,
        arguments.seconds,
        arguments.initiative,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
