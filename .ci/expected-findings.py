#!/usr/bin/env python3
"""Compares an SDK run's findings with an adapter's expected-findings.txt.

    python3 .ci/expected-findings.py RUN.json EXPECTED.txt LABEL
    python3 .ci/expected-findings.py --lint EXPECTED.txt...

The file lists one expected finding a line, `trial<TAB>class`, and says for
each why it is a defect: a `# why: ...` line (continued by further `#`
lines) above the entries it justifies, quoting the statement of the
documents or the invariant the SDK breaks. A `# why:` covers the entries
below it up to the next blank line, so one statement can justify several
trials. Other `#` lines are comments. An entry with no `# why:` above it in
its paragraph is an error: a finding nobody can justify is not expected,
it is unexplained.

Exit status: 0 the findings are the expected ones; 1 a finding is new, one
went away, or an entry has no justification; 2 usage or an unreadable file.
"""

from __future__ import annotations

import json
import sys


def parse(path: str) -> tuple[dict[str, str], list[str]]:
    """The entries of `path`, each with its justification, and the errors."""
    entries: dict[str, str] = {}
    errors: list[str] = []
    why: str | None = None  # the paragraph's justification
    continuing = False  # the `#` lines right after `# why:` continue it
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                why, continuing = None, False
                continue
            if line.startswith("#"):
                text = line[1:].strip()
                if text.lower().startswith("why:"):
                    why, continuing = text[4:].strip(), True
                elif continuing and why is not None:
                    why = f"{why} {text}".strip()
                continue
            continuing = False
            fields = line.split("\t")
            if len(fields) != 2 or not all(fields):
                errors.append(f"{path}:{number}: expected `trial<TAB>class`, found {line!r}")
            elif not why:
                errors.append(
                    f"{path}:{number}: {fields[0]} {fields[1]}: no `# why:` line above it says which "
                    "statement of the documents or which invariant makes it a defect"
                )
            else:
                entries[line] = why
    return entries, errors


def main(argv: list[str]) -> int:
    if argv[:1] == ["--lint"] and len(argv) > 1:
        status = 0
        for path in argv[1:]:
            try:
                _, errors = parse(path)
            except OSError as e:
                print(f"expected-findings: {path}: {e}")
                return 2
            for e in errors:
                print(f"expected-findings: {e}")
                status = 1
        return status
    if len(argv) != 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    run_path, expected_path, label = argv
    try:
        run = json.load(open(run_path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"sdk-adapters: {label}: cannot read {run_path}: {e}")
        return 2
    found = sorted({f"{t['name']}\t{f['class']}" for t in run["trials"] for f in t.get("findings", [])})
    try:
        expected, errors = parse(expected_path)
    except FileNotFoundError:
        expected, errors = {}, []
    verdict = f"{run['passed']} passed, {run['failed']} failed, {run['skipped']} skipped"
    observed = sorted({o for t in run["trials"] for o in t.get("observed", [])})
    status = 0
    for e in errors:
        print(f"sdk-adapters: {label}: {e}")
        status = 1
    if set(found) != set(expected):
        print(f"sdk-adapters: {label}: findings changed ({verdict})")
        for line in sorted(set(expected) - set(found)):
            print(f"  no longer found: {line}")
        for line in sorted(set(found) - set(expected)):
            print(f"  newly found:     {line}")
        print(f"  (update {expected_path}, each entry under a `# why:` line, after reading sdk.md)")
        status = 1
    if status == 0:
        report = run_path.rsplit("/", 1)[0]
        print(
            f"sdk-adapters: {label}: {verdict}; {len(found)} known finding(s), each justified, "
            f"{len(observed)} observation(s); report in {report}/sdk.md"
        )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
