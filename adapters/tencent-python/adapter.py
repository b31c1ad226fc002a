#!/usr/bin/env python3
"""imgconform SDK adapter: tencentcloud-sdk-python-cvm (CvmClient.ExportImages, TC3-HMAC-SHA256).

Protocol: adapters/README.md. Run from the repository root:

    IMGCONFORM_ENDPOINT=http://127.0.0.1:PORT TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \\
        .venv-sdk/bin/python adapters/tencent-python/adapter.py

Mapping: ``Region`` becomes the client's region (the SDK sends it as the
X-TC-Region header; no Region, no header); every other parameter goes
through the SDK's own deserialiser, ``ExportImagesRequest().from_json_string``,
which keeps the fields its model has and ignores the rest (those are
reported on stderr). The SDK serialises and signs the request; the answer is
the response model's ``to_json_string()`` parsed, so ``TaskId`` is the
integer the SDK holds. Errors are ``TencentCloudSDKException`` (code,
message, requestId); it carries no HTTP status, so the one the transport saw
is reported.

The SDK sends ``POST`` with a JSON body unless told otherwise:
``IMGCONFORM_TENCENT_REQ_METHOD=GET`` sets ``HttpProfile.reqMethod = "GET"``,
the SDK's other request form (parameters in the query, arrays as ``Name.0``,
``Name.1``; TC3 over that query and an empty payload).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapter_protocol import Adapter, Ok, SdkError, serve  # noqa: E402

#: The environment variable that chooses the SDK's request method, and the
#: methods the SDK offers (``HttpProfile.reqMethod``).
REQ_METHOD_VARIABLE = "IMGCONFORM_TENCENT_REQ_METHOD"
REQ_METHODS = ("POST", "GET")


def req_method() -> str:
    """The request method the SDK is configured with: POST unless
    ``IMGCONFORM_TENCENT_REQ_METHOD`` names another the SDK offers."""
    method = (os.environ.get(REQ_METHOD_VARIABLE) or "POST").strip().upper()
    if method not in REQ_METHODS:
        raise ValueError(f"{REQ_METHOD_VARIABLE} must be one of {', '.join(REQ_METHODS)}, "
                         f"not {os.environ.get(REQ_METHOD_VARIABLE)!r}")
    return method


class TencentAdapter(Adapter):
    provider = "tencent"
    distribution = "tencentcloud-sdk-python-cvm"
    apis = ("ExportImages",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from tencentcloud.cvm.v20170312 import cvm_client, models  # noqa: F401

        self._clients: dict = {}
        self.req_method = req_method()
        self.transport.wrap_requests()

    # -- the client, one per region -------------------------------------

    def client(self, region):
        key = json.dumps(region)
        if key not in self._clients:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.cvm.v20170312 import cvm_client

            http_profile = HttpProfile()
            http_profile.endpoint = self.endpoint.authority
            http_profile.scheme = self.endpoint.scheme
            http_profile.reqMethod = self.req_method
            profile = ClientProfile(httpProfile=http_profile)
            cred = credential.Credential(self.credentials.access_key_id, self.credentials.secret)
            self._clients[key] = cvm_client.CvmClient(cred, region, profile)
        return self._clients[key]

    # -- the request -----------------------------------------------------

    @staticmethod
    def model_fields(request) -> set:
        """The fields of a request model, by wire name (``_BucketName`` →
        ``BucketName``)."""
        return {name[1:] for name in vars(request) if name.startswith("_") and name != "_headers"}

    def build_request(self, api: str, params: dict):
        """(client region, the SDK's request model) for ``params``."""
        from tencentcloud.cvm.v20170312 import models

        rest = dict(params)
        region = rest.pop("Region", None)
        request = getattr(models, f"{api}Request")()
        known = self.model_fields(request)
        for key in rest:
            if key not in known:
                self.notices.unknown_parameter(
                    api, key, f"{self.distribution}'s {api}Request has no field {key}: "
                              f"its from_json_string ignores it, not sent")
        # The SDK's own warning ("... fileds are useless") goes to stderr
        # as the SDK writes it, beside the unknown_parameter line.
        request.from_json_string(json.dumps(rest))
        return region, request

    def default_scheme(self):
        """``HttpProfile().scheme``: what a client made without an
        ``HttpProfile`` of its own uses."""
        from tencentcloud.common.profile.http_profile import HttpProfile

        return HttpProfile().scheme

    def send(self, api: str, region, request):
        return getattr(self.client(region), api)(request)

    def call(self, api: str, params: dict):
        region, request = self.build_request(api, params)
        response = self.send(api, region, request)
        return Ok(json.loads(response.to_json_string()))

    # -- errors ------------------------------------------------------------

    def error_of(self, exc):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        if isinstance(exc, TencentCloudSDKException):
            return SdkError(code=exc.code, message=exc.message, request_id=exc.requestId, http_status=None)
        return None


if __name__ == "__main__":
    sys.exit(serve(TencentAdapter))
