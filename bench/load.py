"""A bounded HTTP load generator for the GraphQL API, run as its own process on loopback.

Usage: python -m bench.load --url http://127.0.0.1:PORT/graphql --token SECRET
       --workload register|answers|typename [--clients 16] [--seconds 5]
       [--generator wrk|python]
       python -m bench.load --url http://127.0.0.1:PORT/record/registerParticipant
       --session SESSION_ID --csrf CSRF_TOKEN --workload form [...]

Prints one JSON object: requests, errors, requests per second, p50 and p99 latency.
A request counts as an error if the status is not 200 or the body carries "errors";
for the web form (`form`: the form that registers a person, posted as a browser
posts it, with the session's cookie, its CSRF token and a new idempotency key each
time), if the answer is not 303 (the redirect to the record's page).

The load comes from wrk (a C load generator, `apt install wrk`) with a Lua script
that makes each request's body, when wrk is installed; otherwise from Python threads
with httpx. On a 2-core machine the generator shares the cores with the server, and
the Python generator takes far more of them: measured here, the same server answered
`{ __typename }` at ~300 requests/s under the Python generator and ~1,400 under wrk.
"""

import argparse
import json
import random
import shutil
import statistics
import subprocess
import tempfile
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
SESSION_COOKIE = "fourpi_session"
ANSWERS = """
query($slice: SliceInput) {
  intendedOutcomes(slice: $slice) {
    position byAssessment { key count } shareAchieved { value numerator denominator }
  }
  differences(slice: $slice) {
    position contributions byResponse { key count } byScope { key count }
    shareAdoptedOrAdapted { value }
  }
  processExperience(slice: $slice) {
    position peopleFigures answers { value suppressed } involved { value suppressed }
    respondents { value suppressed }
  }
  endResult(slice: $slice) { position outcomesByDifference { key count } }
  beyond(slice: $slice) { position byKind { kind } }
}
"""
TYPENAME = "{ __typename }"


def form_of(rng: random.Random, csrf: str) -> dict[str, str]:
    """The register-a-person form as a browser posts it (each post a new form, so a
    new idempotency key)."""
    return {
        "csrf_token": csrf,
        "idempotency_key": uuid.UUID(int=rng.getrandbits(128)).hex,
        "pseudonym": f"W-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}",
        "participant_kind": rng.choice(KINDS).lower(),
    }


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
    csrf: str = "",
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    first_error: list[str] = []
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        rng = random.Random(number)
        form = workload == "form"
        headers = {} if form else {"Authorization": f"Bearer {token}"}
        cookies = {SESSION_COOKIE: token} if form else {}
        with httpx.Client(headers=headers, cookies=cookies, timeout=90.0) as http:
            start.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    if form:
                        response = http.post(url, data=form_of(rng, csrf))
                        ok = response.status_code == 303
                    else:
                        response = http.post(
                            url, json=body_of(workload, rng, initiative)
                        )
                        ok = (
                            response.status_code == 200
                            and "errors" not in response.json()
                        )
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
        "generator": "python",
        "seconds": round(took, 3),
        "requests": count,
        "errors": sum(errors),
        "first_error": first_error[0] if first_error else None,
        "rps": count / took if took else 0.0,
        "p50": statistics.median(every) if every else None,
        "p99": every[min(count - 1, int(count * 0.99))] if every else None,
    }


WRK_SCRIPT = """
local workload, token, initiative = %(workload)s, %(token)s, %(initiative)s
local register, answers, typename = %(register)s, %(answers)s, %(typename)s
local csrf = %(csrf)s
local kinds = {"SERVICE_USER", "CARER", "STAFF", "TRUSTEE_OR_BOARD_MEMBER", "OTHER"}
local headers = {["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer " .. token}
local expected = 200
if workload == "form" then
  headers = {["Content-Type"] = "application/x-www-form-urlencoded",
             ["Cookie"] = "%(cookie)s=" .. token}
  expected = 303
end
local threads = {}
local fixed = nil

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  errors, first_error, sent = 0, "", 0
  math.randomseed(os.time() * 100 + number)
  if workload == "answers" then
    local slice = "null"
    if initiative ~= "" then slice = '{"initiativeId":"' .. initiative .. '"}' end
    fixed = '{"query":' .. answers .. ',"variables":{"slice":' .. slice .. '}}'
  elseif workload == "typename" then
    fixed = '{"query":' .. typename .. '}'
  end
end

function request()
  local body = fixed
  if workload == "form" then
    sent = sent + 1
    body = string.format(
      "csrf_token=%%s&idempotency_key=k-%%d-%%d-%%d&pseudonym=W-%%d-%%d-%%d" ..
      "&participant_kind=%%s",
      csrf, number, sent, math.random(1, 1000000000), number, sent,
      math.random(1, 1000000000), string.lower(kinds[math.random(1, 5)]))
  elseif body == nil then
    sent = sent + 1
    body = string.format(
      '{"query":%%s,"variables":{"input":{"pseudonym":"L-%%d-%%d-%%d",' ..
      '"participantKind":"%%s"}}}',
      register, number, sent, math.random(1, 1000000000), kinds[math.random(1, 5)])
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status ~= expected or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local errors, first = 0, ""
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  io.write(string.format(
    '@@{"requests":%%d,"errors":%%d,"socket_errors":%%d,"micros":%%d,' ..
    '"p50":%%f,"p99":%%f}@@\\n',
    summary.requests, errors,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout,
    summary.duration, latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
  io.write("@@first@@" .. first .. "\\n")
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal holding text (JSON-escaped first, for the request body)."""
    return json.dumps(json.dumps(text))


def drive_wrk(
    url: str,
    token: str,
    workload: str,
    clients: int,
    seconds: float,
    initiative: str | None = None,
    csrf: str = "",
) -> dict[str, Any]:
    script = WRK_SCRIPT % {
        "workload": json.dumps(workload),
        "token": json.dumps(token),
        "initiative": json.dumps(initiative or ""),
        "csrf": json.dumps(csrf),
        "cookie": SESSION_COOKIE,
        "register": lua_string(REGISTER),
        "answers": lua_string(ANSWERS),
        "typename": lua_string(TYPENAME),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        finished = subprocess.run(
            [
                "wrk",
                "--threads",
                str(min(2, clients)),
                "--connections",
                str(clients),
                "--duration",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "90s",
                "--script",
                lua.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        )
    summary = json.loads(finished.stdout.split("@@")[1])
    first = finished.stdout.partition("@@first@@")[2].strip()
    took = summary["micros"] / 1e6
    count = summary["requests"]
    return {
        "workload": workload,
        "clients": clients,
        "generator": "wrk",
        "seconds": round(took, 3),
        "requests": count,
        "errors": summary["errors"] + summary["socket_errors"],
        "first_error": first or None,
        "rps": count / took if took else 0.0,
        "p50": summary["p50"],
        "p99": summary["p99"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", help="the bearer token (the API's workloads)")
    parser.add_argument("--session", help="the session's id (the web form)")
    parser.add_argument("--csrf", default="", help="the session's CSRF token")
    parser.add_argument(
        "--workload",
        choices=["register", "answers", "typename", "form"],
        required=True,
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--initiative", help="answer for this initiative only")
    parser.add_argument(
        "--generator",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="wrk when installed, else Python threads",
    )
    arguments = parser.parse_args()
    credential = arguments.session if arguments.workload == "form" else arguments.token
    if not credential:
        parser.error("--session (the web form) or --token (the API) is required")
    result = (drive_wrk if arguments.generator == "wrk" else drive)(
        arguments.url,
        credential,
        arguments.workload,
        arguments.clients,
        arguments.seconds,
        arguments.initiative,
        arguments.csrf,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
