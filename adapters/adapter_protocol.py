"""The imgconform SDK-adapter protocol, for adapters written in Python.

An adapter drives one official SDK for the harness (adapters/README.md has
the protocol): it prints a ready line, then reads one JSON request per line
on stdin and answers each with exactly one JSON line on stdout, ``ok`` with
the SDK's parsed result or ``error`` with the SDK's error, until EOF.

This module is the SDK-independent part: the stdin/stdout loop, the request
envelope checks, turning any exception into an error line, the parameters
the SDK's model lacks (named in the answer line of the request that carried
them, and once on stderr for people), and a read-only look at the SDK's
HTTP transport (did anything go out for this request, with which HTTP
status did it come back). Each adapter subclasses ``Adapter`` with the
SDK-specific part (building the SDK's request from the wire-named
parameters, calling the SDK, reading the SDK's answer and error types) and
calls ``serve(TheAdapter)``.

Nothing but protocol lines reaches stdout: file descriptor 1 is moved to
stderr when ``serve`` starts, so a ``print`` or a log handler inside an SDK
writes to stderr; the protocol lines go to a private duplicate of the
original stdout.
"""

from __future__ import annotations

import importlib.metadata
import ipaddress
import json
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

CREDENTIAL_ENV = {
    "tencent": ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"),
    "aliyun": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    "jdcloud": ("JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY"),
}

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# --------------------------------------------------------------------------
# What an adapter gets and returns
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """``IMGCONFORM_ENDPOINT`` taken apart: ``http://127.0.0.1:41234`` →
    scheme ``http``, authority ``127.0.0.1:41234``, host ``127.0.0.1``."""

    url: str
    scheme: str
    authority: str
    host: str
    port: int | None

    @classmethod
    def parse(cls, url: str) -> "Endpoint":
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"IMGCONFORM_ENDPOINT must be an http(s) base URL, got {url!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"IMGCONFORM_ENDPOINT must be a base URL without a path, got {url!r}")
        return cls(url=f"{parts.scheme}://{parts.netloc}", scheme=parts.scheme, authority=parts.netloc,
                   host=parts.hostname or "", port=parts.port)

    @property
    def is_loopback(self) -> bool:
        return _is_loopback(self.host)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret: str

    def __repr__(self) -> str:  # never print a secret, not even a test one
        return f"Credentials(access_key_id={self.access_key_id!r}, secret=<hidden>)"


@dataclass
class Ok:
    """The SDK reported success; ``value`` is its parsed result as JSON."""

    value: Any


@dataclass
class SdkError:
    """The SDK reported an error in its own terms (its exception, or an
    error object in its response)."""

    code: Any
    message: Any
    request_id: Any = None
    http_status: Any = None


class Notices:
    """Diagnostics on stderr, each at most once per process, and the
    parameters the current request carries that the SDK's model has no
    field for.

    ``unknown_parameter(api, path, message)`` is called for each such
    parameter (the adapter leaves it out; the SDK never sees it): its exact
    path goes into this request's answer line, ``"unknown_parameters":
    [PATH, ...]``, which is what a harness reads; and the first time, one
    JSON line ``{"unknown_parameter": PATH, "api": API, "message": TEXT}``
    goes to stderr, for people."""

    def __init__(self, stream=None):
        self._stream = stream
        self._seen: set = set()
        self._request: list = []

    @property
    def stream(self):
        return self._stream or sys.stderr

    def begin(self) -> None:
        """A new request: no parameter of it reported yet."""
        self._request = []

    def this_request(self) -> list:
        """The paths reported for the current request, in order, each once."""
        return list(self._request)

    def unknown_parameter(self, api: str, path: str, message: str) -> None:
        if path not in self._request:
            self._request.append(path)
        key = ("unknown_parameter", api, path)
        if key in self._seen:
            return
        self._seen.add(key)
        self.line({"unknown_parameter": path, "api": api, "message": message})

    def line(self, obj: dict) -> None:
        self.stream.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.stream.flush()

    def log(self, text: str) -> None:
        self.stream.write(text.rstrip("\n") + "\n")
        self.stream.flush()


class Adapter:
    """One SDK. Subclasses set the class attributes and implement ``call``
    and ``error_of``."""

    #: "tencent" | "aliyun" | "jdcloud"
    provider: str = ""
    #: the distribution (package) name of the SDK under test, for the ready line
    distribution: str = ""
    #: the API names this adapter serves, as the harness names them ("ExportImages")
    apis: tuple = ()

    def __init__(self, endpoint: Endpoint, credentials: Credentials, notices: Notices, transport: "Transport"):
        self.endpoint = endpoint
        self.credentials = credentials
        self.notices = notices
        self.transport = transport

    def sdk_version(self) -> str:
        return importlib.metadata.version(self.distribution)

    def call(self, api: str, params: dict) -> Ok | SdkError:
        """Builds the SDK's request from ``params`` (wire names), sends it
        through the SDK and returns what the SDK reported. May raise: an
        exception is passed to ``error_of``."""
        raise NotImplementedError

    def error_of(self, exc: BaseException) -> SdkError | None:
        """The SDK's error type as an ``SdkError``; None for any other
        exception (it becomes an error line with code null)."""
        return None

    def default_scheme(self) -> str | None:
        """The scheme ("https" or "http") the SDK's client uses when the
        caller names none, read from the SDK's own defaults (never written
        by hand); None when the adapter cannot tell. Sent in the ready
        line as ``default_scheme``."""
        return None

    def log_files(self) -> list:
        """Paths (relative to the repository root) of the log files the SDK
        writes, sent in the ready line as ``log_files`` when not empty: the
        harness scans them for the secret after every call."""
        return []


# --------------------------------------------------------------------------
# The SDK's HTTP transport, observed (and, for planted-bug tests, altered)
# --------------------------------------------------------------------------


class Transport:
    """Wraps ``send`` of the given ``requests`` ``HTTPAdapter`` classes (the
    bottom of every Python SDK's HTTP stack here: requests itself and
    aliyunsdkcore's vendored copy) with a pass-through that counts the
    requests that went out and records the status of each answer. It changes
    nothing: the prepared request is sent as the SDK made it.

    ``before_send`` hooks run on the final prepared request just before it
    goes out; the shipped adapters install none (the planted-bug test
    adapters under tests/adapters/ use one)."""

    def __init__(self):
        self.attempts = 0
        self.statuses: list[int] = []
        self.before_send: list[Callable[[Any], None]] = []
        self._wrapped: set = set()

    def wrap(self, adapter_class) -> None:
        if adapter_class in self._wrapped:
            return
        self._wrapped.add(adapter_class)
        original = adapter_class.send
        transport = self

        def send(adapter, request, *args, **kwargs):
            for hook in transport.before_send:
                hook(request)
            transport.attempts += 1
            response = original(adapter, request, *args, **kwargs)
            status = getattr(response, "status_code", None)
            if isinstance(status, int):
                transport.statuses.append(status)
            return response

        send.__wrapped__ = original
        adapter_class.send = send

    def wrap_requests(self) -> None:
        import requests.adapters

        self.wrap(requests.adapters.HTTPAdapter)

    def begin(self) -> None:
        self.attempts = 0
        self.statuses = []

    @property
    def last_status(self) -> int | None:
        return self.statuses[-1] if self.statuses else None


# --------------------------------------------------------------------------
# Loopback only (when the endpoint is loopback)
# --------------------------------------------------------------------------


def _is_loopback(host) -> bool:
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


class NonLoopbackConnection(OSError):
    pass


def _loopback_audit(event: str, args) -> None:
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and args[0].family in (socket.AF_INET, socket.AF_INET6) \
                and not _is_loopback(address[0]):
            raise NonLoopbackConnection(f"adapter: refused a connection to {address[0]}: the endpoint is loopback")
    elif event == "socket.getaddrinfo":
        if args[0] is not None and not _is_loopback(args[0]):
            raise NonLoopbackConnection(f"adapter: refused to resolve {args[0]!r}: the endpoint is loopback")


def loopback_only() -> None:
    """Proxy variables ignored, and any socket to a non-loopback address
    refused: against the mock, an SDK must not reach anything else (a
    credential chain probing a metadata service, a default endpoint)."""
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    sys.addaudithook(_loopback_audit)


# --------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------


class Protocol:
    def __init__(self, adapter: Adapter, out, notices: Notices):
        self.adapter = adapter
        self.out = out
        self.notices = notices

    def write(self, obj: dict) -> None:
        try:
            text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            text = json.dumps(_error_line(obj.get("id"), None, f"adapter: the SDK's result is not JSON: "
                                          f"{type(e).__name__}: {e}", None, None, False), ensure_ascii=False)
        # Written as the SDK reported it: the harness scans every line for
        # the secret (a "secret leak" finding), so nothing is rewritten here.
        self.out.write(text + "\n")
        self.out.flush()

    def handle(self, raw: bytes) -> dict | None:
        """One stdin line → the line to print (None for a blank line)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return _bad(None, f"the line is not UTF-8 ({e})")
        if not text.strip():
            return None
        try:
            request = json.loads(text)
        except ValueError as e:
            return _bad(None, f"the line is not JSON ({e})")
        if not isinstance(request, dict):
            return _bad(None, f"the line is not a JSON object but {type(request).__name__}")
        rid = request.get("id")
        if not isinstance(rid, str):
            return _bad(rid if isinstance(rid, (int, float)) and not isinstance(rid, bool) else None,
                        f"id must be a string, got {json.dumps(rid)}")
        provider = request.get("provider")
        if provider != self.adapter.provider:
            return _bad(rid, f"this adapter speaks provider {self.adapter.provider!r}, not {provider!r}")
        api = request.get("api")
        if isinstance(api, str) and api.startswith(provider + "/"):
            api = api[len(provider) + 1:]
        if api not in self.adapter.apis:
            return _bad(rid, f"this adapter knows no api {api!r} (it serves {', '.join(self.adapter.apis)})")
        params = request.get("params")
        if not isinstance(params, dict):
            return _bad(rid, f"params must be a JSON object, got {json.dumps(params)[:80]}")
        return self.call(rid, api, params)

    def call(self, rid: str, api: str, params: dict) -> dict:
        line = self._call(rid, api, params)
        unknown = self.notices.this_request()
        if unknown:
            line["unknown_parameters"] = unknown
        return line

    def _call(self, rid: str, api: str, params: dict) -> dict:
        transport = self.adapter.transport
        transport.begin()
        self.notices.begin()
        try:
            outcome = self.adapter.call(api, json.loads(json.dumps(params)))
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # never let one escape: the SDKs raise anything
            try:
                outcome = self.adapter.error_of(e)
            except Exception as inner:
                self.notices.log(f"adapter: error_of failed on {type(e).__name__}: {inner!r}")
                outcome = None
            if outcome is None:
                outcome = SdkError(code=None, message=f"{type(e).__name__}: {e}")
        if isinstance(outcome, Ok):
            return {"id": rid, "ok": outcome.value}
        status = outcome.http_status
        if status is None and transport.attempts:
            # The SDK's error does not carry it: the status the transport saw.
            status = transport.last_status
        return _error_line(rid, _code(outcome.code), _text(outcome.message), _text_or_none(outcome.request_id),
                           _int_or_none(status), transport.attempts == 0)


def _error_line(rid, code, message, request_id, http_status, client_side) -> dict:
    return {"id": rid, "error": {"code": code, "message": message, "request_id": request_id,
                                 "http_status": http_status, "client_side": client_side}}


def _bad(rid, why: str) -> dict:
    """A line the adapter could not take as a request: nothing was sent."""
    return _error_line(rid, None, f"adapter: invalid request line: {why}", None, None, True)


def _text(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _text_or_none(value):
    return None if value in (None, "") else _text(value)


def _code(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return _text(value)
    return str(value)


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _take_stdout():
    """A private duplicate of stdout for the protocol; fd 1 and sys.stdout
    then point at stderr, so nothing else can reach the protocol stream."""
    fd = os.dup(1)
    out = os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def serve(adapter_class: type) -> int:
    """Runs the protocol with ``adapter_class`` until EOF on stdin; returns
    the exit status (0 at EOF, 2 when it could not start)."""
    out = _take_stdout()
    notices = Notices()
    provider = adapter_class.provider
    try:
        endpoint = Endpoint.parse(os.environ.get("IMGCONFORM_ENDPOINT") or "")
    except ValueError as e:
        notices.log(f"adapter: {e}")
        return 2
    id_var, secret_var = CREDENTIAL_ENV[provider]
    missing = [v for v in (id_var, secret_var) if not os.environ.get(v)]
    if missing:
        notices.log(f"adapter: set {' and '.join(missing)} (the {provider} test credentials)")
        return 2
    credentials = Credentials(os.environ[id_var], os.environ[secret_var])
    if endpoint.is_loopback:
        loopback_only()
    transport = Transport()
    try:
        adapter = adapter_class(endpoint, credentials, notices, transport)
        version = adapter.sdk_version()
    except Exception as e:
        notices.log(f"adapter: could not start the {adapter_class.distribution} adapter: {type(e).__name__}: {e}")
        return 2
    protocol = Protocol(adapter, out, notices)
    ready = {"ready": True, "sdk": f"{adapter.distribution} {version}", "provider": provider}
    try:
        scheme = adapter.default_scheme()
    except Exception as e:  # the SDK's defaults could not be read: say so, send none
        notices.log(f"adapter: could not read the SDK's default scheme: {type(e).__name__}: {e}")
        scheme = None
    if scheme is not None:
        ready["default_scheme"] = scheme
    logs = adapter.log_files()
    if logs:
        ready["log_files"] = list(logs)
    protocol.write(ready)
    stdin = sys.stdin.buffer
    try:
        while True:
            raw = stdin.readline()
            if not raw:
                break
            try:
                line = protocol.handle(raw)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # a bug of the adapter itself: still one line
                line = _error_line(None, None, f"adapter: internal error: {type(e).__name__}: {e}",
                                   None, None, True)
            if line is not None:
                protocol.write(line)
    except KeyboardInterrupt:
        notices.log("adapter: interrupted")
        return 130
    out.flush()
    return 0


def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
