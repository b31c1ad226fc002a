//! What a generator must be told rather than derive: the names of things
//! that exist in the world the requests go to.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::spec::raw::{Location, RawTrigger};
use crate::spec::{ApiSpec, Param, ParamKind, RuleCheck};

use super::draft::join;
use super::oracle::own_problems;

/// The fixture a generator draws world-bound values from.
///
/// A parameter whose template path has known values takes one of them
/// (array items: distinct ones, as many as there are) instead of an
/// arbitrary value, so that against the mock's default world a valid
/// request names an image, instance, bucket, snapshot or role that
/// exists. Everything else is derived from the spec.
#[derive(Debug, Clone, Default)]
pub struct GenerationContext {
    /// Template path (`regionId`, `ImageIds[]`,
    /// `dataDisks[].cloudDiskSpec.snapshotId`) to the values to draw from.
    pub known: BTreeMap<String, Vec<Value>>,
    /// Template path of an array to the most items a valid request gives
    /// it (the default is its `max_items` up to 10, else 4).
    pub array_caps: BTreeMap<String, usize>,
}

impl GenerationContext {
    /// A context that knows no world: ids and names are drawn freely.
    pub fn new() -> GenerationContext {
        GenerationContext::default()
    }

    /// Adds known values for the parameter at template path `path`.
    pub fn with_known<V: Into<Value>>(
        mut self,
        path: &str,
        values: impl IntoIterator<Item = V>,
    ) -> GenerationContext {
        let entry = self.known.entry(path.to_string()).or_default();
        for v in values {
            let v = v.into();
            if !entry.contains(&v) {
                entry.push(v);
            }
        }
        self
    }

    /// Caps how many items valid requests put in the array at `path`.
    pub fn with_array_cap(mut self, path: &str, cap: usize) -> GenerationContext {
        self.array_caps.insert(path.to_string(), cap);
        self
    }

    /// Takes the values of the world-bound parameters
    /// ([`world_bound_params`]) from documented example requests; for a
    /// parameter none of them sends, from the spec's own `example` of it
    /// (or of its array), else its default. A value that breaks the
    /// parameter's own constraints is left out.
    pub fn from_examples(api: &ApiSpec, examples: &[Value]) -> GenerationContext {
        let mut ctx = GenerationContext::new();
        for param in world_bound_params(api) {
            let mut found = Vec::new();
            for example in examples {
                collect(example, &param.path, &mut found);
            }
            if found.is_empty() {
                found.extend(spec_example(api, param));
            }
            if found.is_empty() {
                found.extend(param.default.clone());
            }
            let good: Vec<Value> = found
                .into_iter()
                .filter(|v| own_problems(param, v).is_empty())
                .collect();
            if !good.is_empty() {
                ctx = ctx.with_known(&param.path, good);
            }
        }
        ctx
    }

    pub(crate) fn known_for(&self, param: &Param) -> Option<Vec<Value>> {
        let values: Vec<Value> = self
            .known
            .get(&param.path)?
            .iter()
            .filter(|v| own_problems(param, v).is_empty())
            .cloned()
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// The parameters whose values must name something in the world: string
/// parameters (or string array items) without an `enum` that are path or
/// header parameters, or are named by a precondition trigger of the API's
/// errors (the document says a missing one is an error), or are the value
/// a `capture_equals` rule compares with (the region). A field that a
/// `unique` rule keeps distinct is left free, since a fixed list could not
/// fill an array of distinct values.
pub fn world_bound_params(api: &ApiSpec) -> Vec<&Param> {
    let named_by_precondition = |path: &str| {
        api.errors.iter().any(|e| {
            e.triggers.iter().any(
                |t| matches!(t, RawTrigger::Precondition { parameter: Some(p), .. } if p == path),
            )
        })
    };
    let compared_with = |path: &str| {
        api.rules.iter().any(|r| {
            matches!(&r.check, RuleCheck::CaptureEquals { equals, .. }
                if join(&r.scope, equals) == path || equals == path)
        })
    };
    let kept_unique = |path: &str| {
        api.rules.iter().any(|r| {
            matches!(&r.check, RuleCheck::Unique { array, field }
                if format!("{}[].{field}", join(&r.scope, array)) == path)
        })
    };
    api.all_params()
        .into_iter()
        .filter(|p| matches!(&p.kind, ParamKind::String(s) if s.enum_values.is_none()))
        .filter(|p| {
            matches!(p.location, Some(Location::Path | Location::Header))
                || named_by_precondition(&p.path)
                || compared_with(&p.path)
        })
        .filter(|p| !kept_unique(&p.path))
        .collect()
}

/// The spec's example value of `param`; for an array item, the items of
/// the array's example.
fn spec_example(api: &ApiSpec, param: &Param) -> Vec<Value> {
    if let Some(example) = &param.example {
        return vec![example.clone()];
    }
    match param
        .path
        .strip_suffix("[]")
        .and_then(|array| api.param(array))
    {
        Some(array) => match &array.example {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Values at template path `path` in `value`; keys match ignoring case
/// when no exact key exists (JD's documented example sends
/// `CloudDiskSpec`).
fn collect(value: &Value, path: &str, out: &mut Vec<Value>) {
    let segments: Vec<&str> = path.split('.').collect();
    walk(value, &segments, out);
}

fn walk(value: &Value, segments: &[&str], out: &mut Vec<Value>) {
    let Some((segment, rest)) = segments.split_first() else {
        if !value.is_null() {
            out.push(value.clone());
        }
        return;
    };
    let mut name = *segment;
    let mut arrays = 0;
    while let Some(n) = name.strip_suffix("[]") {
        name = n;
        arrays += 1;
    }
    let Some(object) = value.as_object() else {
        return;
    };
    let Some(found) = get_ci(object, name) else {
        return;
    };
    let mut current = vec![found];
    for _ in 0..arrays {
        current = current
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .collect();
    }
    for v in current {
        walk(v, rest, out);
    }
}

fn get_ci<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}
