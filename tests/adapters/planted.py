#!/usr/bin/env python3
"""Planted-bug SDK adapters, for testing the harness: each must be caught.

Each is the shipped tencent-python adapter (adapters/tencent-python/adapter.py,
imported, not copied) with exactly one thing changed, chosen by the argument:

- ``renamed-param``: ``BucketName`` goes on the wire as ``Bucket``. Done
  below the SDK's model, on the serialised parameters the client signs
  (``CvmClient.call``): the request model holds BucketName and the adapter
  believes it sent it; the request is validly signed, but the wire is wrong.
- ``dropped-header``: the ``X-TC-Version`` header is removed from the
  signed request just before it goes out (TC3 signs only content-type and
  host here, so the signature still verifies).
- ``swallowed-error``: a ``TencentCloudSDKException`` is reported as
  success with empty fields, ``{"ok": {}}``.
- ``valid-refused``: a client-side check stricter than the documents: a
  request with more than one of ``ImageIds`` is refused before anything is
  sent (the documents allow up to 10).

Not shipped: tests/adapters/planted-*/adapter.json point the harness here.

    IMGCONFORM_ENDPOINT=http://127.0.0.1:PORT TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \\
        .venv-sdk/bin/python tests/adapters/planted.py renamed-param
"""

from __future__ import annotations

import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADAPTERS = os.path.join(REPO, "adapters")
sys.path.insert(0, ADAPTERS)

from adapter_protocol import Ok, serve  # noqa: E402


def _load_real_adapter():
    path = os.path.join(ADAPTERS, "tencent-python", "adapter.py")
    spec = importlib.util.spec_from_file_location("tencent_python_adapter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TencentAdapter


TencentAdapter = _load_real_adapter()

RENAMED_FROM, RENAMED_TO = "BucketName", "Bucket"
DROPPED_HEADER = "X-TC-Version"


class RenamedParam(TencentAdapter):
    """(a) one parameter on the wire under another name."""

    def client(self, region):
        client = super().client(region)
        if not getattr(client, "_imgconform_planted", False):
            sign_and_send = client.call  # AbstractClient.call(action, params, options, headers)

            def call(action, params, options=None, headers=None):
                params = dict(params)
                if RENAMED_FROM in params:
                    params[RENAMED_TO] = params.pop(RENAMED_FROM)
                return sign_and_send(action, params, options=options, headers=headers)

            client.call = call
            client._imgconform_planted = True
        return client


class DroppedHeader(TencentAdapter):
    """(b) one protocol header dropped from the signed request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transport.before_send.append(self._drop)

    @staticmethod
    def _drop(prepared_request) -> None:
        prepared_request.headers.pop(DROPPED_HEADER, None)


class SwallowedError(TencentAdapter):
    """(c) the SDK's exception reported as success with empty fields."""

    def call(self, api, params):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        try:
            return super().call(api, params)
        except TencentCloudSDKException:
            return Ok({})


class ValidRefused(TencentAdapter):
    """(d) a valid request refused client-side, before sending."""

    def call(self, api, params):
        if len(params.get("ImageIds") or []) > 1:
            raise ValueError("ImageIds: at most one image may be exported at a time (planted check)")
        return super().call(api, params)


VARIANTS = {
    "renamed-param": RenamedParam,
    "dropped-header": DroppedHeader,
    "swallowed-error": SwallowedError,
    "valid-refused": ValidRefused,
}


def main(argv) -> int:
    if len(argv) != 1 or argv[0] not in VARIANTS:
        sys.stderr.write(f"usage: planted.py {{{'|'.join(VARIANTS)}}}\n")
        return 2
    return serve(VARIANTS[argv[0]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
