#!/usr/bin/env python3
"""imgconform SDK adapter: alibabacloud-ecs20140526 (Client.export_image, ACS3-HMAC-SHA256).

Protocol: adapters/README.md. Run from the repository root:

    IMGCONFORM_ENDPOINT=http://127.0.0.1:PORT ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \\
        .venv-sdk/bin/python adapters/aliyun-python/adapter.py

Mapping: the whole of ``params`` goes through the tea model's own
deserialiser, ``ExportImageRequest().from_map(params)``, which reads the
wire names (``RegionId`` included: it is a field of the request model) and
ignores the rest (those are reported on stderr). The SDK builds the RPC
query, signs it and parses the answer; the result is ``body.to_map()``.
Errors are the SDK's ``AlibabaCloudException`` family (ClientException for
4xx, ServerException for 5xx, ThrottlingException), with code, message,
request_id and status_code; anything else the tea runtime raises (a network
failure: UnretryableException) has a code and message too.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapter_protocol import Adapter, Ok, SdkError, serve  # noqa: E402


class AliyunAcs3Adapter(Adapter):
    provider = "aliyun"
    distribution = "alibabacloud-ecs20140526"
    apis = ("ExportImage",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from alibabacloud_ecs20140526.client import Client
        from alibabacloud_tea_openapi import utils_models as open_api_models

        config = open_api_models.Config(
            access_key_id=self.credentials.access_key_id,
            access_key_secret=self.credentials.secret,
            endpoint=self.endpoint.authority,
            protocol=self.endpoint.scheme,
        )
        self.client = Client(config)
        self.transport.wrap_requests()

    def default_scheme(self):
        """What a client configured without ``protocol`` uses: the SDK
        computes ``self._protocol or protocol`` from the API's own
        ``Params(protocol=...)`` in ``export_image_with_options``. Read by
        calling it on a client made without endpoint or protocol, with
        ``call_api`` replaced by one that records its arguments and stops:
        nothing is sent."""
        from alibabacloud_ecs20140526 import models as ecs_models
        from alibabacloud_ecs20140526.client import Client
        from alibabacloud_tea_openapi import utils_models as open_api_models

        class Stop(Exception):
            pass

        client = Client(open_api_models.Config(
            access_key_id=self.credentials.access_key_id,
            access_key_secret=self.credentials.secret,
            region_id="cn-hangzhou",
        ))
        seen = {}

        def call_api(params, request, runtime):
            seen["protocol"] = client._protocol or params.protocol
            raise Stop()

        client.call_api = call_api
        try:
            client.export_image(ecs_models.ExportImageRequest())
        except Stop:
            pass
        return str(seen["protocol"]).lower()

    @staticmethod
    def model_fields(model_class) -> set:
        """The wire names a tea model maps (every attribute set, then
        ``to_map``)."""
        probe = model_class()
        for attribute in vars(probe):
            if not attribute.startswith("_"):
                setattr(probe, attribute, "x")
        return set(probe.to_map())

    def build_request(self, api: str, params: dict):
        from alibabacloud_ecs20140526 import models as ecs_models

        request_class = getattr(ecs_models, f"{api}Request")
        known = self.model_fields(request_class)
        for key in params:
            if key not in known:
                self.notices.unknown_parameter(
                    api, key, f"{self.distribution}'s {api}Request has no field {key}: "
                              f"its from_map ignores it, not sent")
        return request_class().from_map(dict(params))

    def send(self, api: str, request):
        method = "".join("_" + c.lower() if c.isupper() else c for c in api).lstrip("_")  # ExportImage → export_image
        return getattr(self.client, method)(request)

    def call(self, api: str, params: dict):
        response = self.send(api, self.build_request(api, params))
        return Ok(response.body.to_map() if response.body is not None else None)

    def error_of(self, exc):
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

        if isinstance(exc, AlibabaCloudException):
            return SdkError(code=exc.code, message=exc.message, request_id=exc.request_id,
                            http_status=exc.status_code)
        try:
            from Tea.exceptions import TeaException
        except ImportError:  # pragma: no cover - the tea runtime is a dependency
            return None
        if isinstance(exc, TeaException):
            # e.g. UnretryableException around a network error: the SDK's
            # own exception type, with its code (often None) and message.
            return SdkError(code=getattr(exc, "code", None), message=getattr(exc, "message", None) or str(exc),
                            request_id=None, http_status=getattr(exc, "status_code", None))
        return None


if __name__ == "__main__":
    sys.exit(serve(AliyunAcs3Adapter))
