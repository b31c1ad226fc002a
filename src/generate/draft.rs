//! The generator's working form of a request: every parameter of the
//! spec has a value, and each optional one a flag saying whether it is
//! sent. Arrays carry more items than they show. Repairs and mutations can
//! therefore switch a parameter on, lengthen an array or swap in a spare
//! value without drawing anything new, which keeps the whole request a
//! pure function of proptest's value trees, so that it shrinks.

use std::sync::Arc;

use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub(crate) enum Draft {
    /// A string, integer or boolean, with other values drawn from the same
    /// strategy for repairs that need a different one (unique fields,
    /// captured URL parts).
    Scalar { value: Value, spares: Vec<Value> },
    /// `items` are all valid; the first `len` are sent.
    Array { items: Vec<Draft>, len: usize },
    /// One slot per field of the spec, in spec order (plus any unknown key
    /// a mutation adds).
    Object(Vec<Slot>),
}

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Shared with the strategy that draws it: every case of every draft
    /// names its slots, and a copy of a draft copies every name.
    pub name: Arc<str>,
    pub present: bool,
    pub value: Draft,
}

impl Draft {
    pub fn scalar(value: Value) -> Draft {
        Draft::Scalar {
            value,
            spares: Vec::new(),
        }
    }

    /// The request (or part of it) as sent.
    pub fn to_value(&self) -> Value {
        match self {
            Draft::Scalar { value, .. } => value.clone(),
            Draft::Array { items, len } => {
                Value::Array(items.iter().take(*len).map(Draft::to_value).collect())
            }
            Draft::Object(slots) => Value::Object(
                slots
                    .iter()
                    .filter(|s| s.present)
                    .map(|s| (s.name.to_string(), s.value.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    pub fn slots(&self) -> Option<&Vec<Slot>> {
        match self {
            Draft::Object(slots) => Some(slots),
            _ => None,
        }
    }

    pub fn slots_mut(&mut self) -> Option<&mut Vec<Slot>> {
        match self {
            Draft::Object(slots) => Some(slots),
            _ => None,
        }
    }
}

pub(crate) fn slot<'a>(slots: &'a [Slot], name: &str) -> Option<&'a Slot> {
    slots.iter().find(|s| &*s.name == name)
}

pub(crate) fn slot_mut<'a>(slots: &'a mut [Slot], name: &str) -> Option<&'a mut Slot> {
    slots.iter_mut().find(|s| &*s.name == name)
}

/// The value a field is sent with, if it is sent.
pub(crate) fn sent(slots: &[Slot], name: &str) -> Option<Value> {
    sent_draft(slots, name).map(Draft::to_value)
}

/// The draft of the value a field is sent with, if it is sent: what
/// [`sent`] would turn into a value, for the questions the draft answers
/// itself (whether it is there, how long it is) without building one.
pub(crate) fn sent_draft<'a>(slots: &'a [Slot], name: &str) -> Option<&'a Draft> {
    slot(slots, name)
        .filter(|s| s.present)
        .map(|s| &s.value)
        .filter(|d| {
            !matches!(
                d,
                Draft::Scalar {
                    value: Value::Null,
                    ..
                }
            )
        })
}

/// How many items an array field is sent with, if it is sent as an array.
pub(crate) fn sent_len(slots: &[Slot], name: &str) -> Option<usize> {
    sent_draft(slots, name).and_then(items_sent)
}

/// How many items `draft` sends, if it is an array.
fn items_sent(draft: &Draft) -> Option<usize> {
    match draft {
        Draft::Array { items, len } => Some((*len).min(items.len())),
        Draft::Scalar {
            value: Value::Array(items),
            ..
        } => Some(items.len()),
        _ => None,
    }
}

/// Whether a field is sent with something in it (the rules' "present":
/// a non-empty array or string, or any other value).
pub(crate) fn sent_non_empty(slots: &[Slot], name: &str) -> bool {
    match sent_draft(slots, name) {
        None => false,
        Some(Draft::Scalar {
            value: Value::String(s),
            ..
        }) => !s.is_empty(),
        Some(d) => items_sent(d) != Some(0),
    }
}

/// `a.b` for a scope and a field; the scope may be empty (the request).
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn split_segment(segment: &str) -> (&str, usize) {
    let mut name = segment;
    let mut arrays = 0;
    while let Some(rest) = name.strip_suffix("[]") {
        name = rest;
        arrays += 1;
    }
    (name, arrays)
}

fn segments(template: &str) -> Vec<&str> {
    if template.is_empty() {
        Vec::new()
    } else {
        template.split('.').collect()
    }
}

/// Calls `f` on every object at template path `scope`, hidden ones
/// (unsent fields, array items past `len`) included: a repair must leave
/// them valid too, since a later step may switch them on.
pub(crate) fn for_each_instance(root: &mut Draft, scope: &str, f: &mut dyn FnMut(&mut Vec<Slot>)) {
    visit(root, &segments(scope), f);
}

fn visit(draft: &mut Draft, rest: &[&str], f: &mut dyn FnMut(&mut Vec<Slot>)) {
    let Draft::Object(slots) = draft else {
        return;
    };
    match rest.split_first() {
        None => f(slots),
        Some((segment, rest)) => {
            let (name, arrays) = split_segment(segment);
            if let Some(s) = slot_mut(slots, name) {
                descend(&mut s.value, arrays, rest, f);
            }
        }
    }
}

fn descend(draft: &mut Draft, arrays: usize, rest: &[&str], f: &mut dyn FnMut(&mut Vec<Slot>)) {
    if arrays == 0 {
        visit(draft, rest, f);
    } else if let Draft::Array { items, .. } = draft {
        for item in items {
            descend(item, arrays - 1, rest, f);
        }
    }
}

/// Makes everything on template path `template` sent, taking the first
/// item of each array (which is made to exist); returns the concrete path
/// (`dataDisks[0].cloudDiskSpec.diskSizeGB`); `None` when an array has no
/// item to show.
pub(crate) fn force(root: &mut Draft, template: &str) -> Option<String> {
    let mut current = root;
    let mut concrete = String::new();
    for segment in segments(template) {
        let (name, arrays) = split_segment(segment);
        let slots = current.slots_mut()?;
        let s = slot_mut(slots, name)?;
        s.present = true;
        concrete = join(&concrete, name);
        current = &mut s.value;
        for _ in 0..arrays {
            let Draft::Array { items, len } = current else {
                return None;
            };
            if items.is_empty() {
                return None;
            }
            *len = (*len).max(1);
            concrete.push_str("[0]");
            current = &mut items[0];
        }
    }
    Some(concrete)
}

/// The draft at template path `template`, following the first item of
/// each array, whether or not it is sent.
pub(crate) fn at_mut<'a>(root: &'a mut Draft, template: &str) -> Option<&'a mut Draft> {
    let mut current = root;
    for segment in segments(template) {
        let (name, arrays) = split_segment(segment);
        let s = slot_mut(current.slots_mut()?, name)?;
        current = &mut s.value;
        for _ in 0..arrays {
            match current {
                Draft::Array { items, .. } if !items.is_empty() => current = &mut items[0],
                _ => return None,
            }
        }
    }
    Some(current)
}

/// The slot at template path `template` (which must end in a field name),
/// following the first item of each array.
pub(crate) fn slot_at_mut<'a>(root: &'a mut Draft, template: &str) -> Option<&'a mut Slot> {
    let (parent, name) = match template.rsplit_once('.') {
        Some((parent, name)) => (parent, name),
        None => ("", template),
    };
    if name.ends_with("[]") {
        return None;
    }
    let parent = at_mut(root, parent)?;
    slot_mut(parent.slots_mut()?, name)
}

/// The object scope and field name of a parameter's template path; array
/// items (`ImageIds[]`) have no field name of their own.
pub(crate) fn split_field(template: &str) -> (&str, &str) {
    match template.rsplit_once('.') {
        Some((parent, name)) => (parent, name),
        None => ("", template),
    }
}

/// Makes `n` of the array's items visible. Missing items are copies of
/// `filler` when given, else of the array's own items in turn.
pub(crate) fn resize(array: &mut Draft, n: usize, filler: Option<&Draft>) -> bool {
    let Draft::Array { items, len } = array else {
        return false;
    };
    let mut i = 0;
    while items.len() < n {
        let copy = match filler {
            Some(f) => f.clone(),
            None if items.is_empty() => return false,
            None => items[i].clone(),
        };
        items.push(copy);
        i += 1;
    }
    *len = n;
    true
}

/// Puts `value` at template path `template` (sent), returning the
/// concrete path.
pub(crate) fn put(d: &mut Draft, template: &str, value: Draft) -> Option<String> {
    let concrete = force(d, template)?;
    *at_mut(d, template)? = value;
    Some(concrete)
}
