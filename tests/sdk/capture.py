#!/usr/bin/env python3
"""Capture the exact HTTP request an official Python SDK sends, offline.

For one SDK, one API and one set of logical parameters (the shape of a
case's "request" in cases/<provider>/<Api>.json), this drives the SDK's own
client for that API with a fixed time, a fixed nonce and the given
credentials, and records the request at the bottom of its HTTP stack
(``requests``' ``HTTPAdapter.send``: the prepared request, after every
header, query and body byte is final) instead of sending it. The adapter
answers with a canned success in the provider's envelope, so the SDK parses
it as it would a real answer.

SDKs (``--sdk``):

- ``tencent``      tencentcloud-sdk-python-cvm, ``CvmClient.ExportImages`` (TC3-HMAC-SHA256)
- ``aliyun-acs3``  alibabacloud-ecs20140526, ``Client.export_image`` (ACS3-HMAC-SHA256)
- ``aliyun-v1``    aliyun-python-sdk-ecs, ``AcsClient`` + ``ExportImageRequest`` (signature v1, HMAC-SHA1)
- ``jdcloud``      jdcloud-sdk, ``VmClient`` + ``CreateImageRequest`` / ``ImportImageRequest`` /
                   ``ExportImageRequest`` (JDCLOUD3-HMAC-SHA256)

The capture is printed as the JSON ``imgconform sign --format json`` prints
(``method``, ``url``, ``headers`` as ``[name, value]`` pairs in the order
sent, ``body`` as text), so ``imgconform verify`` reads it as is::

    .venv-sdk/bin/python tests/sdk/capture.py --sdk tencent --api tencent/ExportImages \\
        params.json --time 1551113065 --nonce n1 --endpoint https://cvm.tencentcloudapi.com \\
        | imgconform verify --api tencent/ExportImages -

Credentials come from the same environment variables imgconform reads
(TENCENTCLOUD_SECRET_ID/_KEY, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET,
JDCLOUD_ACCESS_KEY/JDCLOUD_SECRET_KEY). ``--full`` prints instead an object
with the capture, the SDK's parsed answer, the parameters as the SDK's model
could express them, and notes on every adaptation made.

Nothing is sent over the network: a request that reaches a real socket is
impossible while the capture is active (the adapter never calls through).

``prepare`` builds the same client and request without patching anything,
for a run against a real server (tests/sdk/against_mock.py sends them to
``imgconform serve`` through each SDK's own transport).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _datetime
import inspect
import json
import os
import sys
import time as _time
from typing import Any, Callable
from urllib.parse import urlsplit

SDKS = ("tencent", "aliyun-acs3", "aliyun-v1", "jdcloud")

PROVIDER_OF = {
    "tencent": "tencent",
    "aliyun-acs3": "aliyun",
    "aliyun-v1": "aliyun",
    "jdcloud": "jdcloud",
}

# The imgconform --scheme each SDK signs with.
SCHEME_OF = {
    "tencent": "tc3",
    "aliyun-acs3": "acs3",
    "aliyun-v1": "aliyun-v1",
    "jdcloud": "jdcloud3",
}

CREDENTIAL_ENV = {
    "tencent": ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"),
    "aliyun": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    "jdcloud": ("JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY"),
}

CANNED_REQUEST_ID = "00000000-crosscheck-0000-000000000000"


class CaptureError(Exception):
    """The SDK could not be driven, or sent nothing, or sent twice."""


# --------------------------------------------------------------------------
# Frozen time and nonce
# --------------------------------------------------------------------------


class _FrozenTimeModule:
    """Stands in for the ``time`` module inside one SDK module."""

    def __init__(self, timestamp: int):
        self._t = timestamp

    def time(self) -> float:
        return float(self._t)

    def time_ns(self) -> int:
        return self._t * 1_000_000_000

    def gmtime(self, secs=None):
        return _time.gmtime(self._t if secs is None else secs)

    def localtime(self, secs=None):
        return _time.localtime(self._t if secs is None else secs)

    def __getattr__(self, name):
        return getattr(_time, name)


def _frozen_datetime_class(timestamp: int):
    """A ``datetime.datetime`` whose now/utcnow are the given time."""
    real = _datetime.datetime

    class FrozenDatetime(real):
        @classmethod
        def utcnow(cls):
            return real.fromtimestamp(timestamp, _datetime.timezone.utc).replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            at = real.fromtimestamp(timestamp, _datetime.timezone.utc)
            return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)

    return FrozenDatetime


class _FixedUuidModule:
    """Stands in for the ``uuid`` module: ``uuid4()`` is the given nonce."""

    def __init__(self, nonce: str):
        self._nonce = nonce

    def uuid4(self):
        nonce = self._nonce

        class _Fixed:
            hex = nonce

            def __str__(self):
                return nonce

        return _Fixed()

    def __getattr__(self, name):
        import uuid

        return getattr(uuid, name)


# --------------------------------------------------------------------------
# The transport: requests' HTTPAdapter.send, real and vendored
# --------------------------------------------------------------------------


def _canned_response(requests_module, prepared, status: int, body: dict):
    response = requests_module.models.Response()
    response.status_code = status
    response.reason = "OK" if status < 400 else "Error"
    response.headers = requests_module.structures.CaseInsensitiveDict(
        {
            "Content-Type": "application/json;charset=utf-8",
            "Content-Length": str(len(json.dumps(body).encode())),
            "x-acs-request-id": CANNED_REQUEST_ID,
            "x-jdcloud-request-id": CANNED_REQUEST_ID,
        }
    )
    response._content = json.dumps(body).encode("utf-8")
    response._content_consumed = True
    response.url = prepared.url
    response.request = prepared
    response.encoding = "utf-8"
    response.raw = None
    return response


def _body_text(body) -> str:
    if body is None:
        return ""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8")
    if isinstance(body, str):
        return body
    raise CaptureError(f"the SDK sent a body of type {type(body).__name__}")


class _Recorder:
    def __init__(self, answer: dict):
        self.answer = answer
        self.sent: list[dict] = []

    def adapter_send(self, requests_module) -> Callable:
        recorder = self

        def send(adapter, request, *args, **kwargs):
            headers = [(str(k), str(v)) for k, v in request.headers.items()]
            if not any(k.lower() == "host" for k, _ in headers):
                # http.client adds Host from the URL when the caller did not.
                headers.insert(0, ("Host", urlsplit(request.url).netloc))
            recorder.sent.append(
                {
                    "method": request.method,
                    "url": request.url,
                    "headers": headers,
                    "body": _body_text(request.body),
                }
            )
            return _canned_response(requests_module, request, 200, recorder.answer)

        return send


@contextlib.contextmanager
def _offline(answer: dict):
    """Every HTTP request through requests (and aliyunsdkcore's vendored
    copy) is recorded and answered with ``answer``; none reaches a socket."""
    import requests
    import requests.adapters

    import socket

    recorder = _Recorder(answer)

    def no_network(*args, **kwargs):
        raise CaptureError("the SDK tried to open a connection past the patched transport")

    stack = contextlib.ExitStack()
    with stack:
        # Belt and braces: a transport the patch below misses fails loudly.
        stack.enter_context(_patch(socket.socket, "connect", no_network))
        stack.enter_context(_patch(socket.socket, "connect_ex", no_network))
        stack.enter_context(_patch(socket, "create_connection", no_network))
        stack.enter_context(_patch(socket, "getaddrinfo", no_network))
        stack.enter_context(
            _patch(requests.adapters.HTTPAdapter, "send", recorder.adapter_send(requests))
        )
        try:
            import aliyunsdkcore.vendored.requests as vendored
            import aliyunsdkcore.vendored.requests.adapters  # noqa: F401
        except ImportError:
            vendored = None
        if vendored is not None:
            stack.enter_context(
                _patch(vendored.adapters.HTTPAdapter, "send", recorder.adapter_send(vendored))
            )
        yield recorder


@contextlib.contextmanager
def _patch(target, name: str, value):
    missing = object()
    old = target.__dict__.get(name, missing) if isinstance(target, type) else getattr(target, name, missing)
    setattr(target, name, value)
    try:
        yield
    finally:
        if old is missing:
            delattr(target, name)
        else:
            setattr(target, name, old)


# --------------------------------------------------------------------------
# Notes and parameter mapping
# --------------------------------------------------------------------------


class Notes:
    """INFO lines on how the logical parameters were fitted to the SDK."""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


class Prepared:
    """One SDK call, ready to send: built by an adapter, sent by ``capture``
    (offline) or by ``send`` (through the SDK's real transport).

    ``answer`` is the canned success ``capture`` gives the SDK; ``call()``
    sends and returns the parsed answer as a plain dict (the JD adapter
    raises ``CaptureError`` on an error answer); ``send()`` sends and returns
    the SDK's own response object, raising the SDK's own exceptions (JD
    returns its ``JDCloudResponse``, error included); ``patches`` freeze time
    and nonce for ``capture``; ``effective`` is the logical parameters as the
    SDK's model could express them."""

    def __init__(self, answer: dict, call: Callable, send: Callable, patches: list, effective: dict):
        self.answer = answer
        self.call = call
        self.send = send
        self.patches = patches
        self.effective = effective


def _split_host(endpoint: str | None) -> tuple[str | None, str | None]:
    """``https://host[:port]`` (or a bare host) → (scheme, authority)."""
    if not endpoint:
        return None, None
    if "://" not in endpoint:
        return None, endpoint.rstrip("/")
    parts = urlsplit(endpoint)
    return parts.scheme, parts.netloc


# --------------------------------------------------------------------------
# Tencent: tencentcloud-sdk-python-cvm
# --------------------------------------------------------------------------


def _tencent(api, params, ak, sk, endpoint, timestamp, nonce, notes):
    if api != "tencent/ExportImages":
        raise CaptureError(f"the tencent SDK adapter knows no {api}")
    import tencentcloud.common.abstract_client as abstract_client
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models

    rest = dict(params)
    region = rest.pop("Region", None)
    if region is None:
        notes.add("no Region: the client is made without one (no X-TC-Region)")
    request = models.ExportImagesRequest()
    # The SDK's own deserialiser, the one from_json_string uses; it ignores
    # (and warns about) fields its model lacks.
    known = {k[1:] for k in vars(request) if k.startswith("_")}
    for key in list(rest):
        if key not in known:
            notes.add(f"the SDK's ExportImagesRequest has no field {key}: left out on both sides")
            rest.pop(key)
    request._deserialize(json.loads(json.dumps(rest)))
    effective = dict(params)
    for key in list(effective):
        if key != "Region" and key not in rest:
            effective.pop(key)

    http_profile = HttpProfile()
    scheme, host = _split_host(endpoint)
    if host:
        http_profile.endpoint = host
    if scheme:
        http_profile.scheme = scheme
    http_profile.reqMethod = "POST"
    profile = ClientProfile(httpProfile=http_profile)
    client = cvm_client.CvmClient(credential.Credential(ak, sk), region, profile)
    answer = {
        "Response": {
            "TaskId": 1001,
            "CosPaths": ["cos://test-bucket-AppId/img-72n9mi0y.qcow2"],
            "RequestId": CANNED_REQUEST_ID,
        }
    }

    def send():
        return client.ExportImages(request)

    def call():
        return json.loads(send().to_json_string())

    patches = [
        (abstract_client, "time", _FrozenTimeModule(timestamp)),
        # Only the unsigned X-TC-TraceId comes from uuid4; fixed for repeatable captures.
        (abstract_client, "uuid", _FixedUuidModule("00000000-0000-4000-8000-000000000000")),
    ]
    return Prepared(answer, call, send, patches, effective)


# --------------------------------------------------------------------------
# Alibaba: alibabacloud-ecs20140526 (ACS3)
# --------------------------------------------------------------------------


def _aliyun_acs3(api, params, ak, sk, endpoint, timestamp, nonce, notes):
    if api != "aliyun/ExportImage":
        raise CaptureError(f"the aliyun-acs3 SDK adapter knows no {api}")
    import alibabacloud_tea_openapi.utils as openapi_utils
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import utils_models as open_api_models

    request = ecs_models.ExportImageRequest()
    # from_map reads the wire names (ImageId, OSSBucket, ...), as the
    # SDK's own deserialisation does; keys it does not know stay unset.
    request.from_map(dict(params))
    effective = {k: v for k, v in params.items() if k in request.to_map()}
    for key in params:
        if key not in effective:
            notes.add(f"the SDK's ExportImageRequest has no field {key}: left out on both sides")

    config = open_api_models.Config(
        access_key_id=ak,
        access_key_secret=sk,
        region_id=params.get("RegionId"),
    )
    scheme, host = _split_host(endpoint)
    if host:
        config.endpoint = host
    if scheme:
        config.protocol = scheme
    client = Client(config)
    answer = {"RequestId": CANNED_REQUEST_ID, "TaskId": "t-crosscheck0001", "RegionId": params.get("RegionId", "")}

    def send():
        return client.export_image(request)

    def call():
        return send().body.to_map()

    patches = [
        (openapi_utils, "datetime", _frozen_datetime_class(timestamp)),
        (openapi_utils.Utils, "get_nonce", staticmethod(lambda: nonce)),
    ]
    return Prepared(answer, call, send, patches, effective)


# --------------------------------------------------------------------------
# Alibaba: aliyun-python-sdk-ecs + aliyun-python-sdk-core (signature v1)
# --------------------------------------------------------------------------


def _aliyun_v1(api, params, ak, sk, endpoint, timestamp, nonce, notes):
    if api != "aliyun/ExportImage":
        raise CaptureError(f"the aliyun-v1 SDK adapter knows no {api}")
    import aliyunsdkcore.utils.parameter_helper as helper
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.ExportImageRequest import ExportImageRequest

    request = ExportImageRequest()
    region = params.get("RegionId")
    effective = {}
    for key, value in params.items():
        if key == "RegionId":
            # No setter: the client's region is sent as RegionId.
            effective[key] = value
            continue
        setter = getattr(request, f"set_{key}", None)
        if setter is None:
            notes.add(f"aliyunsdkecs ExportImageRequest has no set_{key}: left out on both sides")
            continue
        if value is None:
            # set_X(None) would send the text "None"; a null is an absent
            # parameter in RPC, as imgconform encodes it.
            notes.add(f"{key} is null: not set (RPC has no null; absent on both sides)")
            continue
        setter(value)
        effective[key] = value
    if region is not None:
        notes.add("RegionId goes to AcsClient(region_id=…): ExportImageRequest has no set_RegionId")
    scheme, host = _split_host(endpoint)
    if host:
        request.set_endpoint(host)
    if scheme:
        # HttpResponse tests `protocol is PT.HTTPS`: the constant itself, not an equal string.
        from aliyunsdkcore.http import protocol_type

        request.set_protocol_type(protocol_type.HTTPS if scheme == "https" else protocol_type.HTTP)
    client = AcsClient(ak, sk, region or "cn-hangzhou", auto_retry=False)
    answer = {"RequestId": CANNED_REQUEST_ID, "TaskId": "t-crosscheck0001", "RegionId": region or ""}

    def send():
        return client.do_action_with_exception(request)

    def call():
        return json.loads(send())

    patches = [
        (helper, "time", _FrozenTimeModule(timestamp)),
        (helper, "get_uuid", lambda: nonce),
    ]
    return Prepared(answer, call, send, patches, effective)


# --------------------------------------------------------------------------
# JD Cloud: jdcloud-sdk
# --------------------------------------------------------------------------

# Which SDK model a nested object of each API becomes, by logical path
# ("[]" marks the items of an array).
def _jd_nested_models():
    from jdcloud_sdk.services.charge.models.ChargeSpec import ChargeSpec
    from jdcloud_sdk.services.disk.models.DiskSpec import DiskSpec
    from jdcloud_sdk.services.vm.models.InstanceDiskAttachmentSpec import InstanceDiskAttachmentSpec

    models = {
        ("jdcloud/createImage", "dataDisks[]"): InstanceDiskAttachmentSpec,
        ("jdcloud/createImage", "dataDisks[].cloudDiskSpec"): DiskSpec,
        ("jdcloud/createImage", "dataDisks[].cloudDiskSpec.charge"): ChargeSpec,
    }
    with contextlib.suppress(ImportError):
        from jdcloud_sdk.services.vm.models.ImportImageDataDisk import ImportImageDataDisk

        models[("jdcloud/importImage", "dataDisks[]")] = ImportImageDataDisk
    return models


def _jd_model(cls, value: dict, api: str, path: str, notes: Notes, models) -> tuple[Any, dict]:
    """Builds ``cls`` from a logical object; returns the model and the
    logical object as the model could express it."""
    signature = inspect.signature(cls.__init__)
    names = [n for n in signature.parameters if n != "self"]
    kwargs: dict[str, Any] = {n: None for n in names}
    expressed: dict[str, Any] = {}
    for key, item in value.items():
        target = key if key in names else next((n for n in names if n.lower() == key.lower()), None)
        if target is None:
            notes.add(f"{path}.{key}: {cls.__name__} has no such field; left out on both sides")
            continue
        if target != key:
            notes.add(
                f"{path}.{key}: the SDK's {cls.__name__} has no {key}, only {target}; "
                f"sent as {target} on both sides"
            )
        child_path = f"{path}.{target}"
        kwargs[target], expressed[target] = _jd_value(item, api, child_path, notes, models)
    return cls(**kwargs), expressed


def _jd_value(value, api, path, notes, models):
    if isinstance(value, dict):
        cls = models.get((api, path))
        if cls is None:
            notes.add(f"{path}: no SDK model known; sent as a plain dict")
            return value, value
        return _jd_model(cls, value, api, path, notes, models)
    if isinstance(value, list):
        built = [_jd_value(v, api, f"{path}[]", notes, models) for v in value]
        return [b[0] for b in built], [b[1] for b in built]
    return value, value


JD_APIS = {
    "jdcloud/createImage": ("CreateImageRequest", "CreateImageParameters"),
    "jdcloud/importImage": ("ImportImageRequest", "ImportImageParameters"),
    "jdcloud/exportImage": ("ExportImageRequest", "ExportImageParameters"),
}


def _jdcloud(api, params, ak, sk, endpoint, timestamp, nonce, notes):
    if api not in JD_APIS:
        raise CaptureError(f"the jdcloud SDK adapter knows no {api}")
    import importlib

    import jdcloud_sdk.core.signer as jd_signer
    from jdcloud_sdk.core.config import Config
    from jdcloud_sdk.core.credential import Credential
    from jdcloud_sdk.services.vm.client.VmClient import VmClient

    request_name, parameters_name = JD_APIS[api]
    module = importlib.import_module(f"jdcloud_sdk.services.vm.apis.{request_name}")
    request_cls = getattr(module, request_name)
    parameters_cls = getattr(module, parameters_name)
    models = _jd_nested_models()

    required = [n for n in inspect.signature(parameters_cls.__init__).parameters if n != "self"]
    fields = list(vars(parameters_cls(*[None] * len(required))))
    effective: dict[str, Any] = {}
    sdk_values: dict[str, Any] = {}
    for key, value in params.items():
        target = key if key in fields else next((f for f in fields if f.lower() == key.lower()), None)
        if target is None:
            notes.add(f"{parameters_name} has no field {key}: left out on both sides")
            continue
        if target != key:
            notes.add(f"{key}: {parameters_name} has no {key}, only {target}; sent as {target} on both sides")
        sdk_values[target], effective[target] = _jd_value(value, api, target, notes, models)
    missing = [n for n in required if n not in sdk_values]
    if missing:
        raise CaptureError(f"{parameters_name} requires {', '.join(missing)}")
    parameters = parameters_cls(**{n: sdk_values[n] for n in required})
    for key, value in sdk_values.items():
        if key in required:
            continue
        setter = getattr(parameters, "set" + key[:1].upper() + key[1:], None)
        if setter is None:
            notes.add(f"{parameters_name} has no setter for {key}: set as an attribute")
            setattr(parameters, key, value)
            continue
        setter(value)

    scheme, host = _split_host(endpoint)
    config = Config(host or "vm.jdcloud-api.com", scheme=scheme or "https")
    client = VmClient(Credential(ak, sk), config)

    class _QuietLogger:
        def log(self, level, msg):
            pass

    # The client logs every request at INFO to stdout by default.
    client._JDCloudClient__logger = _QuietLogger()
    answers = {
        "jdcloud/createImage": {"imageId": "img-crosscheck"},
        "jdcloud/importImage": {"imageId": "img-crosscheck", "importTaskId": 1001},
        "jdcloud/exportImage": {"exportTaskId": 1001},
    }
    answer = {"requestId": CANNED_REQUEST_ID, "result": answers[api]}

    def send():
        return client.send(request_cls(parameters))

    def call():
        response = send()
        if response.error is not None:
            raise CaptureError(f"the SDK parsed the canned answer as an error: {vars(response.error)}")
        return {"requestId": response.request_id, "result": response.result}

    patches = [
        (jd_signer, "time", _FrozenTimeModule(timestamp)),
        (jd_signer, "uuid", _FixedUuidModule(nonce)),
    ]
    return Prepared(answer, call, send, patches, effective)


ADAPTERS = {
    "tencent": _tencent,
    "aliyun-acs3": _aliyun_acs3,
    "aliyun-v1": _aliyun_v1,
    "jdcloud": _jdcloud,
}


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def model_fields(sdk: str, api: str) -> list[str]:
    """The top-level logical parameters the SDK's model for ``api`` can
    express (path and region parameters included), by their wire names."""
    if sdk == "tencent":
        from tencentcloud.cvm.v20170312 import models

        request = getattr(models, api.split("/")[1] + "Request")()
        return ["Region"] + [k[1:] for k in vars(request) if k.startswith("_")]
    if sdk == "aliyun-acs3":
        from alibabacloud_ecs20140526 import models as ecs_models

        request = getattr(ecs_models, api.split("/")[1] + "Request")()
        for attr in vars(request):
            setattr(request, attr, "x")
        return list(request.to_map())
    if sdk == "aliyun-v1":
        import importlib

        name = api.split("/")[1] + "Request"
        module = importlib.import_module(f"aliyunsdkecs.request.v20140526.{name}")
        cls = getattr(module, name)
        return ["RegionId"] + [m[4:] for m in vars(cls) if m.startswith("set_")]
    if sdk == "jdcloud":
        import importlib

        request_name, parameters_name = JD_APIS[api]
        module = importlib.import_module(f"jdcloud_sdk.services.vm.apis.{request_name}")
        cls = getattr(module, parameters_name)
        required = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
        return list(vars(cls(*[None] * len(required))))
    raise CaptureError(f"unknown SDK {sdk!r}")


def prepare(
    sdk: str,
    api: str,
    params: dict,
    *,
    access_key_id: str,
    secret: str,
    endpoint: str | None = None,
) -> tuple[Prepared, list[str]]:
    """Builds ``sdk``'s client and request for ``api`` without patching
    anything: ``Prepared.send()`` then goes through the SDK's own transport,
    with real time and nonces (tests/sdk/against_mock.py uses it against
    ``imgconform serve``). Returns the prepared call and the notes on how
    the parameters were fitted to the SDK's model."""
    if sdk not in ADAPTERS:
        raise CaptureError(f"unknown SDK {sdk!r} (one of {', '.join(SDKS)})")
    notes = Notes()
    try:
        prepared = ADAPTERS[sdk](
            api, json.loads(json.dumps(params)), access_key_id, secret, endpoint, None, None, notes
        )
    except ImportError as e:
        raise CaptureError(f"{e} (run bash .ci/sdk-venv and use .venv-sdk/bin/python)") from e
    return prepared, notes.lines


def capture(
    sdk: str,
    api: str,
    params: dict,
    *,
    timestamp: int,
    nonce: str,
    access_key_id: str,
    secret: str,
    endpoint: str | None = None,
) -> dict:
    """Drives ``sdk``'s client for ``api`` offline.

    Returns ``{"capture": {method, url, headers, body}, "result": the SDK's
    parsed answer, "effective_params": the logical parameters as the SDK's
    model could express them, "notes": [INFO lines]}``.
    """
    if sdk not in ADAPTERS:
        raise CaptureError(f"unknown SDK {sdk!r} (one of {', '.join(SDKS)})")
    notes = Notes()
    try:
        prepared = ADAPTERS[sdk](
            api, json.loads(json.dumps(params)), access_key_id, secret, endpoint, timestamp, nonce, notes
        )
    except ImportError as e:
        raise CaptureError(f"{e} (run bash .ci/sdk-venv and use .venv-sdk/bin/python)") from e
    answer, call, patches, effective = prepared.answer, prepared.call, prepared.patches, prepared.effective
    with contextlib.ExitStack() as stack:
        recorder = stack.enter_context(_offline(answer))
        for target, name, value in patches:
            stack.enter_context(_patch(target, name, value))
        try:
            result = call()
        except Exception as e:  # the SDK's own exception types vary
            if recorder.sent:
                raise CaptureError(f"the SDK failed after sending: {type(e).__name__}: {e}") from e
            raise CaptureError(f"the SDK failed before sending: {type(e).__name__}: {e}") from e
    if len(recorder.sent) != 1:
        raise CaptureError(f"the SDK sent {len(recorder.sent)} requests, expected 1")
    return {
        "capture": recorder.sent[0],
        "result": result,
        "effective_params": effective,
        "notes": notes.lines,
    }


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdk", required=True, choices=SDKS)
    parser.add_argument("--api", required=True, help="PROVIDER/API, e.g. tencent/ExportImages")
    parser.add_argument("params", help="the logical parameters as a JSON object; - reads stdin")
    parser.add_argument("--time", type=int, required=True, help="signing time, Unix seconds")
    parser.add_argument("--nonce", required=True)
    parser.add_argument("--endpoint", help="base URL (https://host) instead of the SDK's default")
    parser.add_argument("--full", action="store_true", help="also print the parsed answer and notes")
    args = parser.parse_args(argv)

    text = sys.stdin.read() if args.params == "-" else open(args.params, encoding="utf-8").read()
    params = json.loads(text)
    id_var, secret_var = CREDENTIAL_ENV[PROVIDER_OF[args.sdk]]
    try:
        ak, sk = os.environ[id_var], os.environ[secret_var]
    except KeyError as e:
        print(f"capture: set {e.args[0]}", file=sys.stderr)
        return 2
    try:
        out = capture(
            args.sdk, args.api, params,
            timestamp=args.time, nonce=args.nonce,
            access_key_id=ak, secret=sk, endpoint=args.endpoint,
        )
    except CaptureError as e:
        print(f"capture: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out if args.full else out["capture"], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
