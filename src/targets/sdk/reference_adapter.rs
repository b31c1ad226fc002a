//! The built-in reference client as an SDK adapter (`imgconform adapter
//! --provider P`, manifests in `adapters/reference-*`): the adapter
//! protocol of `adapters/README.md` spoken by imgconform's own live client,
//! so that its runs sit beside the official SDKs' as a baseline, and so
//! that the protocol has an implementation in a third language.

use std::io::{BufRead, Write};

use serde_json::{json, Value};

use crate::live::{AttemptAnswer, EndpointOverrides, LiveClient, LiveError, LiveOptions};
use crate::spec::{ProviderId, Specs};

/// Why the reference adapter could not serve the harness.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceAdapterError {
    #[error("IMGCONFORM_ENDPOINT is not set: the harness sets it to the mock's URL")]
    NoEndpoint,
    #[error("IMGCONFORM_ENDPOINT: {0}")]
    BadEndpoint(String),
    /// The credentials, the client or its runtime, each in its own words.
    #[error("{0}")]
    Setup(String),
    #[error("cannot write to the harness: {0}")]
    CannotWrite(String),
    #[error("cannot read from the harness: {0}")]
    CannotRead(String),
}

/// Speaks the adapter protocol for `provider` on `input` and `output`
/// until `input` ends. The endpoint and credentials come from the
/// environment the harness sets; `Err` (before the ready line) says which
/// is missing.
pub fn serve(
    specs: Specs,
    provider: ProviderId,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<(), ReferenceAdapterError> {
    use ReferenceAdapterError as E;
    let endpoint = std::env::var("IMGCONFORM_ENDPOINT").map_err(|_| E::NoEndpoint)?;
    let overrides = EndpointOverrides::parse_args([format!("{provider}={endpoint}")])
        .map_err(|e| E::BadEndpoint(e.to_string()))?;
    let credentials =
        crate::live::credentials_from_env(provider).map_err(|e| E::Setup(e.to_string()))?;
    let options = LiveOptions {
        overrides,
        // Adapters talk only to the harness's own mock.
        allow_mutations: true,
        ..LiveOptions::default()
    };
    let client = LiveClient::new(specs, options)
        .map_err(|e| E::Setup(e.to_string()))?
        .with_credentials(provider, credentials);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| E::Setup(e.to_string()))?;
    let mut write = |line: Value| -> Result<(), ReferenceAdapterError> {
        writeln!(output, "{line}")
            .and_then(|_| output.flush())
            .map_err(|e| E::CannotWrite(e.to_string()))
    };
    write(json!({
        "ready": true,
        "sdk": concat!("imgconform-reference ", env!("CARGO_PKG_VERSION")),
        "provider": provider,
        // The reference client's own default: the documented endpoint,
        // which `endpoint_for` always builds over https.
        "default_scheme": if crate::live::endpoints::endpoint_for(provider, Some("cn-north-1")).https { "https" } else { "http" },
    }))?;
    for line in input.lines() {
        let line = line.map_err(|e| E::CannotRead(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(request) => answer(&client, &runtime, provider, &request),
            Err(e) => refused(Value::Null, format!("adapter: invalid request line: {e}")),
        };
        write(answer)?;
    }
    Ok(())
}

fn refused(id: Value, message: String) -> Value {
    json!({"id": id, "error": {"code": null, "message": message, "request_id": null, "http_status": null, "client_side": true}})
}

fn answer(
    client: &LiveClient,
    runtime: &tokio::runtime::Runtime,
    provider: ProviderId,
    request: &Value,
) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let name = request
        .get("api")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_id = if name.contains('/') {
        name.to_string()
    } else {
        format!("{provider}/{name}")
    };
    let (Some(api), Some(params)) = (client.specs().api(&api_id), request.get("params")) else {
        return refused(
            id,
            format!("adapter: invalid request line: no API {api_id} or no params"),
        );
    };
    let record = match runtime.block_on(client.call(api, params)) {
        Ok(r) => r,
        Err(e @ (LiveError::Encode { .. } | LiveError::Unsendable { .. })) => {
            return refused(id, e.to_string())
        }
        Err(e) => {
            return json!({"id": id, "error": {"code": null, "message": e.to_string(), "request_id": null, "http_status": null, "client_side": true}})
        }
    };
    match &record.last().answer {
        AttemptAnswer::Decoded(outcome) => match &outcome.error {
            None => json!({"id": id, "ok": outcome.result.clone().unwrap_or(Value::Null)}),
            Some(e) => json!({"id": id, "error": {
                "code": e.code, "message": e.message, "request_id": outcome.request_id,
                "http_status": outcome.http_status, "client_side": false}}),
        },
        AttemptAnswer::Undecodable(e) => json!({"id": id, "error": {
            "code": null, "message": e.to_string(), "request_id": null,
            "http_status": e.http_status, "client_side": false}}),
        AttemptAnswer::Transport(e) => json!({"id": id, "error": {
            "code": null, "message": e.to_string(), "request_id": null,
            "http_status": null, "client_side": false}}),
    }
}
