#!/usr/bin/env python3
"""Cross-check imgconform's request encoding and signing against the
official Python SDKs.

For every documented request example (cases/<provider>/<Api>.json, group
"example", with a "request") and every official SDK of that provider, the
SDK's own client is driven offline (tests/sdk/capture.py) and
``imgconform sign`` encodes the same logical parameters with the same time,
nonce, credentials, endpoint and scheme. The two requests are compared:
method, endpoint, path (decoded), query (decoded, as a multiset), the
headers that carry the protocol, the body (JSON-semantically; forms
exactly), and the signature:

  (a) ``imgconform verify`` accepts the SDK's request, byte for byte, with
      the same secret: imgconform's verifier is the SDK's signer;
  (b) where both sides sign identical canonical inputs, the signatures are
      equal; where an input differs, that input is named as the reason, which
      is acceptable only when (a) holds.

A second category makes sure these checks can fail: ``imgconform verify``
must reject each SDK's request under a wrong secret, and with a business
parameter altered. A third reads the SDK's request back as a server would
(the body, path, query and header parameters of the provider's protocol)
and requires ``imgconform validate`` to accept it: a mock built on
imgconform must take what the official SDK sends for a documented example.
JD Cloud's documented JDCLOUD2 scheme, which no SDK sends, is checked with
``imgconform verify`` and an independent recomputation from
shared/signing.md.

``--all-valid`` extends the run from the documented examples to every case
the validator is expected to accept (about 2,000 checks, some 20 seconds).

Output: ``PASS|FAIL <sdk> <api>: <what>`` per check, ``INFO`` lines for
what is noted but not judged, and last ``N passed, M failed``. Exits 1 on
any failure, 2 when it cannot run.

    bash .ci/sdk-venv && .venv-sdk/bin/python tests/sdk/crosscheck.py
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, unquote_plus, urlsplit, quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import capture as cap  # noqa: E402

# Fixed inputs: the published TC3 vector's time, the published ACS3
# vector's nonce, and each provider's example credentials.
TIMESTAMP = 1551113065  # 2019-02-25T16:44:25Z
NONCE = "3156853299f313e23d1673dc12e1703d"
CREDENTIALS = {
    "tencent": ("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    "aliyun": ("YourAccessKeyId", "YourAccessKeySecret"),
    "jdcloud": ("JDC_EXAMPLE_ACCESS_KEY", "JDC_EXAMPLE_SECRET_KEY"),
}
WRONG_SECRET = "not-the-secret"

SDKS_OF = {
    "tencent": ["tencent"],
    "aliyun": ["aliyun-acs3", "aliyun-v1"],
    "jdcloud": ["jdcloud"],
}

# The headers that carry the protocol, per scheme (lower-case). Each must be
# sent by both sides with the same value.
HEADERS_THAT_MATTER = {
    "tc3": ["host", "content-type", "x-tc-action", "x-tc-version", "x-tc-region",
            "x-tc-timestamp", "x-tc-token", "x-tc-content-sha256"],
    "acs3": ["host", "content-type", "x-acs-action", "x-acs-version", "x-acs-date",
             "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-security-token"],
    "aliyun-v1": ["host", "content-type"],
    "jdcloud3": ["host", "content-type", "x-jdcloud-date", "x-jdcloud-nonce",
                 "x-jdcloud-content-sha256", "x-jdcloud-security-token"],
}
CONTENT_SHA256 = {"x-acs-content-sha256", "x-jdcloud-content-sha256"}

# Headers an SDK signs that imgconform does not send, known not to be part of
# the protocol: INFO, not failure. Any other one-sided signed header fails.
SDK_ONLY_SIGNED_OK = {
    "accept": "a generic HTTP header",
    "user-agent": "a generic HTTP header (the SDK's name and platform)",
    "x-acs-credentials-provider": "SDK telemetry naming the credential provider; "
                                  "not among the ACS3 headers of the signing documentation",
}

# Query parameters only an SDK sends, known to be harmless: INFO.
SDK_ONLY_QUERY_OK = {
    ("aliyun-v1", "SignatureType", ""): "an empty optional common parameter of signature v1",
}


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, sdk: str, api: str, what: str, detail: str | None = None) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        line = f"{'PASS' if ok else 'FAIL'} {sdk} {api}: {what}"
        if detail:
            line += f" -- {detail}"
        print(line, flush=True)
        return ok

    def info(self, sdk: str, api: str, text: str) -> None:
        print(f"INFO {sdk} {api}: {text}", flush=True)


def short(value, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------
# imgconform
# --------------------------------------------------------------------------


class Imgconform:
    def __init__(self, binary: Path):
        self.binary = binary

    def _env(self, provider: str, secret: str | None = None) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not any(k == name for pair in cap.CREDENTIAL_ENV.values() for name in pair)}
        env.pop("IMGCONFORM_SPEC_DIR", None)
        id_var, secret_var = cap.CREDENTIAL_ENV[provider]
        ak, sk = CREDENTIALS[provider]
        env[id_var] = ak
        env[secret_var] = sk if secret is None else secret
        return env

    def sign(self, provider: str, api: str, params: dict, scheme: str, endpoint: str | None) -> dict:
        args = [str(self.binary), "sign", "--api", api, "-", "--time", str(TIMESTAMP),
                "--nonce", NONCE, "--scheme", scheme, "--format", "json", "--explain"]
        if endpoint:
            args += ["--endpoint", endpoint]
        done = subprocess.run(args, input=json.dumps(params), capture_output=True, text=True,
                              env=self._env(provider), timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"imgconform sign exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
        return json.loads(done.stdout)

    def validate(self, provider: str, api: str, params: dict) -> tuple[int, str]:
        done = subprocess.run([str(self.binary), "validate", "--api", api, "-"],
                              input=json.dumps(params), capture_output=True, text=True,
                              env=self._env(provider), timeout=60)
        return done.returncode, (done.stdout + done.stderr).strip()

    def verify(self, provider: str, api: str, capture: dict, secret: str | None = None) -> tuple[int, str]:
        body = {k: capture[k] for k in ("method", "url", "headers", "body")}
        done = subprocess.run([str(self.binary), "verify", "--api", api, "-"],
                              input=json.dumps(body), capture_output=True, text=True,
                              env=self._env(provider, secret), timeout=60)
        return done.returncode, (done.stdout + done.stderr).strip()


def build_imgconform() -> Path:
    done = subprocess.run(["cargo", "build", "--locked", "--quiet", "--bin", "imgconform"],
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(2)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=REPO, capture_output=True, text=True)
    target = Path(json.loads(meta.stdout)["target_directory"]) if meta.returncode == 0 else REPO / "target"
    return target / "debug" / "imgconform"


# --------------------------------------------------------------------------
# Request anatomy
# --------------------------------------------------------------------------


class Request:
    """A captured request, taken apart."""

    def __init__(self, capture: dict):
        self.capture = capture
        self.method = capture["method"]
        parts = urlsplit(capture["url"])
        self.scheme = parts.scheme
        self.authority = parts.netloc
        self.raw_path = parts.path or "/"
        self.raw_query = parts.query
        self.body = capture.get("body", "")
        self.headers: dict[str, list[str]] = {}
        self.header_names: dict[str, str] = {}
        for name, value in capture["headers"]:
            self.headers.setdefault(name.lower(), []).append(value)
            self.header_names.setdefault(name.lower(), name)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(v.strip() for v in values) if values else None

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    def query_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for item in self.raw_query.split("&"):
            if not item:
                continue
            name, _, value = item.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
        return pairs

    def form_pairs(self) -> list[tuple[str, str]]:
        ctype = (self.header("content-type") or "").lower()
        if not ctype.startswith("application/x-www-form-urlencoded") or not self.body:
            return []
        return [(unquote_plus(n), unquote_plus(v)) for n, _, v in
                (item.partition("=") for item in self.body.split("&") if item)]

    def authorization(self) -> dict | None:
        value = self.header("authorization")
        if not value:
            return None
        algorithm, _, rest = value.strip().partition(" ")
        fields = {}
        for part in rest.split(","):
            key, _, val = part.strip().partition("=")
            fields[key] = val
        credential = fields.get("Credential", "")
        access_key, _, scope = credential.partition("/")
        return {
            "algorithm": algorithm,
            "access_key": access_key,
            "scope": scope,
            "signed_headers": [h for h in fields.get("SignedHeaders", "").split(";") if h],
            "signature": fields.get("Signature", ""),
        }

    def signature(self) -> str | None:
        auth = self.authorization()
        if auth:
            return auth["signature"]
        sig = [v for n, v in self.query_pairs() + self.form_pairs() if n == "Signature"]
        return sig[0] if sig else None

    def json_body(self):
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None


def json_diff(a, b, path: str = "") -> list[str]:
    """Differences between two JSON values (a: SDK, b: imgconform)."""
    where = path or "(body)"
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}" if path else key
            if key not in b:
                out.append(f"{sub}: only the SDK sends it ({short(a[key], 60)})")
            elif key not in a:
                out.append(f"{sub}: only imgconform sends it ({short(b[key], 60)})")
            else:
                out += json_diff(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: SDK sends {len(a)} items, imgconform {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += json_diff(x, y, f"{path}[{i}]")
        return out
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                       and not isinstance(a, bool) and not isinstance(b, bool)):
        return [f"{where}: SDK {json.dumps(a)} vs imgconform {json.dumps(b)} (types differ)"]
    if a != b:
        return [f"{where}: SDK {json.dumps(a, ensure_ascii=False)} vs imgconform {json.dumps(b, ensure_ascii=False)}"]
    return []


def drop_nulls(value, path: str = "", dropped: list | None = None):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if v is None:
                dropped.append(sub)
            else:
                out[k] = drop_nulls(v, sub, dropped)
        return out
    if isinstance(value, list):
        return [drop_nulls(v, f"{path}[{i}]", dropped) for i, v in enumerate(value)]
    return value


def load_spec(api: str) -> dict:
    provider, name = api.split("/")
    return json.loads((REPO / "spec" / provider / f"{name}.json").read_text(encoding="utf-8"))


def _steps(path: str) -> list:
    """``dataDisks[1].cloudDiskSpec.iops`` → ["dataDisks", 1, "cloudDiskSpec", "iops"]."""
    steps: list = []
    for part in path.split("."):
        name, *indexes = re.split(r"\[(\d+)\]", part)
        if name:
            steps.append(name)
        steps += [int(i) for i in indexes if i != ""]
    return steps


def _set_path(obj, path: str, value) -> None:
    steps = _steps(path)
    for step in steps[:-1]:
        obj = obj[step]
    obj[steps[-1]] = value


def _remove_path(obj, path: str) -> None:
    steps = _steps(path)
    for step in steps[:-1]:
        obj = obj[step]
    del obj[steps[-1]]


def _resolve(case: dict, by_id: dict) -> dict | None:
    """A case's request: its own, or its ``from`` case's with ``set`` and
    ``remove`` applied (as the case format in README.md describes)."""
    if "request" in case:
        return json.loads(json.dumps(case["request"]))
    base_case = by_id.get(case.get("from"))
    if base_case is None:
        return None
    request = _resolve(base_case, by_id)
    if request is None:
        return None
    for path, value in (case.get("set") or {}).items():
        _set_path(request, path, value)
    for path in case.get("remove") or []:
        _remove_path(request, path)
    return request


def cases_to_check(all_valid: bool) -> list[tuple[str, str, dict]]:
    # (api, label for the report, logical request)
    """The documented request examples; with ``all_valid``, also every case
    whose request the validator is expected to accept."""
    out = []
    paths = sorted(p for provider in SDKS_OF for p in (REPO / "cases" / provider).glob("*.json"))
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "api" not in data:
            continue  # not a per-API case file
        cases = data.get("cases", [])
        by_id = {c.get("id"): c for c in cases}
        for case in cases:
            documented = case.get("group") == "example" and "request" in case
            valid = (case.get("expect") or {}).get("valid") is True
            if documented or (all_valid and valid and ("request" in case or "from" in case)):
                request = _resolve(case, by_id)
                if request is not None:
                    label = data["api"] if documented else f"{data['api']}[{case['id']}]"
                    out.append((data["api"], label, request))
    return out


# --------------------------------------------------------------------------
# The comparison of one SDK request with imgconform's
# --------------------------------------------------------------------------


def canonical_inputs(scheme: str, r: Request) -> dict[str, object]:
    """What each scheme's signature covers, as comparable values."""
    auth = r.authorization() or {}
    signed = auth.get("signed_headers", [])
    if scheme == "aliyun-v1":
        params = sorted((n, v) for n, v in r.query_pairs() + r.form_pairs() if n != "Signature")
        return {"method": r.method, "signed parameters": params}
    inputs: dict[str, object] = {"method": r.method}
    if scheme == "jdcloud3":
        inputs["path (decoded, as v3 signs it)"] = re.sub("/+", "/", unquote_plus(r.raw_path))
    else:
        inputs["path (as sent)"] = r.raw_path
    if scheme == "tc3":
        inputs["query (as sent)"] = r.raw_query
    else:
        inputs["query (decoded, sorted)"] = sorted(r.query_pairs())
    inputs["signed header list"] = signed
    inputs["signed header values"] = {h: r.header(h) if h != "host" else (r.header("host") or r.authority)
                                      for h in signed}
    inputs["body bytes"] = r.body
    inputs["credential scope"] = auth.get("scope")
    return inputs


def explain_input_difference(name: str, a, b) -> str:
    if name == "body bytes":
        ja, jb = (json.loads(a) if a.strip() else None), None
        try:
            jb = json.loads(b) if b.strip() else None
        except ValueError:
            pass
        if ja is not None and ja == jb:
            return "body bytes differ (same JSON; whitespace or key order)"
        return f"body bytes differ ({len(a)} vs {len(b)} bytes)"
    if name == "signed header list":
        only_a = [h for h in a if h not in b]
        only_b = [h for h in b if h not in a]
        bits = []
        if only_a:
            bits.append(f"only the SDK signs {';'.join(only_a)}")
        if only_b:
            bits.append(f"only imgconform signs {';'.join(only_b)}")
        return f"signed headers differ ({', '.join(bits)}: SDK {';'.join(a)} vs imgconform {';'.join(b)})"
    if name == "signed header values":
        diffs = [h for h in set(a) & set(b) if a[h] != b[h]]
        if not diffs:
            return None  # only the header sets differ: said by "signed header list"
        return "signed header values differ: " + ", ".join(
            f"{h}: SDK {a[h]!r} vs imgconform {b[h]!r}" for h in sorted(diffs))
    if name == "signed parameters":
        ca, cb = Counter(a), Counter(b)
        only_a = sorted((ca - cb).elements())
        only_b = sorted((cb - ca).elements())
        bits = []
        if only_a:
            bits.append("only the SDK signs " + ", ".join(f"{n}={v}" for n, v in only_a))
        if only_b:
            bits.append("only imgconform signs " + ", ".join(f"{n}={v}" for n, v in only_b))
        return "signed parameters differ: " + "; ".join(bits)
    return f"{name} differs: SDK {short(a, 80)!s} vs imgconform {short(b, 80)!s}"


def compare(report: Report, tool: Imgconform, sdk: str, api: str, sdk_req: Request,
            ic_req: Request, params: dict, label: str) -> None:
    provider = cap.PROVIDER_OF[sdk]
    scheme = cap.SCHEME_OF[sdk]
    spec = load_spec(api)
    path_params = set(re.findall(r"{([^}]+)}", spec["path"]))

    # Method, endpoint, path.
    report.check(sdk_req.method == ic_req.method, sdk, label, f"method {ic_req.method}",
                 None if sdk_req.method == ic_req.method else f"SDK {sdk_req.method} vs imgconform {ic_req.method}")
    same_endpoint = (sdk_req.scheme, sdk_req.authority) == (ic_req.scheme, ic_req.authority)
    report.check(same_endpoint, sdk, label, f"endpoint {ic_req.scheme}://{ic_req.authority}",
                 None if same_endpoint else f"SDK {sdk_req.scheme}://{sdk_req.authority}")
    report.check(sdk_req.path == ic_req.path, sdk, label, f"path (decoded) {ic_req.path}",
                 None if sdk_req.path == ic_req.path else f"SDK {sdk_req.path!r} vs imgconform {ic_req.path!r}")
    if sdk_req.raw_path != ic_req.raw_path and sdk_req.path == ic_req.path:
        report.info(sdk, label, f"path encoded differently on the wire: SDK {sdk_req.raw_path} vs "
                              f"imgconform {ic_req.raw_path} (same once decoded)")

    # Query: decoded, as a multiset; the signature itself is judged below.
    sq = Counter((n, v) for n, v in sdk_req.query_pairs() if n != "Signature")
    iq = Counter((n, v) for n, v in ic_req.query_pairs() if n != "Signature")
    problems, notes = [], []
    names = sorted({n for n, _ in sq} | {n for n, _ in iq})
    for name in names:
        sv = sorted(v for (n, v), c in sq.items() if n == name for _ in range(c))
        iv = sorted(v for (n, v), c in iq.items() if n == name for _ in range(c))
        if sv == iv:
            continue
        if not iv and all((sdk, name, v) in SDK_ONLY_QUERY_OK for v in sv):
            notes.append(f"only the SDK sends {name}={'|'.join(sv)!r} ({SDK_ONLY_QUERY_OK[(sdk, name, sv[0])]}; "
                         f"signed, so the signatures differ)")
        elif not iv:
            problems.append(f"only the SDK sends {name}={'|'.join(sv)}")
        elif not sv:
            problems.append(f"only imgconform sends {name}={'|'.join(iv)}")
        else:
            problems.append(f"{name}: SDK {sv} vs imgconform {iv}")
    what = f"query parameters ({sum(iq.values())} from imgconform, decoded, as a multiset)"
    report.check(not problems, sdk, label, what, "; ".join(problems) or None)
    for note in notes:
        report.info(sdk, label, note)
    if sq == iq and sdk_req.raw_query != ic_req.raw_query and (sq or iq):
        order_only = sorted(sdk_req.raw_query.split("&")) == sorted(ic_req.raw_query.split("&"))
        report.info(sdk, label, "query string differs on the wire only in "
                    + ("parameter order" if order_only else "encoding or order")
                    + (" (the SDK sorts it)" if sdk_req.raw_query.split("&") == sorted(sdk_req.raw_query.split("&")) else ""))

    # Headers that carry the protocol.
    bodies_same_bytes = sdk_req.body == ic_req.body
    for name in HEADERS_THAT_MATTER[scheme]:
        sv, iv = sdk_req.header(name), ic_req.header(name)
        if sv is None and iv is None:
            continue
        what = f"header {name}"
        if sv is None or iv is None:
            report.check(False, sdk, label, what,
                         f"only {'imgconform' if sv is None else 'the SDK'} sends it ({iv if sv is None else sv})")
        elif sv == iv:
            report.check(True, sdk, label, f"{what} = {short(iv, 70)}")
        elif name in CONTENT_SHA256 and not bodies_same_bytes:
            ok = (sv == hashlib.sha256(sdk_req.body.encode()).hexdigest()
                  and iv == hashlib.sha256(ic_req.body.encode()).hexdigest())
            report.check(ok, sdk, label, f"{what} is the SHA-256 of each side's own body (the body bytes differ)",
                         None if ok else f"SDK {sv} vs imgconform {iv}")
        else:
            report.check(False, sdk, label, what, f"SDK {sv!r} vs imgconform {iv!r}")

    # Other headers: one-sided ones are INFO unless a side signs them.
    sdk_auth, ic_auth = sdk_req.authorization(), ic_req.authorization()
    sdk_signed = set((sdk_auth or {}).get("signed_headers", []))
    ic_signed = set((ic_auth or {}).get("signed_headers", []))
    skip = set(HEADERS_THAT_MATTER[scheme]) | {"authorization"}
    only_sdk, only_ic, differ = [], [], []
    for name in sdk_req.headers:
        if name in skip:
            continue
        if name not in ic_req.headers:
            if name in sdk_signed:
                ok = name in SDK_ONLY_SIGNED_OK
                if ok:
                    report.info(sdk, label, f"only the SDK sends header {sdk_req.header_names[name]}, and signs it: "
                                          f"{SDK_ONLY_SIGNED_OK[name]}")
                else:
                    report.check(False, sdk, label, f"header {name}",
                                 f"the SDK sends and signs it ({sdk_req.header(name)!r}); imgconform does not send it")
            else:
                only_sdk.append(f"{sdk_req.header_names[name]}: {short(sdk_req.header(name), 60)}")
        elif sdk_req.header(name) != ic_req.header(name):
            differ.append(f"{name}: SDK {sdk_req.header(name)!r} vs imgconform {ic_req.header(name)!r}")
    for name in ic_req.headers:
        if name in skip or name in sdk_req.headers:
            continue
        if name in ic_signed:
            report.check(False, sdk, label, f"header {name}",
                         f"imgconform sends and signs it ({ic_req.header(name)!r}); the SDK does not send it")
        else:
            only_ic.append(f"{ic_req.header_names[name]}: {short(ic_req.header(name), 60)}")
    if only_sdk:
        report.info(sdk, label, "unsigned headers only the SDK sends: " + "; ".join(only_sdk))
    if only_ic:
        report.info(sdk, label, "unsigned headers only imgconform sends: " + "; ".join(only_ic))
    for d in differ:
        report.info(sdk, label, f"header value differs (not a protocol header): {d}")

    # Body.
    sj, ij = sdk_req.json_body(), ic_req.json_body()
    if not sdk_req.body and not ic_req.body:
        report.check(True, sdk, label, "body empty on both sides")
    elif sj is not None or ij is not None:
        if sj is None or ij is None:
            report.check(False, sdk, label, "JSON body",
                         f"SDK {short(sdk_req.body, 80)!r} vs imgconform {short(ic_req.body, 80)!r}")
        else:
            normalised = sj
            dropped: list[str] = []
            normalised = drop_nulls(normalised, "", dropped)
            if dropped:
                report.info(sdk, label, f"the SDK sends {len(dropped)} null member(s) for unset optional fields "
                                      f"({', '.join(dropped[:6])}{', …' if len(dropped) > 6 else ''}); "
                                      f"compared as absent")
            if isinstance(normalised, dict) and path_params:
                repeated = [p for p in normalised if p in path_params and p not in ij]
                mismatched = [p for p in repeated if str(normalised[p]) != str(params.get(p))]
                if repeated:
                    report.info(sdk, label, f"the SDK repeats the path parameter(s) {', '.join(repeated)} in the JSON "
                                          f"body; compared without them"
                                + (f" (their body values differ from the path: {mismatched})" if mismatched else ""))
                    normalised = {k: v for k, v in normalised.items() if k not in repeated or k in mismatched}
            ic_dropped: list[str] = []
            ij = drop_nulls(ij, "", ic_dropped)
            if ic_dropped:
                report.info(sdk, label, f"imgconform sends null for {', '.join(ic_dropped)} as the case asks; "
                                        f"the SDK's model cannot tell null from unset; compared as absent")
            diffs = json_diff(normalised, ij)
            report.check(not diffs, sdk, label, "JSON body, semantically (key order and whitespace aside)",
                         "; ".join(diffs) or None)
            if not diffs and not bodies_same_bytes:
                report.info(sdk, label, f"JSON body bytes differ: SDK {short(sdk_req.body, 100)} | "
                                      f"imgconform {short(ic_req.body, 100)}")
    else:
        ok = bodies_same_bytes
        report.check(ok, sdk, label, "form body, exactly",
                     None if ok else f"SDK {short(sdk_req.body, 80)!r} vs imgconform {short(ic_req.body, 80)!r}")

    # Authorization header structure.
    if sdk_auth or ic_auth:
        if not sdk_auth or not ic_auth:
            report.check(False, sdk, label, "Authorization header",
                         f"only {'the SDK' if sdk_auth else 'imgconform'} sends one")
        else:
            same = sdk_auth["algorithm"] == ic_auth["algorithm"]
            report.check(same, sdk, label, f"algorithm {ic_auth['algorithm']}",
                         None if same else f"SDK {sdk_auth['algorithm']}")
            same = (sdk_auth["access_key"], sdk_auth["scope"]) == (ic_auth["access_key"], ic_auth["scope"])
            cred = ic_auth["access_key"] + (f"/{ic_auth['scope']}" if ic_auth["scope"] else "")
            report.check(same, sdk, label, f"credential {cred}",
                         None if same else f"SDK {sdk_auth['access_key']}/{sdk_auth['scope']}")
            if sdk_auth["signed_headers"] != ic_auth["signed_headers"]:
                report.info(sdk, label, f"signed headers: SDK {';'.join(sdk_auth['signed_headers'])} vs "
                                      f"imgconform {';'.join(ic_auth['signed_headers'])}")

    # (a) imgconform verify accepts the SDK's exact bytes.
    rc, out = tool.verify(provider, api, sdk_req.capture)
    verified = rc == 0 and out.startswith("signature ok")
    report.check(verified, sdk, label, "imgconform verify accepts the SDK's request with the same secret (a)",
                 None if verified else out.replace("\n", " | "))

    # (b) identical canonical inputs give identical signatures.
    si, ii = canonical_inputs(scheme, sdk_req), canonical_inputs(scheme, ic_req)
    reasons = [explain_input_difference(k, si[k], ii[k]) for k in si if si[k] != ii.get(k)]
    reasons = [r for r in reasons if r] or (["canonical inputs differ"] if si != ii else [])
    ssig, isig = sdk_req.signature(), ic_req.signature()
    if not reasons:
        report.check(ssig == isig, sdk, label, "identical canonical inputs give the identical signature (b)",
                     None if ssig == isig else f"SDK {ssig} vs imgconform {isig}")
    elif ssig == isig:
        report.check(True, sdk, label, "signatures equal (b)")
    else:
        report.check(verified, sdk, label,
                     "signatures differ for a named reason, acceptable since (a) holds (b)"
                     if verified else "signatures differ and (a) does not hold (b)",
                     "; ".join(reasons))


def can_fail_checks(report: Report, tool: Imgconform, sdk: str, api: str, sdk_req: Request,
                    params: dict, spec: dict, label: str) -> None:
    """The second category: verify must be able to say no."""
    provider = cap.PROVIDER_OF[sdk]
    rc, out = tool.verify(provider, api, sdk_req.capture, secret=WRONG_SECRET)
    ok = rc == 1 and "signature rejected" in out and "first stage that differs: signature" in out
    report.check(ok, sdk, label, "imgconform verify rejects the SDK's request under a wrong secret, at the signature",
                 None if ok else f"exit {rc}: {out.replace(chr(10), ' | ')}")

    # Alter one business parameter's value in the SDK's bytes.
    path_params = set(re.findall(r"{([^}]+)}", spec["path"]))
    header_params = {p["name"] for p in spec["parameters"] if p.get("in") == "header"}
    tampered = None
    for name, value in params.items():
        if name in path_params or name in header_params or name == "RegionId" or not isinstance(value, str):
            continue
        capture = json.loads(json.dumps(sdk_req.capture))
        needle = json.dumps(value, ensure_ascii=False)
        if needle in capture["body"]:
            capture["body"] = capture["body"].replace(needle, json.dumps(value + "0"), 1)
            tampered = (name, "body", capture)
            break
        parts = urlsplit(capture["url"])
        for encoded in (quote(value, safe="-_.~"), quote(value, safe="-_.~*"), value):
            token = f"{name}={encoded}"
            if token in parts.query:
                capture["url"] = capture["url"].replace(token, token + "0", 1)
                tampered = (name, "query", capture)
                break
        if tampered:
            break
    if tampered is None:
        report.check(False, sdk, label, "verify rejects an altered business parameter",
                     "found no business parameter to alter in the SDK's request")
        return
    name, where, capture = tampered
    rc, out = tool.verify(provider, api, capture)
    ok = rc == 1 and "signature rejected" in out
    report.check(ok, sdk, label, f"imgconform verify rejects the SDK's request with {name} altered in the {where}",
                 None if ok else f"exit {rc}: {out.replace(chr(10), ' | ')}")


# The common parameters of Alibaba RPC, which are not business parameters
# (src/protocol/aliyun/mod.rs COMMON_PARAMETERS).
ALIYUN_COMMON_PARAMETERS = {"Action", "Version", "Format", "AccessKeyId", "SignatureMethod",
                            "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp",
                            "Signature", "SecurityToken"}


def _typed(param: dict | None, text: str):
    kind = (param or {}).get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def server_view(spec: dict, r: Request) -> tuple[dict, list[str]]:
    """The logical parameters a server reads from the request, as each
    provider's wire protocol defines them (the reading side of the encoding
    compared above): JD, the JSON body plus the path parameters; Tencent, the
    JSON body plus the header parameters; Alibaba, the query and form fields
    less the common parameters."""
    params = {p["name"]: p for p in spec["parameters"]}
    notes: list[str] = []
    protocol = spec["protocol"]
    if protocol == "aliyun-rpc":
        out = {}
        for name, text in r.query_pairs() + r.form_pairs():
            if name in ALIYUN_COMMON_PARAMETERS:
                continue
            if "." in name:
                notes.append(f"{name}: a flattened name, left as sent")
            out[name] = _typed(params.get(name), text)
        return out, notes
    body = r.json_body()
    out = dict(body) if isinstance(body, dict) else {}
    if protocol == "tencent-api3":
        for p in spec["parameters"]:
            if p.get("in") == "header":
                value = r.header(p.get("wire_name", p["name"]))
                if value is not None:
                    out[p["name"]] = _typed(p, value.strip())
        return out, notes
    if protocol == "jdcloud-rest-json":
        names = re.findall(r"{([^}]+)}", spec["path"])
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "([^/]+?)", re.escape(spec["path"])) + "$"
        match = re.match(pattern, r.path)
        if match is None:
            notes.append(f"path {r.path} does not match {spec['path']}")
        else:
            for name, value in zip(names, match.groups()):
                out[name] = value
        for name, text in r.query_pairs():
            out[name] = _typed(params.get(name), text)
        return out, notes
    notes.append(f"unknown protocol {protocol}")
    return out, notes


def check_server_side(report: Report, tool: Imgconform, sdk: str, api: str, spec: dict,
                      sdk_req: Request, effective: dict, label: str) -> None:
    """The SDK's request, read as imgconform's server side reads it, must be
    valid: a mock built on imgconform has to accept what the official SDK
    sends for a documented example. Judged only where the parameters the SDK
    could express are themselves valid (an SDK lacking a field may turn a
    valid case into an invalid one)."""
    provider = cap.PROVIDER_OF[sdk]
    rc, out = tool.validate(provider, api, effective)
    if rc != 0:
        report.info(sdk, label, "not judged on the server side: the parameters the SDK can express are not "
                                "valid themselves (" + "; ".join(
                                    ln.strip() for ln in out.splitlines()[1:2]) + ")")
        return
    params, notes = server_view(spec, sdk_req)
    for note in notes:
        report.info(sdk, label, note)
    rc, out = tool.validate(provider, api, params)
    ok = rc == 0
    detail = None
    if not ok:
        lines = [ln.strip() for ln in out.splitlines()[1:] if ln.strip() and not ln.strip().startswith("documented answer")]
        detail = "; ".join(lines) or out
        nulls = [k for k, v in params.items() if v is None]
        if nulls:
            detail += f" (the SDK sent {', '.join(nulls)} as null)"
    report.check(ok, sdk, label, "imgconform validate accepts the SDK's request as a server reads it", detail)


# --------------------------------------------------------------------------
# JD Cloud's documented JDCLOUD2 scheme
# --------------------------------------------------------------------------


def jdcloud2_signature(r: Request, secret: str, service: str) -> str:
    """JDCLOUD2-HMAC-SHA256 from shared/signing.md, independently of
    imgconform: the path signed as sent, the headers the request lists."""
    auth = r.authorization()
    signed = auth["signed_headers"]
    date_time = r.header("x-jdcloud-date")
    date = date_time[:8]
    region = auth["scope"].split("/")[1]
    query = "&".join(sorted(f"{quote(n, safe='~')}={quote(v, safe='~')}" for n, v in r.query_pairs()))
    headers = "".join(f"{h}:{(r.header(h) if h != 'host' else r.header('host') or r.authority).strip()}\n"
                      for h in signed)
    canonical = "\n".join([r.method, r.raw_path, query, headers, ";".join(signed),
                           hashlib.sha256(r.body.encode()).hexdigest()])
    scope = f"{date}/{region}/{service}/jdcloud2_request"
    to_sign = "\n".join(["JDCLOUD2-HMAC-SHA256", date_time, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = h(h(h(h(("JDCLOUD2" + secret).encode(), date), region), service), "jdcloud2_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check_jdcloud2(report: Report, tool: Imgconform, api: str, params: dict, endpoint: str,
                   where: str) -> None:
    label = "jdcloud2"
    try:
        signed = tool.sign("jdcloud", api, params, "jdcloud2", endpoint)
    except RuntimeError as e:
        report.check(False, label, where, "imgconform signs the documented scheme", str(e))
        return
    r = Request(signed)
    auth = r.authorization() or {}
    report.info(label, where, "JD's documented JDCLOUD2 scheme: no SDK sends it; checked against imgconform "
                            "verify and shared/signing.md only")
    rc, out = tool.verify("jdcloud", api, signed)
    report.check(rc == 0, label, where, "imgconform verify accepts imgconform's own JDCLOUD2 request",
                 None if rc == 0 else out.replace("\n", " | "))
    expected = jdcloud2_signature(r, CREDENTIALS["jdcloud"][1], load_spec(api)["service"])
    same = expected == auth.get("signature")
    report.check(same, label, where,
                 f"signature equals an independent recomputation from shared/signing.md "
                 f"(SignedHeaders {';'.join(auth.get('signed_headers', []))})",
                 None if same else f"recomputed {expected} vs imgconform {auth.get('signature')}")
    documented = ["host", "x-jdcloud-date", "x-jdcloud-nonce"]
    ok = auth.get("signed_headers") == documented
    report.check(ok, label, where, "signs the documented headers host;x-jdcloud-date;x-jdcloud-nonce",
                 None if ok else f"signs {';'.join(auth.get('signed_headers', []))}")
    rc, out = tool.verify("jdcloud", api, signed, secret=WRONG_SECRET)
    ok = rc == 1 and "signature rejected" in out
    report.check(ok, label, where, "imgconform verify rejects it under a wrong secret",
                 None if ok else f"exit {rc}: {out.replace(chr(10), ' | ')}")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def default_endpoint(tool: Imgconform, provider: str, api: str, params: dict, scheme: str) -> str:
    """imgconform's documented endpoint for the call, as https://host."""
    signed = tool.sign(provider, api, params, scheme, None)
    parts = urlsplit(signed["url"])
    return f"{parts.scheme}://{parts.netloc}"


def run(tool: Imgconform, only: set[str] | None, all_valid: bool = False) -> Report:
    report = Report()
    examples = cases_to_check(all_valid)
    if not examples:
        report.check(False, "-", "-", "documented examples found in cases/")
    inventory_done: set[tuple[str, str]] = set()
    for api, label, request in examples:
        provider = api.split("/")[0]
        spec = load_spec(api)
        for sdk in SDKS_OF[provider]:
            if only and sdk not in only:
                continue
            scheme = cap.SCHEME_OF[sdk]
            ak, sk = CREDENTIALS[provider]
            try:
                endpoint = default_endpoint(tool, provider, api, request, scheme)
            except RuntimeError as e:
                report.check(False, sdk, label, "imgconform signs the request", str(e))
                continue
            # The SDK's own default endpoint, for the record.
            try:
                natural = cap.capture(sdk, api, request, timestamp=TIMESTAMP, nonce=NONCE,
                                      access_key_id=ak, secret=sk, endpoint=None)
                nat = urlsplit(natural["capture"]["url"])
                if f"{nat.scheme}://{nat.netloc}" != endpoint:
                    report.info(sdk, label, f"the SDK's default endpoint is {nat.scheme}://{nat.netloc}, "
                                          f"imgconform's (the documented one) {endpoint}; both compared at {endpoint}")
            except cap.CaptureError as e:
                report.info(sdk, label, f"no capture at the SDK's default endpoint: {e}")
            try:
                got = cap.capture(sdk, api, request, timestamp=TIMESTAMP, nonce=NONCE,
                                  access_key_id=ak, secret=sk, endpoint=endpoint)
            except cap.CaptureError as e:
                report.check(False, sdk, label, "the SDK sends the request offline", str(e))
                continue
            report.check(True, sdk, label, "the SDK sends the request offline and parses the canned answer")
            for note in got["notes"]:
                report.info(sdk, label, note)
            if (sdk, api) not in inventory_done:
                inventory_done.add((sdk, api))
                fields = cap.model_fields(sdk, api)
                spec_names = [p["name"] for p in spec["parameters"]]
                missing = [n for n in spec_names if n not in fields]
                extra = [n for n in fields if n not in spec_names]
                if missing:
                    report.info(sdk, label, f"spec parameters the SDK's model lacks: {', '.join(missing)}")
                if extra:
                    report.info(sdk, label, f"SDK model fields the spec lacks: {', '.join(extra)}")
            params = got["effective_params"]
            try:
                ic = tool.sign(provider, api, params, scheme, endpoint)
            except RuntimeError as e:
                report.check(False, sdk, label, "imgconform signs the same parameters", str(e))
                continue
            sdk_req, ic_req = Request(got["capture"]), Request(ic)
            compare(report, tool, sdk, api, sdk_req, ic_req, params, label)
            check_server_side(report, tool, sdk, api, spec, sdk_req, params, label)
            can_fail_checks(report, tool, sdk, api, sdk_req, params, spec, label)
        if provider == "jdcloud" and (not only or "jdcloud2" in only or "jdcloud" in only):
            try:
                endpoint = default_endpoint(tool, provider, api, request, "jdcloud2")
            except RuntimeError as e:
                report.check(False, "jdcloud2", label, "imgconform signs the documented scheme", str(e))
                continue
            check_jdcloud2(report, tool, api, request, endpoint, label)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imgconform", type=Path,
                        help="the imgconform binary (default: cargo build it, then target/debug/imgconform)")
    parser.add_argument("--all-valid", action="store_true",
                        help="also cross-check every case expected valid, not only the documented examples")
    parser.add_argument("--only", action="append", choices=list(cap.SDKS) + ["jdcloud2"],
                        help="check only this SDK (repeatable)")
    args = parser.parse_args(argv)
    try:
        import alibabacloud_ecs20140526  # noqa: F401
        import aliyunsdkecs  # noqa: F401
        import jdcloud_sdk  # noqa: F401
        import tencentcloud.cvm  # noqa: F401
    except ImportError as e:
        print(f"crosscheck: the SDKs are not importable ({e}); run: bash .ci/sdk-venv && "
              f".venv-sdk/bin/python tests/sdk/crosscheck.py", file=sys.stderr)
        return 2
    binary = args.imgconform or build_imgconform()
    if not binary.exists():
        print(f"crosscheck: no imgconform binary at {binary}", file=sys.stderr)
        return 2
    report = run(Imgconform(binary), set(args.only) if args.only else None, args.all_valid)
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
