#!/usr/bin/env python3
"""imgconform SDK adapter: aliyun-python-sdk-ecs + aliyun-python-sdk-core
(AcsClient + ExportImageRequest, RPC signature v1, HMAC-SHA1).

Protocol: adapters/README.md. Run from the repository root:

    IMGCONFORM_ENDPOINT=http://127.0.0.1:PORT ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \\
        .venv-sdk/bin/python adapters/aliyun-python-legacy/adapter.py

Mapping: ``RegionId`` becomes the AcsClient's region (ExportImageRequest has
no set_RegionId; the client adds its region as RegionId to every RPC
request, so a request without RegionId goes out with the AcsClient default,
cn-hangzhou). Every other parameter ``X`` goes to the request's own setter
``set_X`` (a parameter without a setter is reported on stderr and not
sent; a null value means "not set": the setter is not called, since
``set_X(None)`` would send the text "None"). The AcsClient is made with
``auto_retry=False``: one request line, one request on the wire. The SDK
signs and sends; ``do_action_with_exception`` returns the body's bytes,
parsed here as JSON. Errors are aliyunsdkcore's ``ServerException`` (code,
message, request id, HTTP status) and ``ClientException`` (code, message).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapter_protocol import Adapter, Ok, SdkError, serve  # noqa: E402


class AliyunLegacyAdapter(Adapter):
    provider = "aliyun"
    distribution = "aliyun-python-sdk-ecs"
    apis = ("ExportImage",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        import aliyunsdkcore.vendored.requests.adapters as vendored_adapters
        from aliyunsdkcore.client import AcsClient  # noqa: F401

        self._clients: dict = {}
        # aliyunsdkcore sends through its own vendored copy of requests.
        self.transport.wrap(vendored_adapters.HTTPAdapter)
        self.transport.wrap_requests()

    def default_scheme(self):
        """``get_protocol_type()`` of a fresh ``ExportImageRequest``: the
        core's ``_default_protocol_type`` unless the caller sets one."""
        from aliyunsdkecs.request.v20140526.ExportImageRequest import ExportImageRequest

        return str(ExportImageRequest().get_protocol_type()).lower()

    def client(self, region):
        key = json.dumps(region)
        if key not in self._clients:
            from aliyunsdkcore.client import AcsClient

            kwargs = {"auto_retry": False}
            if region is not None:
                kwargs["region_id"] = region
            self._clients[key] = AcsClient(self.credentials.access_key_id, self.credentials.secret, **kwargs)
        return self._clients[key]

    def build_request(self, api: str, params: dict):
        import importlib

        from aliyunsdkcore.http import protocol_type

        name = f"{api}Request"
        module = importlib.import_module(f"aliyunsdkecs.request.v20140526.{name}")
        request = getattr(module, name)()
        region = None
        for key, value in params.items():
            if key == "RegionId":
                region = value
                continue
            setter = getattr(request, f"set_{key}", None)
            if setter is None or not callable(setter):
                self.notices.unknown_parameter(
                    api, key, f"{self.distribution}'s {name} has no set_{key}: not sent")
                continue
            if value is None:
                continue
            setter(value)
        request.set_endpoint(self.endpoint.authority)
        # HttpResponse compares with `is`: the constant itself, not an equal string.
        request.set_protocol_type(protocol_type.HTTPS if self.endpoint.scheme == "https" else protocol_type.HTTP)
        return region, request

    def call(self, api: str, params: dict):
        region, request = self.build_request(api, params)
        body = self.client(region).do_action_with_exception(request)
        if isinstance(body, (bytes, bytearray)):
            body = bytes(body).decode("utf-8")
        return Ok(json.loads(body))

    def error_of(self, exc):
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

        if isinstance(exc, ServerException):
            return SdkError(code=exc.get_error_code(), message=exc.get_error_msg(),
                            request_id=exc.get_request_id(), http_status=exc.get_http_status())
        if isinstance(exc, ClientException):
            return SdkError(code=exc.get_error_code(), message=exc.get_error_msg())
        return None


if __name__ == "__main__":
    sys.exit(serve(AliyunLegacyAdapter))
