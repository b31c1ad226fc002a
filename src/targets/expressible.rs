//! What the wire can carry: a request read back as a server reads it, for
//! the targets that encode requests themselves (the mock) and those that
//! do not (a live client signs at sending time, an SDK in its own way).

use serde_json::Value;

use super::CallError;
use crate::mock::test_credentials;
use crate::protocol::signing::{SignableRequest, SigningInputs};
use crate::protocol::{wire_for, EncodeOptions, Endpoint};
use crate::spec::{ApiSpec, Specs};

/// `value` with every null member removed, at any depth: on the wire
/// null and absent are one.
pub(crate) fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Whether the wire carries `params` as they are: read the encoded request
/// back as a server would, and ask whether it breaks the same rules.
/// Alibaba's RPC parameters and Tencent's headers are text, so a number
/// where a string belongs arrives as a valid string; such a request is not
/// expressible on the wire and its case is skipped, not judged. A valid
/// request must arrive unchanged.
pub fn expressible(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    request: &SignableRequest,
) -> Result<(), CallError> {
    read_back_if_expressible(specs, api, params, request).map(|_| ())
}

/// [`expressible`], with the parameters as the server reads them.
fn read_back_if_expressible(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    request: &SignableRequest,
) -> Result<Value, CallError> {
    let read_back = wire_for(api.raw.protocol)
        .parse_params(api, request)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
    // Read back as sent, they break what the sent ones break.
    if crate::protocol::wire::same_parameters(api, &read_back, params) {
        return Ok(read_back);
    }
    let broken = |v: &Value| -> Vec<(String, String)> {
        crate::validate::validate_request(specs, api, v)
            .violations
            .into_iter()
            .map(|v| (v.path, v.rule))
            .collect()
    };
    let sent = broken(params);
    let same = if sent.is_empty() {
        without_nulls(&read_back) == without_nulls(params)
    } else {
        broken(&read_back) == sent
    };
    if same {
        Ok(read_back)
    } else {
        Err(CallError::Unsendable(format!(
            "{} (sent with {}): {}",
            wire_for(api.raw.protocol).carries_as_text(),
            request.method,
            arrival(&without_nulls(params), &without_nulls(&read_back)).join(", ")
        )))
    }
}

/// How each parameter of `sent` that the wire changes would arrive:
/// `ImageFormat=7 would arrive as "7"`.
fn arrival(sent: &Value, read_back: &Value) -> Vec<String> {
    let shown = |v: &Value| {
        let text = v.to_string();
        match text.char_indices().nth(60) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text,
        }
    };
    let (Some(sent), Some(read)) = (sent.as_object(), read_back.as_object()) else {
        return vec![format!(
            "{} would arrive as {}",
            shown(sent),
            shown(read_back)
        )];
    };
    let mut out: Vec<String> = sent
        .iter()
        .filter(|(k, v)| read.get(*k) != Some(*v))
        .map(|(k, v)| match read.get(k) {
            Some(r) => format!("{k}={} would arrive as {}", shown(v), shown(r)),
            None => format!("{k}={} would not arrive", shown(v)),
        })
        .collect();
    out.extend(
        read.iter()
            .filter(|(k, _)| !sent.contains_key(*k))
            .map(|(k, r)| format!("{k}, not sent, would arrive as {}", shown(r))),
    );
    if out.is_empty() {
        out.push("the parameters would arrive in another form".into());
    }
    out
}

/// How a server reads `params` once on the wire, for a target that does
/// not encode them itself (a live client signs at sending time, an SDK in
/// its own way): a throw-away encoding (test credentials, time 0) read
/// back. `Unsendable` when the wire cannot carry them as given.
pub fn as_server_reads(specs: &Specs, api: &ApiSpec, params: &Value) -> Result<Value, CallError> {
    as_server_reads_sent_with(specs, api, params, None)
}

/// [`as_server_reads`] for a request sent with HTTP `method`, in the form
/// that method takes where the protocol has more than one (an SDK told to
/// send Tencent's GET form); `None` is the protocol's usual form.
pub fn as_server_reads_sent_with(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    method: Option<&str>,
) -> Result<Value, CallError> {
    let wire = wire_for(api.raw.protocol);
    let credentials = test_credentials(api.provider());
    let options = EncodeOptions {
        scheme: specs.provider_of(api).raw.signing[0],
        endpoint: Some(
            Endpoint::parse("http://127.0.0.1:1").map_err(|e| CallError::Failed(e.to_string()))?,
        ),
        inputs: SigningInputs::new(0, "probe"),
    };
    let probe = wire
        .encode_for_reading(api, params, &credentials, &options, method)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
    read_back_if_expressible(specs, api, params, &probe)
}
