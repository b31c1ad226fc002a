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
- ``success-on-status``: the SDK's ``ServerNetworkError`` (what it makes
  of an answer with another HTTP status than 200) is reported as success,
  ``{"ok": {}}``: an error read as a success under a varied status.
- ``dropped-request-id``: an error is reported without its request id.
- ``retries-errors``: a call the SDK answered with an error is made once
  more (the adapter retries whatever the answer), then reported.
- ``unsigned-header``: the request is signed again just before it goes
  out, validly, but over ``host`` alone (``SignedHeaders=host``), where
  TC3's documentation requires ``content-type`` and ``host``.
- ``undocumented-nulls``: every field of the SDK's request model that was
  not set goes on the wire as JSON ``null`` (as the JD SDK does).
- ``secret-to-stderr``: a debug line with the secret key on stderr for each
  request. With ``IMGCONFORM_PLANTED_SECRET_FILE`` set, the secret it was
  given is also written to that file, so that a test can check that no
  report repeats it.
- ``secret-to-log-file``: the same debug line, written instead to a log
  file the adapter names in its ready line (``log_files``):
  ``target/planted-secret.log`` (``IMGCONFORM_PLANTED_LOG`` overrides),
  emptied at start.
- ``text-content-type``: the SDK's POST form sent with
  ``Content-Type: text/plain`` (its module's JSON content type replaced, so
  the body is still JSON and the signature still covers what is sent),
  where Tencent's document shows ``application/json``.
- ``plain-http``: the shipped aliyun-python (ACS3) adapter, with the SDK's
  client defaulting to ``protocol="http"`` when the caller sets none; its
  ``default_scheme`` then reads ``http``.
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


def _load_real_adapter(directory="tencent-python", name="TencentAdapter"):
    path = os.path.join(ADAPTERS, directory, "adapter.py")
    spec = importlib.util.spec_from_file_location(directory.replace("-", "_") + "_adapter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


TencentAdapter = _load_real_adapter()
AliyunAcs3Adapter = _load_real_adapter("aliyun-python", "AliyunAcs3Adapter")

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


class SuccessOnStatus(TencentAdapter):
    """(d) an answer with another HTTP status reported as success."""

    def call(self, api, params):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        try:
            return super().call(api, params)
        except TencentCloudSDKException as e:
            if e.code == "ServerNetworkError":
                return Ok({})
            raise


class DroppedRequestId(TencentAdapter):
    """(e) an error's request id not surfaced."""

    def error_of(self, exc):
        error = super().error_of(exc)
        if error is not None:
            error.request_id = None
        return error


class RetriesErrors(TencentAdapter):
    """(f) every error retried once, whether it may be or not."""

    def call(self, api, params):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        try:
            return super().call(api, params)
        except TencentCloudSDKException:
            return super().call(api, params)


class UnsignedHeader(TencentAdapter):
    """(g) a header TC3's documentation requires to be signed left out of
    the signature: re-signed over host alone, so the signature verifies."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transport.before_send.append(self._resign)

    def _resign(self, prepared_request) -> None:
        import datetime
        import hashlib
        import hmac
        from urllib.parse import urlsplit

        headers = prepared_request.headers
        auth = headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return
        url = urlsplit(prepared_request.url)
        host = headers.get("Host") or url.netloc
        body = prepared_request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        timestamp = int(headers["X-TC-Timestamp"])
        date = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")
        scope = f"{date}/cvm/tc3_request"
        canonical = "\n".join([prepared_request.method, "/", url.query, f"host:{host}\n", "host",
                               hashlib.sha256(body).hexdigest()])
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                             hashlib.sha256(canonical.encode("utf-8")).hexdigest()])

        def mac(key, text):
            return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()

        key = mac(mac(mac(("TC3" + self.credentials.secret).encode("utf-8"), date), "cvm"), "tc3_request")
        signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"TC3-HMAC-SHA256 Credential={self.credentials.access_key_id}/{scope}, "
                                    f"SignedHeaders=host, Signature={signature}")


class UndocumentedNulls(TencentAdapter):
    """(h) every model field not set sent as null."""

    def client(self, region):
        client = super().client(region)
        if not getattr(client, "_imgconform_planted", False):
            sign_and_send = client.call
            adapter = self

            def call(action, params, options=None, headers=None):
                from tencentcloud.cvm.v20170312 import models

                params = dict(params)
                for field in adapter.model_fields(getattr(models, f"{action}Request")()):
                    params.setdefault(field, None)
                return sign_and_send(action, params, options=options, headers=headers)

            client.call = call
            client._imgconform_planted = True
        return client


class SecretToStderr(TencentAdapter):
    """(i) the secret key printed on stderr, as a careless debug log would."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = os.environ.get("IMGCONFORM_PLANTED_SECRET_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.credentials.secret)

    def call(self, api, params):
        sys.stderr.write(f"DEBUG {api}: signing with SecretId={self.credentials.access_key_id} "
                         f"SecretKey={self.credentials.secret}\n")
        sys.stderr.flush()
        return super().call(api, params)


class SecretToLogFile(TencentAdapter):
    """(i') the secret key written to a log file the adapter names."""

    LOG = os.environ.get("IMGCONFORM_PLANTED_LOG") or os.path.join("target", "planted-secret.log")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = os.path.join(REPO, self.LOG)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("planted log: started\n")

    def log_files(self):
        return [self.LOG]

    def call(self, api, params):
        with open(os.path.join(REPO, self.LOG), "a", encoding="utf-8") as f:
            f.write(f"DEBUG {api}: signing with SecretId={self.credentials.access_key_id} "
                    f"SecretKey={self.credentials.secret}\n")
        return super().call(api, params)


class TextContentType(TencentAdapter):
    """(l) a Content-Type other than the documented one."""

    def __init__(self, *args, **kwargs):
        from tencentcloud.common import abstract_client

        # Read by _build_req_with_tc3_signature both to set the header and
        # to choose the JSON body: only the header's value changes.
        abstract_client._json_content = "text/plain"
        super().__init__(*args, **kwargs)


class PlainHttp(AliyunAcs3Adapter):
    """(j) the SDK's client defaulting to plain http."""

    def __init__(self, *args, **kwargs):
        from alibabacloud_ecs20140526.client import Client

        if not getattr(Client, "_imgconform_planted", False):
            init = Client.__init__

            def plain_http_init(client, config, *a, **kw):
                if getattr(config, "protocol", None) is None:
                    config.protocol = "http"
                init(client, config, *a, **kw)

            Client.__init__ = plain_http_init
            Client._imgconform_planted = True
        super().__init__(*args, **kwargs)


class ValidRefused(TencentAdapter):
    """(k) a valid request refused client-side, before sending."""

    def call(self, api, params):
        if len(params.get("ImageIds") or []) > 1:
            raise ValueError("ImageIds: at most one image may be exported at a time (planted check)")
        return super().call(api, params)


VARIANTS = {
    "renamed-param": RenamedParam,
    "dropped-header": DroppedHeader,
    "swallowed-error": SwallowedError,
    "success-on-status": SuccessOnStatus,
    "dropped-request-id": DroppedRequestId,
    "retries-errors": RetriesErrors,
    "unsigned-header": UnsignedHeader,
    "undocumented-nulls": UndocumentedNulls,
    "secret-to-stderr": SecretToStderr,
    "secret-to-log-file": SecretToLogFile,
    "plain-http": PlainHttp,
    "text-content-type": TextContentType,
    "valid-refused": ValidRefused,
}


def main(argv) -> int:
    if len(argv) != 1 or argv[0] not in VARIANTS:
        sys.stderr.write(f"usage: planted.py {{{'|'.join(VARIANTS)}}}\n")
        return 2
    return serve(VARIANTS[argv[0]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
