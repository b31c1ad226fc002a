//! Checks a success answer's body against the spec's response schema, inside
//! the provider's envelope.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::spec::model::{json_kind, type_name};
use crate::spec::raw::Protocol;
use crate::spec::{ApiSpec, Param, ParamKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
/// One way a success answer's body departs from the documented response.
pub struct ResponseProblem {
    /// Path into the body: `result.taskId`, `Response.TaskId`.
    pub path: String,
    /// What sort of problem it is.
    pub kind: ResponseProblemKind,
    /// What was found, in the body's own terms.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
/// The sorts of problem a success body can have.
pub enum ResponseProblemKind {
    /// The provider's envelope is not there (no `result`, no request id…).
    Envelope,
    /// A documented field is absent.
    MissingField,
    /// A field has another type than documented.
    WrongType,
    /// A field the document does not list.
    UnknownField,
}

/// Where each protocol keeps the business fields and the request id.
struct Envelope {
    /// Keys from the body's root down to the object holding the fields.
    container: &'static [&'static str],
    /// Key of the request id inside the container's parent chain.
    request_id: &'static [&'static str],
}

fn envelope(protocol: Protocol) -> Envelope {
    match protocol {
        Protocol::JdcloudRestJson => Envelope {
            container: &["result"],
            request_id: &["requestId"],
        },
        Protocol::AliyunRpc => Envelope {
            container: &[],
            request_id: &["RequestId"],
        },
        Protocol::TencentApi3 => Envelope {
            container: &["Response"],
            request_id: &["Response", "RequestId"],
        },
    }
}

/// Every way `body` departs from the documented success shape of `api`.
pub fn check_success_body(api: &ApiSpec, body: &Value) -> Vec<ResponseProblem> {
    let mut problems = Vec::new();
    let shape = envelope(api.raw.protocol);
    let request_id = shape.request_id.iter().try_fold(body, |v, key| v.get(key));
    if !request_id.is_some_and(Value::is_string) {
        problems.push(ResponseProblem {
            path: shape.request_id.join("."),
            kind: ResponseProblemKind::Envelope,
            detail: "no request id as a string where the envelope keeps it".into(),
        });
    }
    let container = shape.container.iter().try_fold(body, |v, key| v.get(key));
    let Some(Value::Object(fields)) = container else {
        let path = shape.container.join(".");
        problems.push(ResponseProblem {
            detail: format!(
                "the envelope has no object {}",
                if path.is_empty() {
                    "at the root".into()
                } else {
                    format!("\"{path}\"")
                }
            ),
            path,
            kind: ResponseProblemKind::Envelope,
        });
        return problems;
    };
    let prefix = shape.container.join(".");
    // The request id lives among the fields for flat envelopes.
    let envelope_keys: Vec<&str> = match shape.container.len() {
        0 => vec![shape.request_id[0]],
        _ if shape.request_id.len() == shape.container.len() + 1 => {
            vec![shape.request_id[shape.request_id.len() - 1]]
        }
        _ => vec![],
    };
    object(
        &api.response,
        fields,
        &prefix,
        &envelope_keys,
        &mut problems,
    );
    problems
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn object(
    documented: &[Param],
    fields: &Map<String, Value>,
    prefix: &str,
    envelope_keys: &[&str],
    problems: &mut Vec<ResponseProblem>,
) {
    for (key, _) in fields.iter() {
        if envelope_keys.contains(&key.as_str()) || documented.iter().any(|p| &p.name == key) {
            continue;
        }
        problems.push(ResponseProblem {
            path: join(prefix, key),
            kind: ResponseProblemKind::UnknownField,
            detail: format!("\"{key}\" is not a documented response field"),
        });
    }
    for param in documented {
        let path = join(prefix, &param.name);
        match fields.get(&param.name) {
            None => problems.push(ResponseProblem {
                detail: format!("documented field \"{}\" is absent", param.name),
                path,
                kind: ResponseProblemKind::MissingField,
            }),
            Some(value) => check_value(param, value, path, problems),
        }
    }
}

fn check_value(param: &Param, value: &Value, path: String, problems: &mut Vec<ResponseProblem>) {
    match (&param.kind, value) {
        (ParamKind::String(_), Value::String(_)) | (ParamKind::Boolean, Value::Bool(_)) => {}
        (ParamKind::Integer(_), Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        (ParamKind::Array(a), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(&a.items, item, format!("{path}[{i}]"), problems);
            }
        }
        (ParamKind::Object(o), Value::Object(fields)) => {
            object(&o.fields, fields, &path, &[], problems);
        }
        _ => problems.push(ResponseProblem {
            detail: format!(
                "\"{path}\" should be {}, is {}",
                type_name(param.value_type()),
                json_kind(value)
            ),
            path,
            kind: ResponseProblemKind::WrongType,
        }),
    }
}
