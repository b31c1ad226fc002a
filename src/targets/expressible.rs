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

/// Whether the wire carries `params` (`Unsendable` when it cannot carry
/// them as given): [`as_server_reads`] without the parameters read back,
/// for a target that only needs to know before sending.
pub fn sendable(specs: &Specs, api: &ApiSpec, params: &Value) -> Result<(), CallError> {
    read_back(specs, api, params, None).map(|_| ())
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
    read_back(specs, api, params, method).map(|read| read.unwrap_or_else(|| params.clone()))
}

/// The throw-away encoding's endpoint: any will do, as none is called.
static PROBE_ENDPOINT: std::sync::LazyLock<Result<Endpoint, String>> =
    std::sync::LazyLock::new(|| Endpoint::parse("http://127.0.0.1:1").map_err(|e| e.to_string()));

/// How the throw-away encoding is made: the provider's first scheme, the
/// probe endpoint, time 0.
fn probe_options(specs: &Specs, api: &ApiSpec) -> Result<EncodeOptions, CallError> {
    Ok(EncodeOptions {
        scheme: specs.provider_of(api).raw.signing[0],
        endpoint: Some(PROBE_ENDPOINT.clone().map_err(CallError::Failed)?),
        inputs: SigningInputs::new(0, "probe"),
    })
}

/// The parameters as the server reads them, `None` where they are the
/// ones given: the protocol can tell that without encoding them
/// ([`Wire::carries_unchanged`](crate::protocol::Wire::carries_unchanged)).
fn read_back(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    method: Option<&str>,
) -> Result<Option<Value>, CallError> {
    let wire = wire_for(api.raw.protocol);
    let options = probe_options(specs, api)?;
    if wire.carries_unchanged(api, params, &options, method) {
        return Ok(None);
    }
    let credentials = test_credentials(api.provider());
    let probe = wire
        .encode_for_reading(api, params, &credentials, &options, method)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
    read_back_if_expressible(specs, api, params, &probe).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    /// What [`read_back`] would find without the shortcut: the throw-away
    /// encoding read back, and whether it holds the same parameters.
    fn round_trip_agrees(
        specs: &Specs,
        api: &ApiSpec,
        params: &Value,
        method: Option<&str>,
    ) -> bool {
        let wire = wire_for(api.raw.protocol);
        let options = probe_options(specs, api).unwrap();
        let Ok(probe) = wire.encode_for_reading(
            api,
            params,
            &test_credentials(api.provider()),
            &options,
            method,
        ) else {
            return false;
        };
        wire.parse_params(api, &probe)
            .is_ok_and(|read| crate::protocol::wire::same_parameters(api, &read, params))
    }

    fn carries_unchanged(
        specs: &Specs,
        api: &ApiSpec,
        params: &Value,
        method: Option<&str>,
    ) -> bool {
        let options = probe_options(specs, api).unwrap();
        wire_for(api.raw.protocol).carries_unchanged(api, params, &options, method)
    }

    /// Any JSON value, the awkward ones often: texts with surrounding
    /// space, empty, non-ASCII; numbers that are not integers; nulls.
    fn any_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            Just(String::new()),
            Just(" ap-guangzhou".to_string()),
            Just("ap-guangzhou ".to_string()),
            Just("ap-guangzhou".to_string()),
            Just("镜像\t".to_string()),
            "[ -~\u{4e00}-\u{4e10}\n]{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter_map("a finite number", serde_json::Number::from_f64)
                .prop_map(Value::Number),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map("[a-zA-Z]{1,4}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Parameters of `api` under their names, in another case, or unknown,
    /// each with any JSON value.
    fn any_params(api: &ApiSpec) -> impl Strategy<Value = Value> {
        let names: Vec<String> = api.params.iter().map(|p| p.name.clone()).collect();
        let key = prop_oneof![
            8 => proptest::sample::select(names.clone()),
            1 => proptest::sample::select(names).prop_map(|n| {
                n.chars()
                    .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
                    .collect::<String>()
            }),
            1 => "x[a-z]{1,3}",
        ];
        proptest::collection::vec((key, any_json()), 0..6)
            .prop_map(|members| Value::Object(members.into_iter().collect()))
    }

    fn runner() -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
        )
    }

    #[test]
    fn a_protocol_that_skips_the_round_trip_says_what_the_round_trip_would() {
        let specs = Specs::embedded().unwrap();
        let mut skipped = 0;
        for api in specs.apis() {
            for method in [None, Some("GET"), Some("POST")] {
                let mut runner = runner();
                let strategy = any_params(api);
                for _ in 0..2000 {
                    let params = strategy.new_tree(&mut runner).unwrap().current();
                    if carries_unchanged(&specs, api, &params, method) {
                        skipped += 1;
                        assert!(
                            round_trip_agrees(&specs, api, &params, method),
                            "{} ({method:?}): the shortcut says {params} arrives unchanged; read back, it does not",
                            api.id()
                        );
                    }
                }
            }
        }
        // Not vacuous: the shortcut was taken, many times.
        assert!(skipped > 500, "the shortcut was taken {skipped} times");
    }

    #[test]
    fn tencents_valid_requests_skip_the_round_trip_and_its_text_headers_do_not() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let ctx = crate::generate::GenerationContext::new();
        let strategy = crate::generate::valid_request(api, &ctx);
        let mut runner = runner();
        for _ in 0..256 {
            let params = strategy.new_tree(&mut runner).unwrap().current();
            assert!(
                carries_unchanged(&specs, api, &params, None),
                "a valid request goes the long way: {params}"
            );
            assert!(!carries_unchanged(&specs, api, &params, Some("GET")));
        }
        let base = serde_json::json!({"Region": "ap-guangzhou", "BucketName": "b", "DryRun": true});
        assert!(carries_unchanged(&specs, api, &base, None));
        for (name, value) in [
            ("Region", serde_json::json!(" ap-guangzhou")),
            ("Region", serde_json::json!("ap-guangzhou\n")),
            ("Region", serde_json::json!("")),
            ("Region", serde_json::json!(7)),
            ("Region", Value::Null),
            ("region", serde_json::json!("ap-guangzhou")),
            ("xa", serde_json::json!("x")),
        ] {
            let mut params = base.clone();
            params[name] = value.clone();
            assert!(
                !carries_unchanged(&specs, api, &params, None),
                "{name}={value} is taken as arriving unchanged"
            );
        }
    }
}
