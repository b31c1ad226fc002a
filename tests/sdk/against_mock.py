#!/usr/bin/env python3
"""The official Python SDKs against imgconform's mock provider, over the
network: proof with independent clients that the mock speaks each
provider's protocol.

For each official SDK (tencentcloud-sdk-python-cvm; alibabacloud-ecs20140526,
ACS3; aliyun-python-sdk-ecs, signature v1; jdcloud-sdk) this starts a fresh
``imgconform serve`` on a free loopback port (the default world: the
resources the documented examples name exist), points the SDK's own client
at it over plain http with the test credentials ``serve`` prints, and sends
real requests through the SDK's own transport: real time, real nonces,
nothing patched. It checks that

1. each documented request example (cases/<provider>/<Api>.json, group
   ``example`` with a ``request``) succeeds: the SDK accepts the round trip
   and parses the answer (Tencent: ``TaskId`` an int, ``CosPaths`` a list;
   Alibaba: ``body.task_id``; JD: the ``result`` fields of the spec), and
   the request id it reports is the one the mock answered;
2. each negative case whose first expected violation has a documented code
   reaches the SDK as the SDK's own error type with that code
   (``TencentCloudSDKException.code``; the Alibaba ``ClientException`` /
   ``ServerException`` code; JD ``response.error.status``). A case the
   SDK's model cannot express (a field it lacks), or that the SDK changes
   on the way (the mock's journal shows what arrived), is INFO, not judged;
   so is a request the SDK refuses before sending (client-side validation);
3. a wrong secret gets the provider's signature error as the SDK's error
   type (JD ``UNAUTHENTICATED``/401, Alibaba ``SignatureDoesNotMatch``,
   Tencent ``AuthFailure.SignatureFailure``);
4. the mock's journal matched every request the SDK sent to the API it was
   meant for, verified the signature of every request signed with the test
   secret and rejected (``signature_mismatch``) those signed with a wrong
   one; its per-API counters are printed.

Sockets may only reach the loopback address (an audit hook refuses any
other connection; proxy variables are ignored). Output: ``PASS|FAIL|INFO
<sdk> <api>: <what>`` lines, then ``N passed, M failed``. Exit status 0 all
passed, 1 a check failed, 2 it could not run. About 5 seconds.

    bash .ci/sdk-venv && cargo build && .venv-sdk/bin/python tests/sdk/against_mock.py [IMGCONFORM]

The binary: the argument, else $IMGCONFORM_BIN, else target/debug/imgconform.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import capture as cap  # noqa: E402
from crosscheck import Report, _resolve, json_diff, short  # noqa: E402

SDKS_OF = {
    "tencent": ["tencent"],
    "aliyun": ["aliyun-acs3", "aliyun-v1"],
    "jdcloud": ["jdcloud"],
}
PROVIDERS = {sdk: provider for provider, sdks in SDKS_OF.items() for sdk in sdks}

# What `serve` accepts unless told otherwise (src/mock/service.rs
# test_credentials); the ones it prints are used when they can be read.
TEST_CREDENTIALS = {
    "jdcloud": ("IMGCONFORM-JD-AK", "imgconform-jd-test-secret"),
    "aliyun": ("IMGCONFORM-ALIYUN-AK", "imgconform-aliyun-test-secret"),
    "tencent": ("AKIDIMGCONFORMTENCENTTEST", "imgconform-tencent-test-secret"),
}
WRONG_SECRET = "imgconform-wrong-secret"

# The provider's answer to a signature made with a wrong secret.
SIGNATURE_ERROR = {
    "tencent": "AuthFailure.SignatureFailure",
    "aliyun": "SignatureDoesNotMatch",
    "jdcloud": "UNAUTHENTICATED",
}
# aliyunsdkcore renames SignatureDoesNotMatch to this when the server's
# message echoes a string to sign equal to the client's own (client.py
# _get_server_exception): the secret, not the request, is wrong.
V1_WRONG_SECRET_RENAMING = "InvalidAccessKeySecret"

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# --------------------------------------------------------------------------
# Loopback only
# --------------------------------------------------------------------------


class NonLoopbackConnection(RuntimeError):
    pass


def _is_loopback(host) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args) -> None:
    # Observes, does not patch: any socket the SDKs open must be loopback.
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise NonLoopbackConnection(f"refused a connection to {address[0]}: only loopback is allowed")
    elif event == "socket.getaddrinfo":
        if not _is_loopback(args[0]):
            raise NonLoopbackConnection(f"refused to resolve {args[0]!r}: only loopback is allowed")


def loopback_only() -> None:
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    sys.addaudithook(_audit)


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class ServerError(Exception):
    pass


class Server:
    """``imgconform serve --addr 127.0.0.1:0`` as a subprocess."""

    def __init__(self, binary: Path, world: Path | None = None):
        args = [str(binary), "serve", "--addr", "127.0.0.1:0"]
        if world is not None:
            args += ["--world", str(world)]
        env = {k: v for k, v in os.environ.items() if k != "IMGCONFORM_SPEC_DIR"}
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True, env=env)
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, args=(self.process.stderr, self.stderr), daemon=True).start()
        self.uri = None
        self.credentials = dict(TEST_CREDENTIALS)
        self.credentials_read: set[str] = set()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 15
        while True:
            try:
                line = self.lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise ServerError(f"imgconform serve printed no endpoint in 15 s; stderr: {''.join(self.stderr)[-500:]}")
            if line is None:
                self.process.wait(timeout=5)
                raise ServerError(f"imgconform serve exited {self.process.returncode}: "
                                  f"{''.join(self.stderr).strip()[-500:]}")
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.uri = match.group(1).rstrip("/")
            cred = re.match(r"\s+(\w+): \w+=(\S+) \w+=(\S+)\s*$", line)
            if cred and cred.group(1) in self.credentials:
                self.credentials[cred.group(1)] = (cred.group(2), cred.group(3))
                self.credentials_read.add(cred.group(1))
            if "Ctrl-C" in line:
                break
        if self.uri is None:
            self.kill()
            raise ServerError("imgconform serve printed no 'listening on' line")

    def _read(self, stream):
        for line in stream:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    @staticmethod
    def _drain(stream, into):
        for line in stream:
            into.append(line)

    @property
    def authority(self) -> str:
        return self.uri.split("://", 1)[1]

    def journal(self) -> dict:
        with self._opener.open(self.uri + "/__imgconform/journal", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> tuple[bool, str]:
        """SIGINT, as Ctrl-C; returns (stopped in time, what it printed after)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
                return False, "did not stop within 10 s of SIGINT (killed)"
        time.sleep(0.05)  # let the reader thread take the last lines
        text = "".join(self.output)
        return True, text[text.find("stopped;"):] if "stopped;" in text else text[-300:]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


def load_cases(provider: str) -> list[tuple[str, dict]]:
    out = []
    for path in sorted((REPO / "cases" / provider).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "api" in data:
            out.append((data["api"], data.get("cases", [])))
    return out


def documented_example(cases: list[dict]) -> dict | None:
    for case in cases:
        if case.get("group") == "example" and "request" in case:
            return json.loads(json.dumps(case["request"]))
    return None


def documented_negatives(cases: list[dict]) -> list[tuple[dict, dict, dict]]:
    """(case, logical request, first expected violation) of each case
    expected invalid whose first violation has a documented code."""
    by_id = {c.get("id"): c for c in cases}
    out = []
    for case in cases:
        expect = case.get("expect") or {}
        violations = expect.get("violations") or []
        if expect.get("valid") is not False or not violations or not violations[0].get("code"):
            continue
        request = _resolve(case, by_id)
        if request is not None:
            out.append((case, request, violations[0]))
    return out


def load_spec(api: str) -> dict:
    provider, name = api.split("/")
    return json.loads((REPO / "spec" / provider / f"{name}.json").read_text(encoding="utf-8"))


def drop_nulls(value):
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def fold_keys(value):
    """Keys lower-cased, recursively: JD's models accept a field in another
    case only under their own name, which the mock reads the same way."""
    if isinstance(value, dict):
        return {k.lower(): fold_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fold_keys(v) for v in value]
    return value


# --------------------------------------------------------------------------
# One SDK against one server
# --------------------------------------------------------------------------


class Run:
    def __init__(self, report: Report, server: Server, sdk: str):
        self.report = report
        self.server = server
        self.sdk = sdk
        self.provider = PROVIDERS[sdk]
        self.seen = 0
        # seq → (api, "right" | "wrong" secret, label)
        self.sent: dict[int, tuple[str, str, str]] = {}

    # -- plumbing --------------------------------------------------------

    def new_entries(self) -> list[dict]:
        journal = self.server.journal()
        entries = [e for e in journal["entries"] if e["seq"] > self.seen]
        self.seen = max([self.seen] + [e["seq"] for e in entries])
        return entries

    def send(self, api: str, params: dict, secret: str, label: str):
        """Sends through the SDK; returns (response or None, exception or None,
        the journal entries the call produced, notes, effective params)."""
        ak, sk = self.server.credentials[self.provider]
        prepared, notes = cap.prepare(self.sdk, api, params, access_key_id=ak,
                                      secret=sk if secret == "right" else WRONG_SECRET,
                                      endpoint=f"http://{self.server.authority}")
        response, error = None, None
        try:
            response = prepared.send()
        except NonLoopbackConnection:
            raise
        except Exception as e:  # each SDK has its own exception types
            error = e
        entries = self.new_entries()
        for entry in entries:
            self.sent[entry["seq"]] = (api, secret, label)
        return response, error, entries, notes, prepared.effective

    def info(self, api: str, text: str) -> None:
        self.report.info(self.sdk, api, text)

    def check(self, ok: bool, api: str, what: str, detail: str | None = None) -> bool:
        return self.report.check(ok, self.sdk, api, what, detail)

    # -- what the SDK made of an answer ----------------------------------

    def error_of(self, response, error):
        """(class name, code, HTTP status, request id) of the SDK's error
        report, or None when it reported success."""
        if self.sdk == "jdcloud":
            if error is not None:
                return type(error).__name__, None, None, None
            if response is not None and response.error is not None:
                e = response.error
                return "JDCloudResponse.error", e.status, e.code, response.request_id
            return None
        if error is None:
            return None
        name = f"{type(error).__module__.split('.')[0]}.{type(error).__name__}"
        if self.sdk == "tencent":
            from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

            if isinstance(error, TencentCloudSDKException):
                return name, error.code, None, error.requestId
        elif self.sdk == "aliyun-acs3":
            from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

            if isinstance(error, AlibabaCloudException):
                return name, error.code, error.status_code, error.request_id
        elif self.sdk == "aliyun-v1":
            from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

            if isinstance(error, ServerException):
                return name, error.get_error_code(), error.get_http_status(), error.get_request_id()
            if isinstance(error, ClientException):
                return name, error.get_error_code(), None, None
        return f"{name} (not the SDK's error type)", None, None, None

    def describe_success(self, response) -> str:
        try:
            if self.sdk == "tencent":
                return short(json.loads(response.to_json_string()), 120)
            if self.sdk == "aliyun-acs3":
                return short(response.body.to_map(), 120)
            if self.sdk == "aliyun-v1":
                return short(response.decode("utf-8", "replace"), 120)
            if self.sdk == "jdcloud":
                return short({"requestId": response.request_id, "result": response.result}, 120)
        except Exception as e:  # only for a message
            return f"<{type(e).__name__}: {e}>"
        return repr(response)

    @staticmethod
    def describe_entry(entries: list[dict]) -> str:
        if not entries:
            return "the mock received nothing"
        bits = []
        for e in entries:
            sig = e["signature"]
            verdict = sig.get("verdict")
            if verdict == "failed":
                verdict += f" ({sig.get('failure')})"
            bit = (f"mock #{e['seq']}: api {e['api']}, signature {verdict}, HTTP {e['http_status']}, "
                   f"code {e['code']}")
            if e.get("violations"):
                bit += f", violations {e['violations'][:3]}"
            if e.get("refusal"):
                bit += f", refusal {e['refusal']}"
            bits.append(bit)
        return "; ".join(bits)

    # -- 1. the documented example succeeds ------------------------------

    def valid_call(self, api: str, request: dict) -> None:
        label = "documented example"
        try:
            response, error, entries, notes, _ = self.send(api, request, "right", label)
        except cap.CaptureError as e:
            self.check(False, api, "the documented example can be built with the SDK", str(e))
            return
        for note in notes:
            self.info(api, note)
        entry = entries[-1] if entries else None
        failure = self.error_of(response, error)
        if failure is not None or error is not None:
            detail = f"{failure[0]} {failure[1]}" if failure else f"{type(error).__name__}: {error}"
            self.check(False, api, "the documented example succeeds through the SDK",
                       f"{detail} -- {self.describe_entry(entries)}")
            return
        if entry is None:
            self.check(False, api, "the documented example succeeds through the SDK",
                       "the SDK reported success but the mock received nothing")
            return
        problems, shown = self.parse_problems(api, request, response, entry)
        self.check(not problems, api, f"the documented example succeeds; the SDK parses the answer: {shown}",
                   "; ".join(problems) + f" -- {self.describe_entry(entries)}" if problems else None)

    def parse_problems(self, api, request, response, entry) -> tuple[list[str], str]:
        problems: list[str] = []
        request_id = entry["request_id"]
        if self.sdk == "tencent":
            task, paths, rid = response.TaskId, response.CosPaths, response.RequestId
            if not (isinstance(task, int) and not isinstance(task, bool)):
                problems.append(f"TaskId is {task!r}, not an int")
            if not (isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths)):
                problems.append(f"CosPaths is {paths!r}, not a list of strings")
            if rid != request_id:
                problems.append(f"RequestId {rid!r}, the mock answered {request_id!r}")
            return problems, f"TaskId={task!r} (int), CosPaths={paths!r}, RequestId matches"
        if self.sdk == "aliyun-acs3":
            body = response.body
            if response.status_code != 200:
                problems.append(f"status {response.status_code}")
            if not (isinstance(body.task_id, str) and body.task_id):
                problems.append(f"body.task_id is {body.task_id!r}")
            if body.request_id != request_id:
                problems.append(f"body.request_id {body.request_id!r}, the mock answered {request_id!r}")
            if body.region_id != request.get("RegionId"):
                problems.append(f"body.region_id {body.region_id!r}, asked {request.get('RegionId')!r}")
            return problems, (f"body.task_id={body.task_id!r}, body.region_id={body.region_id!r}, "
                              f"body.request_id matches")
        if self.sdk == "aliyun-v1":
            try:
                body = json.loads(response)
            except ValueError as e:
                return [f"the body is not JSON: {e}"], "?"
            if not (isinstance(body.get("TaskId"), str) and body["TaskId"]):
                problems.append(f"TaskId is {body.get('TaskId')!r}")
            if body.get("RequestId") != request_id:
                problems.append(f"RequestId {body.get('RequestId')!r}, the mock answered {request_id!r}")
            return problems, f"TaskId={body.get('TaskId')!r}, RequestId matches"
        # jdcloud: the SDK keeps `result` as a dict; the spec names its fields.
        result = response.result
        fields = [f["name"] for f in load_spec(api).get("response", {}).get("fields", [])]
        if response.request_id != request_id:
            problems.append(f"requestId {response.request_id!r}, the mock answered {request_id!r}")
        if not isinstance(result, dict):
            problems.append(f"result is {result!r}")
            result = {}
        for name in fields:
            if not (isinstance(result.get(name), str) and result.get(name)):
                problems.append(f"result.{name} is {result.get(name)!r}")
        shown = ", ".join(f"result.{n}={result.get(n)!r}" for n in fields)
        return problems, f"{shown}, requestId matches"

    # -- 2. a documented validation error --------------------------------

    def negative_call(self, api: str, case: dict, request: dict, first: dict) -> None:
        expected = first["code"]
        label = f"negative {case['id']}"
        try:
            prepared, notes = cap.prepare(self.sdk, api, request, access_key_id="-", secret="-",
                                          endpoint=f"http://{self.server.authority}")
        except cap.CaptureError as e:
            self.info(api, f"{label}: not sent, the SDK's model cannot express it ({e})")
            return
        effective = prepared.effective
        if fold_keys(drop_nulls(effective)) != fold_keys(drop_nulls(request)):
            lost = "; ".join(n for n in notes if "left out" in n or "no field" in n) or "; ".join(
                json_diff(drop_nulls(request), drop_nulls(effective)))
            self.info(api, f"{label}: not sent, the SDK's model cannot express it ({lost})")
            return
        if self.sdk == "aliyun-v1" and "RegionId" not in drop_nulls(request):
            self.info(api, f"{label}: not sent, aliyunsdkcore adds the client's region as RegionId to every "
                           f"request without one (RpcRequest, request.py); a request lacking it cannot be expressed")
            return
        response, error, entries, _, _ = self.send(api, request, "right", label)
        if not entries:
            what = f"{type(error).__name__}: {error}" if error is not None else "no error"
            self.info(api, f"{label}: the SDK refused it before sending (client-side validation present: "
                           f"{short(what, 160)})")
            return
        entry = entries[-1]
        arrived = drop_nulls(entry.get("params") or {})
        intended = drop_nulls(effective)
        if self.sdk == "aliyun-v1" or self.sdk == "aliyun-acs3":
            # The mock types query text by the spec; compare as text.
            arrived = {k: v if isinstance(v, str) else json.dumps(v) for k, v in arrived.items()}
            intended = {k: v if isinstance(v, str) else json.dumps(v) for k, v in intended.items()}
        if fold_keys(arrived) != fold_keys(intended):
            diff = [d.replace("only the SDK sends it", "only the mock received it")
                     .replace("only imgconform sends it", "only the case has it")
                     .replace("SDK ", "received ").replace("imgconform ", "case ")
                    for d in json_diff(arrived, intended)]
            got = self.error_of(response, error)
            self.info(api, f"{label}: not judged, the SDK changed the request on the way "
                           f"({short('; '.join(diff), 200)}); the mock answered {entry['code']}, "
                           f"the SDK reported {got[1] if got else 'success'}")
            return
        got = self.error_of(response, error)
        what = f"{label} ({first['path']} [{first['rule']}]) reaches the SDK as its error {expected}"
        if got is None:
            self.check(False, api, what,
                       f"the SDK raised nothing and returned {self.describe_success(response)} -- "
                       f"{self.describe_entry(entries)}")
            return
        kind, code, status, rid = got
        ok = (code == expected and "not the SDK's error type" not in kind and rid == entry["request_id"]
              and status in (None, entry["http_status"]))
        detail = None
        if not ok:
            detail = (f"the SDK reported {kind} code {code!r}"
                      + (f", HTTP {status} (the mock answered {entry['http_status']})" if status is not None else "")
                      + (f", request id {rid!r} vs the mock's {entry['request_id']!r}" if rid != entry["request_id"] else "")
                      + (f" ({short(str(error), 160)})" if error is not None else "")
                      + f" -- {self.describe_entry(entries)}")
        self.check(ok, api, f"{what}: {kind}" + (f" (HTTP {status})" if status is not None else ""), detail)

    # -- 3. a wrong secret -------------------------------------------------

    def wrong_secret_call(self, api: str, request: dict) -> None:
        expected = SIGNATURE_ERROR[self.provider]
        try:
            response, error, entries, _, _ = self.send(api, request, "wrong", "wrong secret")
        except cap.CaptureError as e:
            self.check(False, api, "a wrong secret: the request can be built", str(e))
            return
        entry = entries[-1] if entries else {}
        got = self.error_of(response, error)
        what = f"a wrong secret gets {expected} as the SDK's error"
        if got is None:
            self.check(False, api, what, f"the SDK raised nothing and returned {self.describe_success(response)} "
                                         f"-- {self.describe_entry(entries)}")
            return
        kind, code, status, rid = got
        accepted = {expected}
        if self.sdk == "aliyun-v1":
            accepted.add(V1_WRONG_SECRET_RENAMING)
        ok = (code in accepted and "not the SDK's error type" not in kind
              and entry.get("code") == expected and status in (None, entry.get("http_status")))
        if self.sdk == "jdcloud":
            ok = ok and status == 401
        if code == V1_WRONG_SECRET_RENAMING:
            what = (f"a wrong secret: the mock answers {entry.get('code')}, which aliyunsdkcore raises as "
                    f"{code} (the server's string to sign equals its own, so only the secret can be wrong)")
        detail = None
        if not ok:
            detail = (f"the SDK reported {kind} code {code!r}"
                      + (f", status {status}" if status is not None else "")
                      + (f" ({short(str(error) or repr(error), 160)})" if error is not None else "")
                      + f" -- {self.describe_entry(entries)}")
        self.check(ok, api, f"{what}: {kind} {code}" + (f" ({status})" if status is not None else ""), detail)

    # -- 4. the journal ----------------------------------------------------

    def journal_checks(self, apis: list[str]) -> dict:
        journal = self.server.journal()
        entries = {e["seq"]: e for e in journal["entries"]}
        for api in apis:
            mine = {seq: v for seq, v in self.sent.items() if v[0] == api}
            unmatched = [s for s in mine if entries.get(s, {}).get("api") != api]
            self.check(not unmatched and bool(mine), api,
                       f"the journal matched all {len(mine)} request(s) the SDK sent to {api}",
                       None if not unmatched else "; ".join(
                           f"#{s} ({mine[s][2]}) matched {entries.get(s, {}).get('api')!r}, "
                           f"{entries.get(s, {}).get('method')} {entries.get(s, {}).get('path')}"
                           for s in unmatched[:5]) + (" (none sent)" if not mine else ""))
            right = [s for s, v in mine.items() if v[1] == "right"]
            bad = [s for s in right if entries.get(s, {}).get("signature", {}).get("verdict") != "ok"]
            self.check(not bad, api, f"signature verdict ok for all {len(right)} request(s) signed with the test secret",
                       None if not bad else "; ".join(
                           f"#{s} ({mine[s][2]}): {short(entries.get(s, {}).get('signature'), 200)}" for s in bad[:5]))
            wrong = [s for s, v in mine.items() if v[1] == "wrong"]
            bad = [s for s in wrong if entries.get(s, {}).get("signature", {}).get("failure") != "signature_mismatch"]
            self.check(not bad and bool(wrong), api,
                       f"signature verdict failed (signature_mismatch) for the {len(wrong)} request(s) signed with a wrong secret",
                       None if not bad else "; ".join(
                           f"#{s}: {short(entries.get(s, {}).get('signature'), 200)}" for s in bad[:5]))
            counters = journal["by_api"].get(api)
            if counters:
                self.check(counters["requests"] == len(mine), api,
                           f"the journal counts {counters['requests']} request(s) for {api}",
                           None if counters["requests"] == len(mine) else f"the SDK sent {len(mine)}")
        strays = [e for e in journal["entries"] if e["seq"] not in self.sent]
        self.check(not strays, "-", "the journal holds no request the SDK did not send through a checked call",
                   None if not strays else self.describe_entry(strays[:3]))
        for api, c in sorted(journal["by_api"].items()):
            self.info(api, "journal counters: " + ", ".join(f"{k} {v}" for k, v in c.items()))
        return journal

    # -- diagnosis ---------------------------------------------------------

    def probe_content_type(self) -> str | None:
        """The Content-Type the mock answers this provider's requests with
        (one unsigned request, after the journal has been checked)."""
        headers = {
            "tencent": {"Content-Type": "application/json", "X-TC-Action": "ExportImages",
                        "X-TC-Version": "2017-03-12"},
        }.get(self.provider)
        if headers is None:
            return None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.server.uri + "/", data=b"{}", headers=headers, method="POST")
        try:
            with opener.open(request, timeout=10) as response:
                return response.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.headers.get("Content-Type")


def tencent_content_type_diagnosis(run: Run) -> None:
    """When the Tencent SDK took an error answer for a success, says why."""
    content_type = run.probe_content_type()
    if content_type is None:
        return
    try:
        import tencentcloud.common.abstract_client as abstract_client

        wanted = getattr(abstract_client, "_json_content", "application/json")
    except ImportError:
        wanted = "application/json"
    if content_type.strip() not in ("text/plain", wanted):
        run.info("tencent/ExportImages",
                 f"diagnosis: the mock answers Tencent with Content-Type {content_type!r}; "
                 f"tencentcloud-sdk-python-common's AbstractClient._check_error reads Response.Error only when "
                 f"the Content-Type is exactly {wanted!r} or 'text/plain', so every error answer is "
                 f"deserialised as a success with empty fields")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def run_sdk(report: Report, binary: Path, sdk: str) -> None:
    provider = PROVIDERS[sdk]
    try:
        server = Server(binary)
    except ServerError as e:
        report.check(False, sdk, "-", "imgconform serve starts", str(e))
        return
    try:
        run_server_checks(report, server, sdk, provider)
    except NonLoopbackConnection:
        raise
    except Exception as e:  # a broken run is a failure, and the server still stops
        report.check(False, sdk, "-", "the run completes", f"{type(e).__name__}: {e}")
    finally:
        stopped, said = server.stop()
    report.check(stopped and "stopped; journal:" in said, sdk, "-",
                 "imgconform serve stops on SIGINT with a journal summary",
                 None if stopped and "stopped; journal:" in said else said)


def run_server_checks(report: Report, server: Server, sdk: str, provider: str) -> None:
    if provider not in server.credentials_read:
        report.info(sdk, "-", f"could not read the {provider} test credentials from serve's banner; "
                              f"using the documented ones")
    report.info(sdk, "-", f"a fresh imgconform serve at {server.uri} (default world)")
    run = Run(report, server, sdk)
    apis = []
    for api, cases in load_cases(provider):
        apis.append(api)
        example = documented_example(cases)
        if example is None:
            report.check(False, sdk, api, "a documented request example exists in cases/")
            continue
        # The example first, while the world is as the documents describe it.
        run.valid_call(api, example)
        run.wrong_secret_call(api, example)
        for case, request, first in documented_negatives(cases):
            run.negative_call(api, case, request, first)
    run.journal_checks(apis)
    if sdk == "tencent":
        tencent_content_type_diagnosis(run)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("imgconform", nargs="?", type=Path,
                        help="the imgconform binary (default: $IMGCONFORM_BIN, else target/debug/imgconform)")
    parser.add_argument("--only", action="append", choices=list(cap.SDKS), help="check only this SDK (repeatable)")
    args = parser.parse_args(argv)
    binary = args.imgconform or Path(os.environ.get("IMGCONFORM_BIN") or REPO / "target" / "debug" / "imgconform")
    if not binary.is_absolute():
        binary = Path.cwd() / binary
    if not binary.exists():
        print(f"against_mock: no imgconform binary at {binary} (cargo build, or pass its path)", file=sys.stderr)
        return 2
    try:
        import alibabacloud_ecs20140526  # noqa: F401
        import aliyunsdkecs  # noqa: F401
        import jdcloud_sdk  # noqa: F401
        import tencentcloud.cvm  # noqa: F401
    except ImportError as e:
        print(f"against_mock: the SDKs are not importable ({e}); run: bash .ci/sdk-venv && "
              f".venv-sdk/bin/python tests/sdk/against_mock.py", file=sys.stderr)
        return 2
    loopback_only()
    # SIGTERM ends the run through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    report = Report()
    for sdk in cap.SDKS:
        if args.only and sdk not in args.only:
            continue
        try:
            run_sdk(report, binary, sdk)
        except NonLoopbackConnection as e:
            report.check(False, sdk, "-", "the SDK talks to the loopback mock only", str(e))
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
