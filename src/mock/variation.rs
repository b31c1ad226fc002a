//! What the providers' documents leave free in an answer, varied: the order
//! of fields, fields a client does not know, optional fields of an error,
//! parameters of `Content-Type`. A client that reads answers by the
//! documents copes with every variant; one that leans on an accident of
//! the real service (a fixed field order, an exact `Content-Type`) does
//! not. The mock varies its answers when [`super::MockConfig::vary`] holds
//! a seed, each answer by its own sequence number, so a run replays.
//!
//! Header case is not varied: the HTTP/1 server writes header names in
//! lower case whatever it is given.

use serde_json::{Map, Value};

use crate::protocol::Answer;
use crate::spec::ProviderId;

/// The field added to answers, which no client should need to know.
pub const UNKNOWN_FIELD: &str = "ImgconformUnknownField";

/// Which variations `seed` and `seq` pick, as a set of bits.
fn pick(seed: u64, seq: u64) -> u64 {
    // SplitMix64: every bit depends on both.
    let mut z = seed.wrapping_add(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `answer` varied; returns the names of the variations applied.
pub fn vary(provider: ProviderId, answer: &mut Answer, seed: u64, seq: u64) -> Vec<&'static str> {
    let bits = pick(seed, seq);
    let mut applied = Vec::new();
    if bits & 8 != 0 && answer.content_type == "application/json" {
        answer.content_type = "application/json; charset=utf-8";
        applied.push("content-type charset");
    }
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&answer.body) else {
        return applied;
    };
    let optional = crate::protocol::provider_for(provider).optional_error_fields();
    if bits & 4 != 0 && !optional.is_empty() {
        // Fields the provider's gateway adds only sometimes (Alibaba's
        // HostId and Recommend): a client must cope without them.
        let before = body.len();
        for field in optional {
            body.remove(*field);
        }
        if body.len() < before {
            applied.push("optional error fields dropped");
        }
    }
    if bits & 2 != 0 {
        if let Some(inner) = innermost(&mut body) {
            inner.insert(
                UNKNOWN_FIELD.into(),
                Value::String("a field added later".into()),
            );
            applied.push("unknown field");
        }
    }
    let mut body = Value::Object(body);
    if bits & 1 != 0 {
        reverse(&mut body);
        applied.push("field order reversed");
    }
    answer.body = serde_json::to_vec(&body).unwrap_or_else(|_| answer.body.clone());
    applied
}

/// The object that holds the business fields or the error: Tencent's
/// `Response`, JD's `result` or `error`, Alibaba's top level.
pub(crate) fn innermost(body: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    for key in ["Response", "result", "error"] {
        if body.get(key).is_some_and(Value::is_object) {
            return body.get_mut(key).and_then(Value::as_object_mut);
        }
    }
    Some(body)
}

pub(crate) fn reverse(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().rev().collect();
            for (k, mut v) in entries {
                reverse(&mut v);
                map.insert(k, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reverse),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Answer {
        Answer {
            http_status: 200,
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_variation_is_met_and_the_content_survives() {
        let mut seen = std::collections::BTreeSet::new();
        for seq in 0..64 {
            let mut a = answer(r#"{"Response":{"TaskId":1,"RequestId":"r"}}"#);
            for v in vary(ProviderId::Tencent, &mut a, 7, seq) {
                seen.insert(v);
            }
            let body: Value = serde_json::from_slice(&a.body).unwrap();
            assert_eq!(body["Response"]["TaskId"], 1);
            assert_eq!(body["Response"]["RequestId"], "r");
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [
                "content-type charset",
                "field order reversed",
                "unknown field"
            ]
        );
    }

    #[test]
    fn alibaba_errors_lose_their_optional_fields_sometimes() {
        let dropped = (0..64).any(|seq| {
            let mut a = answer(
                r#"{"RequestId":"r","HostId":"h","Code":"C","Message":"m","Recommend":"x"}"#,
            );
            let applied = vary(ProviderId::Aliyun, &mut a, 7, seq);
            let body: Value = serde_json::from_slice(&a.body).unwrap();
            assert_eq!(body["Code"], "C");
            applied.contains(&"optional error fields dropped") && body.get("HostId").is_none()
        });
        assert!(dropped);
    }

    #[test]
    fn the_same_seed_and_sequence_give_the_same_answer() {
        let mut a = answer(r#"{"a":1,"b":{"c":2,"d":3}}"#);
        let mut b = answer(r#"{"a":1,"b":{"c":2,"d":3}}"#);
        vary(ProviderId::Jdcloud, &mut a, 3, 9);
        vary(ProviderId::Jdcloud, &mut b, 3, 9);
        assert_eq!(a, b);
    }
}
