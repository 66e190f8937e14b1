"""API fuzzing, the long run (issue #17): Schemathesis with random examples on every operation
of the OpenAPI document, for every kind of caller (admin token, none, publishable key, secret
key, widget session), against the real app in a temporary home. The same target and checks as
tests/security/test_api_fuzz.py (tests/security/api_fuzzing.py), many more examples, a fresh
seed each run. Prints each problem once and writes them to results/api_fuzz.json.

    python -m benchmarks.api_fuzz [--examples 50] [--callers "admin token,secret key"] [--only /v1]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from tests.security import api_fuzzing as fuzz

RESULTS = Path(__file__).with_name("results")
CALLERS = ["admin token", "no credential", "publishable key", "secret key", "widget session"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation and caller")
    parser.add_argument("--callers", default=",".join(CALLERS))
    parser.add_argument("--only", default="", help="operations whose path contains this")
    parser.add_argument("--quick", action="store_true", help="5 examples per operation")
    args = parser.parse_args()
    examples = 5 if args.quick else args.examples
    for name in ("httpx", "httpx2", "prompteur"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # refusals are expected, by the thousand
    started = time.monotonic()
    found: dict[str, str] = {}
    with fuzz.fuzz_target(Path(tempfile.mkdtemp(prefix="api_fuzz_")) / "home") as target:
        operations = [op for op in fuzz.operations(target) if args.only in op.path]
        for caller in args.callers.split(","):
            caller_started = time.monotonic()
            expect = None if caller == "admin token" else fuzz.refused_without(caller)
            for op in operations:
                try:
                    problems = fuzz.fuzz_operation(
                        target, op, caller, examples=examples, derandomize=False, expect=expect
                    )
                except Exception as crash:  # a crash of the harness is a finding too
                    problems = [
                        f"{caller}: {op.method.upper()} {op.path} → harness error {type(crash).__name__}: {crash}"
                    ]
                for problem in problems:
                    # One line per operation and kind of problem: the same 500 on 40 drawn paths is one finding.
                    found.setdefault(
                        f"{caller} {op.method.upper()} {op.path} {problem.split('→', 1)[-1][:60]}", problem
                    )
            print(f"{caller}: {len(operations)} operations in {time.monotonic() - caller_started:.0f} s", flush=True)
    print(f"\n{len(found)} problem(s) in {time.monotonic() - started:.0f} s")
    for problem in found.values():
        print("-", problem[:1000])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api_fuzz.json").write_text(
        json.dumps({"examples": examples, "problems": list(found.values())}, indent=2)
    )


if __name__ == "__main__":
    main()
