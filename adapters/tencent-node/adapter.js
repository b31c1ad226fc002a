#!/usr/bin/env node
// imgconform SDK adapter: tencentcloud-sdk-nodejs-cvm (Client.ExportImages, TC3-HMAC-SHA256).
//
// Protocol: adapters/README.md. Install and run from the repository root:
//
//   npm ci --prefix adapters/tencent-node
//   IMGCONFORM_ENDPOINT=http://127.0.0.1:PORT TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//       node adapters/tencent-node/adapter.js
//
// Mapping: `Region` becomes the client's region (the SDK sends it as the
// X-TC-Region header); every other parameter goes, as it is, into the plain
// request object the SDK takes. The SDK's request "model" is a TypeScript
// interface (ExportImagesRequest in the package's cvm_models.d.ts), with
// nothing of it at run time: the SDK sends whatever the object holds. A
// request with a member the interface does not declare (SnapshotIds) goes
// through the client's generic `request(action, req)` — the SDK's own
// public call, which the typed `ExportImages(req)` itself calls — as a
// TypeScript caller would send it; all others through `ExportImages(req)`.
// Nothing is left out, so no answer carries `unknown_parameters`; each
// undeclared member is said once on stderr, as free text. The SDK
// serialises (nulls removed), signs and parses; the result is the
// `Response` object it resolves with. Errors are
// TencentCloudSDKHttpException (message, requestId, `code` for an API
// error, `httpCode` for a non-200 answer).
//
// The SDK sends POST with a JSON body unless told otherwise:
// IMGCONFORM_TENCENT_REQ_METHOD=GET sets `httpProfile.reqMethod` to "GET",
// its other request form (parameters in the query, lists as Name.0, Name.1).
//
// Endpoint: two things in this SDK only work against the real endpoint
// (https, default port, a host named cvm.<domain>), both in the signature:
// - it signs for the service named by the endpoint's first DNS label
//   (abstract_client.js: `service: this.endpoint.split(".")[0]`): with the
//   endpoint 127.0.0.1:PORT it signs for service "127";
// - it signs `host:` + the URL's hostname without the port (sign.js
//   `urlObj.hostname`) while it sends `Host:` with the port (`URL.host`).
// Either makes the mock (rightly) answer AuthFailure.SignatureFailure to
// every request. So unless the endpoint is already cvm.<domain> on the
// scheme's default port, the adapter gives the SDK the endpoint
// cvm.imgconform.invalid (".invalid" never resolves by itself, no port) and
// an http.Agent (the SDK's own httpProfile.agent option) that opens its
// connections to the mock's address and port instead, as a port forward
// would. The SDK then signs for "cvm" and sends and signs
// Host: cvm.imgconform.invalid; the request is otherwise the SDK's own.
//
// The HTTP status and "was anything sent" come from Node's own
// diagnostics_channel (http.client.request.start / http.client.response.finish):
// observation only, nothing in the SDK or its transport is changed.
"use strict";

const diagnosticsChannel = require("diagnostics_channel");
const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");
const readline = require("readline");

const PROVIDER = "tencent";
const DISTRIBUTION = "tencentcloud-sdk-nodejs-cvm";
const APIS = ["ExportImages"];
const CREDENTIAL_ENV = ["TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"];
const SERVICE = "cvm";
const SIGNING_HOST = `${SERVICE}.imgconform.invalid`;
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

// ---------------------------------------------------------------------------
// stdout carries protocol lines only: anything else written to it (console.log
// in a dependency, process.stdout.write) goes to stderr.
// ---------------------------------------------------------------------------

const STDOUT_FD = 1;
function writeLine(obj) {
  let text;
  try {
    text = JSON.stringify(obj);
  } catch (e) {
    text = JSON.stringify(errorLine(obj && obj.id, null,
      `adapter: the SDK's result is not JSON: ${e.name}: ${e.message}`, null, null, false));
  }
  // Written as the SDK reported it: the harness scans every line for the
  // secret (a "secret leak" finding), so nothing is rewritten here.
  fs.writeSync(STDOUT_FD, text + "\n"); // synchronous: written (flushed) before the next line is read
}
process.stdout.write = (chunk, encoding, cb) => process.stderr.write(chunk, encoding, cb);
for (const name of ["log", "info", "debug", "trace"]) {
  console[name] = (...args) => console.error(...args);
}

function log(text) {
  process.stderr.write(text.replace(/\n$/, "") + "\n");
}

const noticed = new Set();
function noteOnce(key, text) {
  if (noticed.has(key)) return;
  noticed.add(key);
  log(text);
}

// The request method the SDK is configured with (httpProfile.reqMethod).
const REQ_METHOD_VARIABLE = "IMGCONFORM_TENCENT_REQ_METHOD";
const REQ_METHODS = ["POST", "GET"];
function reqMethod() {
  const method = (process.env[REQ_METHOD_VARIABLE] || "POST").trim().toUpperCase();
  if (!REQ_METHODS.includes(method)) {
    throw new Error(`${REQ_METHOD_VARIABLE} must be one of ${REQ_METHODS.join(", ")}, not ${JSON.stringify(process.env[REQ_METHOD_VARIABLE])}`);
  }
  return method;
}

// ---------------------------------------------------------------------------
// The transport, observed
// ---------------------------------------------------------------------------

const transport = { attempts: 0, statuses: [] };
diagnosticsChannel.subscribe("http.client.request.start", () => {
  transport.attempts += 1;
});
diagnosticsChannel.subscribe("http.client.response.finish", ({ response }) => {
  if (response && Number.isInteger(response.statusCode)) transport.statuses.push(response.statusCode);
});

// ---------------------------------------------------------------------------
// The SDK
// ---------------------------------------------------------------------------

function sdkPackageDir() {
  return path.dirname(require.resolve(`${DISTRIBUTION}/package.json`));
}

function sdkVersion() {
  return JSON.parse(fs.readFileSync(path.join(sdkPackageDir(), "package.json"), "utf8")).version;
}

// The member names of `export interface <name> { ... }` in the SDK's published models declaration.
const interfaceCache = new Map();
function interfaceMembers(name) {
  if (interfaceCache.has(name)) return interfaceCache.get(name);
  const file = path.join(sdkPackageDir(), "tencentcloud", "services", "cvm", "v20170312", "cvm_models.d.ts");
  const source = fs.readFileSync(file, "utf8");
  const start = source.indexOf(`export interface ${name} {`);
  if (start < 0) throw new Error(`${DISTRIBUTION} declares no interface ${name} in ${file}`);
  const end = source.indexOf("\n}", start);
  const body = source.slice(start, end)
    .replace(/\/\*[\s\S]*?\*\//g, "") // doc comments
    .replace(/\/\/.*$/gm, "");
  const members = new Set();
  for (const match of body.matchAll(/^\s*(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*:/gm)) {
    members.add(match[1]);
  }
  interfaceCache.set(name, members);
  return members;
}

let TencentCloudSDKHttpException = null;
try {
  TencentCloudSDKHttpException =
    require("tencentcloud-sdk-nodejs-common/tencentcloud/common/exception/tencent_cloud_sdk_exception").default;
} catch (e) {
  log(`adapter: cannot load TencentCloudSDKHttpException (${e.message}); matching the SDK's errors by name`);
}

function isSdkError(e) {
  if (TencentCloudSDKHttpException && e instanceof TencentCloudSDKHttpException) return true;
  return e instanceof Error && e.constructor && e.constructor.name === "TencentCloudSDKHttpException";
}

class TencentNodeAdapter {
  constructor(endpoint, credentials) {
    this.endpoint = endpoint;
    this.credentials = credentials;
    this.clients = new Map();
    this.reqMethod = reqMethod();
    const cvm = require(DISTRIBUTION).cvm;
    this.Client = cvm.v20170312.Client;
    // See the header: the host the SDK is given, and the agent that forwards it.
    const address = endpoint.hostname.replace(/^\[|\]$/g, "");
    const defaultPort = endpoint.protocol === "https:" ? "443" : "80";
    if (address.split(".")[0] === SERVICE && (endpoint.port === "" || endpoint.port === defaultPort)) {
      this.sdkHost = endpoint.host;
      this.agent = undefined;
    } else {
      this.sdkHost = SIGNING_HOST;
      const port = Number(endpoint.port || defaultPort);
      const Base = endpoint.protocol === "https:" ? https.Agent : http.Agent;
      class ForwardingAgent extends Base {
        createConnection(options, callback) {
          return super.createConnection(Object.assign({}, options, { host: address, port }), callback);
        }
      }
      this.agent = new ForwardingAgent({ keepAlive: true });
    }
  }

  client(region) {
    const key = JSON.stringify(region === undefined ? null : region);
    if (!this.clients.has(key)) {
      this.clients.set(key, new this.Client({
        credential: { secretId: this.credentials.secretId, secretKey: this.credentials.secretKey },
        region: region === null ? undefined : region,
        profile: {
          httpProfile: {
            endpoint: this.sdkHost,
            protocol: `${this.endpoint.protocol}//`,
            reqMethod: this.reqMethod,
            agent: this.agent,
          },
        },
      }));
    }
    return this.clients.get(key);
  }

  buildRequest(api, params) {
    const request = Object.assign({}, params);
    const region = request.Region;
    delete request.Region;
    const members = interfaceMembers(`${api}Request`);
    const undeclared = Object.keys(request).filter((key) => !members.has(key));
    for (const key of undeclared) {
      noteOnce(JSON.stringify([api, key]),
        `adapter: ${DISTRIBUTION}'s ${api}Request interface (cvm_models.d.ts) declares no member ${key}: ` +
        `sent through the client's generic request("${api}", req)`);
    }
    return { region, request, generic: undeclared.length > 0 };
  }

  async call(api, params) {
    const { region, request, generic } = this.buildRequest(api, params);
    const client = this.client(region);
    const response = generic ? await client.request(api, request) : await client[api](request);
    return { ok: response === undefined ? null : response };
  }

  errorOf(e) {
    if (!isSdkError(e)) return null;
    return {
      code: e.code === undefined ? null : e.code,
      message: e.message,
      request_id: e.requestId || null,
      http_status: Number.isInteger(e.httpCode) ? e.httpCode : null,
    };
  }
}

// ---------------------------------------------------------------------------
// The protocol
// ---------------------------------------------------------------------------

function errorLine(id, code, message, requestId, httpStatus, clientSide) {
  return {
    id: id === undefined ? null : id,
    error: { code, message, request_id: requestId, http_status: httpStatus, client_side: clientSide },
  };
}

function bad(id, why) {
  return errorLine(id, null, `adapter: invalid request line: ${why}`, null, null, true);
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : String(value);
}

async function handle(adapter, line) {
  if (!line.trim()) return null;
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    return bad(null, `the line is not JSON (${e.message})`);
  }
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    return bad(null, `the line is not a JSON object but ${Array.isArray(request) ? "list" : typeof request}`);
  }
  const id = request.id;
  if (typeof id !== "string") {
    return bad(typeof id === "number" ? id : null, `id must be a string, got ${JSON.stringify(id === undefined ? null : id)}`);
  }
  const provider = request.provider;
  if (provider !== PROVIDER) {
    return bad(id, `this adapter speaks provider '${PROVIDER}', not ${JSON.stringify(provider === undefined ? null : provider)}`);
  }
  let api = request.api;
  if (typeof api === "string" && api.startsWith(`${provider}/`)) api = api.slice(provider.length + 1);
  if (!APIS.includes(api)) {
    return bad(id, `this adapter knows no api ${JSON.stringify(api === undefined ? null : api)} (it serves ${APIS.join(", ")})`);
  }
  const params = request.params;
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    return bad(id, `params must be a JSON object, got ${String(JSON.stringify(params === undefined ? null : params)).slice(0, 80)}`);
  }

  transport.attempts = 0;
  transport.statuses = [];
  let outcome;
  try {
    outcome = await adapter.call(api, JSON.parse(JSON.stringify(params)));
  } catch (e) {
    let report = null;
    try {
      report = adapter.errorOf(e);
    } catch (inner) {
      log(`adapter: errorOf failed: ${inner}`);
    }
    if (report === null) {
      const name = e && e.name ? e.name : typeof e;
      report = { code: null, message: `${name}: ${e && e.message !== undefined ? e.message : String(e)}`, request_id: null, http_status: null };
    }
    outcome = { error: report };
  }
  if ("ok" in outcome) return { id, ok: outcome.ok };
  const report = outcome.error;
  let status = report.http_status;
  if ((status === null || status === undefined) && transport.attempts > 0 && transport.statuses.length) {
    status = transport.statuses[transport.statuses.length - 1];
  }
  return errorLine(id, report.code === null || report.code === undefined ? null : text(report.code), text(report.message),
    report.request_id ? text(report.request_id) : null, Number.isInteger(status) ? status : null, transport.attempts === 0);
}

function isLoopback(host) {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || /^127\./.test(h) || h === "::1";
}

async function main() {
  let endpoint;
  try {
    endpoint = new URL(process.env.IMGCONFORM_ENDPOINT || "");
    if (!["http:", "https:"].includes(endpoint.protocol) || (endpoint.pathname !== "/" && endpoint.pathname !== "")) {
      throw new Error("not an http(s) base URL");
    }
  } catch (e) {
    log(`adapter: IMGCONFORM_ENDPOINT must be an http(s) base URL, got ${JSON.stringify(process.env.IMGCONFORM_ENDPOINT || "")}`);
    return 2;
  }
  const missing = CREDENTIAL_ENV.filter((name) => !process.env[name]);
  if (missing.length) {
    log(`adapter: set ${missing.join(" and ")} (the ${PROVIDER} test credentials)`);
    return 2;
  }
  if (isLoopback(endpoint.hostname)) {
    // The SDK's fetch wrapper would route through $http_proxy otherwise.
    for (const name of PROXY_VARIABLES) delete process.env[name];
  }
  let adapter;
  let version;
  try {
    adapter = new TencentNodeAdapter(endpoint, {
      secretId: process.env[CREDENTIAL_ENV[0]],
      secretKey: process.env[CREDENTIAL_ENV[1]],
    });
    version = sdkVersion();
  } catch (e) {
    log(`adapter: could not start the ${DISTRIBUTION} adapter: ${e.name}: ${e.message}`);
    return 2;
  }
  const ready = { ready: true, sdk: `${DISTRIBUTION} ${version}`, provider: PROVIDER };
  try {
    // What a client made without an httpProfile of its own uses: the SDK's
    // default httpProfile.protocol ("https://").
    const bare = new adapter.Client({ credential: { secretId: "x", secretKey: "x" }, profile: {} });
    ready.default_scheme = String(bare.profile.httpProfile.protocol).replace(/:\/\/$/, "");
  } catch (e) {
    log(`adapter: could not read the SDK's default scheme: ${e.name}: ${e.message}`);
  }
  writeLine(ready);

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of lines) {
    let out;
    try {
      out = await handle(adapter, line);
    } catch (e) {
      out = errorLine(null, null, `adapter: internal error: ${e && e.name}: ${e && e.message}`, null, null, true);
    }
    if (out !== null) writeLine(out);
  }
  return 0;
}

process.on("unhandledRejection", (reason) => {
  log(`adapter: unhandled rejection (ignored): ${reason && reason.stack ? reason.stack : reason}`);
});

main().then(
  (code) => process.exit(code),
  (e) => {
    log(`adapter: ${e && e.stack ? e.stack : e}`);
    process.exit(2);
  },
);
