//! Making a draft satisfy the spec's cross-field rules, read generically
//! from each rule's kind. Repairs only switch fields on or off, resize
//! arrays within their reserve, fold an integer into the range that
//! applies, splice a compared value into a captured part, or swap in a
//! spare value: they never draw anything, so a repaired request still
//! shrinks with the draft it came from.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::spec::model::When;
use crate::spec::{ApiSpec, Param, ParamKind, Rule, RuleCheck};

use super::draft::{
    for_each_instance, join, resize, sent, sent_draft, sent_len, sent_non_empty, slot_mut, Draft,
    Slot,
};
use super::oracle::own_problems;
use super::values::{bounds, ceil_to, floor_to, step_of};

/// What a repair must leave alone: a rule a mutation breaks on purpose,
/// and the template paths of the parameters it changed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Freeze {
    pub rule: Option<String>,
    pub paths: Vec<String>,
}

impl Freeze {
    pub fn paths(paths: impl IntoIterator<Item = String>) -> Freeze {
        Freeze {
            rule: None,
            paths: paths.into_iter().collect(),
        }
    }

    pub fn rule(id: &str, paths: impl IntoIterator<Item = String>) -> Freeze {
        Freeze {
            rule: Some(id.to_string()),
            paths: paths.into_iter().collect(),
        }
    }

    fn frozen(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    fn skips(&self, rule: &Rule) -> bool {
        self.rule.as_deref() == Some(rule.id.as_str())
    }
}

/// Repairs `root` so that every rule (but the frozen one) holds. Two
/// rounds settle the rules that feed each other (a field switched on by
/// one rule is folded into range by another).
pub(crate) fn repair(api: &ApiSpec, root: &mut Draft, freeze: &Freeze) {
    for _ in 0..2 {
        for rule in api.rules.iter().filter(|r| !freeze.skips(r)) {
            presence(rule, root, freeze);
        }
        for rule in api.rules.iter().filter(|r| !freeze.skips(r)) {
            if let RuleCheck::SameLength { field, as_any_of } = &rule.check {
                same_length(api, rule, field, as_any_of, root, freeze);
            }
        }
        ranges(api, root, freeze);
        for rule in api.rules.iter().filter(|r| !freeze.skips(r)) {
            match &rule.check {
                RuleCheck::CaptureEquals {
                    field,
                    regex,
                    group,
                    equals,
                } => capture(api, rule, field, regex, *group, equals, root, freeze),
                RuleCheck::Unique { array, field } => unique(api, rule, array, field, root, freeze),
                _ => {}
            }
        }
    }
}

fn holds(when: &When, slots: &[Slot]) -> bool {
    when.holds_for(sent(slots, &when.field).as_ref())
}

fn switch_on(slots: &mut [Slot], name: &str) {
    if let Some(s) = slot_mut(slots, name) {
        s.present = true;
    }
}

/// Sends the field with something in it, if its draft allows.
pub(crate) fn make_non_empty(slots: &mut [Slot], name: &str) -> bool {
    let Some(s) = slot_mut(slots, name) else {
        return false;
    };
    let ok = match &mut s.value {
        Draft::Array { items, len } if !items.is_empty() => {
            *len = (*len).max(1);
            true
        }
        Draft::Array { .. } => false,
        Draft::Scalar { value, spares } => match value {
            Value::String(v) if v.is_empty() => {
                match spares
                    .iter()
                    .find(|s| s.as_str().is_some_and(|s| !s.is_empty()))
                {
                    Some(spare) => {
                        *value = spare.clone();
                        true
                    }
                    None => false,
                }
            }
            _ => true,
        },
        Draft::Object(_) => true,
    };
    if ok {
        s.present = true;
    }
    ok
}

fn presence(rule: &Rule, root: &mut Draft, freeze: &Freeze) {
    let scope = &rule.scope;
    match &rule.check {
        RuleCheck::RequiredWhen { field, when } if !freeze.frozen(&join(scope, field)) => {
            for_each_instance(root, scope, &mut |slots| {
                if holds(when, slots) && sent_draft(slots, field).is_none() {
                    switch_on(slots, field);
                }
            });
        }
        RuleCheck::RequiredUnless { field, other } if !freeze.frozen(&join(scope, field)) => {
            for_each_instance(root, scope, &mut |slots| {
                if sent_draft(slots, field).is_none() && !sent_non_empty(slots, other) {
                    switch_on(slots, field);
                }
            });
        }
        RuleCheck::AtLeastOneOf { fields } => {
            for_each_instance(root, scope, &mut |slots| {
                if fields.iter().any(|f| sent_non_empty(slots, f)) {
                    return;
                }
                for f in fields.iter().filter(|f| !freeze.frozen(&join(scope, f))) {
                    if make_non_empty(slots, f) {
                        break;
                    }
                }
            });
        }
        _ => {}
    }
}

pub(crate) fn count_allowed(param: Option<&Param>, n: usize) -> bool {
    match param.map(|p| &p.kind) {
        Some(ParamKind::Array(a)) => {
            a.min_items.is_none_or(|m| n as u64 >= m) && a.max_items.is_none_or(|m| n as u64 <= m)
        }
        _ => true,
    }
}

fn same_length(
    api: &ApiSpec,
    rule: &Rule,
    field: &str,
    as_any_of: &[String],
    root: &mut Draft,
    freeze: &Freeze,
) {
    let scope = &rule.scope;
    let field_path = join(scope, field);
    let field_param = api.param(&field_path);
    for_each_instance(root, scope, &mut |slots| {
        let Some(len) = sent_len(slots, field) else {
            return;
        };
        let other = as_any_of.iter().find_map(|o| match sent_len(slots, o) {
            Some(n) if n > 0 => Some((o.clone(), n)),
            _ => None,
        });
        let Some((other, other_len)) = other else {
            return;
        };
        if len == other_len {
            return;
        }
        if !freeze.frozen(&field_path) && count_allowed(field_param, other_len) {
            if let Some(s) = slot_mut(slots, field) {
                if resize(&mut s.value, other_len, None) {
                    return;
                }
            }
        }
        let other_path = join(scope, &other);
        if !freeze.frozen(&other_path) && len > 0 && count_allowed(api.param(&other_path), len) {
            if let Some(s) = slot_mut(slots, &other) {
                if resize(&mut s.value, len, None) {
                    return;
                }
            }
        }
        if !freeze.frozen(&field_path) && !field_param.is_some_and(|p| p.required) {
            if let Some(s) = slot_mut(slots, field) {
                s.present = false;
            }
        }
    });
}

/// Folds every integer governed by `range_when` rules into the
/// intersection of its own bounds and those of the rules whose condition
/// holds; a value already inside stays as it is.
fn ranges(api: &ApiSpec, root: &mut Draft, freeze: &Freeze) {
    let mut done = BTreeSet::new();
    for rule in &api.rules {
        let RuleCheck::RangeWhen { field, .. } = &rule.check else {
            continue;
        };
        let path = join(&rule.scope, field);
        if freeze.frozen(&path) || !done.insert(path.clone()) {
            continue;
        }
        let own = match api.param(&path).map(|p| &p.kind) {
            Some(ParamKind::Integer(r)) => (r.minimum, r.maximum, step_of(r.multiple_of)),
            _ => (None, None, 1),
        };
        let group: Vec<&Rule> = api
            .rules
            .iter()
            .filter(|r| r.scope == rule.scope && !freeze.skips(r))
            .filter(|r| matches!(&r.check, RuleCheck::RangeWhen { field: f, .. } if f == field))
            .collect();
        for_each_instance(root, &rule.scope, &mut |slots| {
            let Some(n) = sent(slots, field).and_then(|v| v.as_i64()) else {
                return;
            };
            let (mut lo, mut hi, mut step) = own;
            let mut any = false;
            for r in &group {
                if let RuleCheck::RangeWhen {
                    when,
                    minimum,
                    maximum,
                    multiple_of,
                    ..
                } = &r.check
                {
                    if holds(when, slots) {
                        any = true;
                        lo = max_opt(lo, *minimum);
                        hi = min_opt(hi, *maximum);
                        step = lcm(step, step_of(*multiple_of));
                    }
                }
            }
            if !any {
                return;
            }
            let (lo, hi) = bounds(lo, hi, step);
            let folded = fold(n, lo, hi, step);
            if folded != n {
                if let Some(Slot {
                    value: Draft::Scalar { value, .. },
                    ..
                }) = slot_mut(slots, field)
                {
                    *value = Value::from(folded);
                }
            }
        });
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn lcm(a: i64, b: i64) -> i64 {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 {
            a.abs()
        } else {
            gcd(b, a % b)
        }
    }
    if a == 0 || b == 0 {
        a.max(b)
    } else {
        (a / gcd(a, b) * b).abs()
    }
}

/// `n` if it lies on the grid `lo..=hi` step `step`, else the grid point
/// it wraps onto (small values stay small, so shrinking still works).
pub(crate) fn fold(n: i64, lo: i64, hi: i64, step: i64) -> i64 {
    let (first, last) = (ceil_to(lo, step), floor_to(hi, step));
    if first > last || (first..=last).contains(&n) && n.rem_euclid(step) == 0 {
        return n;
    }
    let (n, first, last, step) = (n as i128, first as i128, last as i128, step as i128);
    let count = (last - first) / step + 1;
    let k = (n - first).div_euclid(step).rem_euclid(count);
    (first + k * step) as i64
}

/// `text` with capture `group` of `regex` replaced by `want`, if the
/// result still captures exactly `want` there.
pub(crate) fn splice(regex: &regex::Regex, group: usize, text: &str, want: &str) -> Option<String> {
    let m = regex.captures(text)?.get(group)?;
    let spliced = format!("{}{want}{}", &text[..m.start()], &text[m.end()..]);
    let again = regex.captures(&spliced)?.get(group)?;
    (again.as_str() == want).then_some(spliced)
}

#[allow(clippy::too_many_arguments)]
fn capture(
    api: &ApiSpec,
    rule: &Rule,
    field: &str,
    regex: &regex::Regex,
    group: usize,
    equals: &str,
    root: &mut Draft,
    freeze: &Freeze,
) {
    let path = join(&rule.scope, field);
    if freeze.frozen(&path) {
        return;
    }
    let Some(param) = api.param(&path) else {
        return;
    };
    let at_root = root.slots().and_then(|s| sent(s, equals));
    for_each_instance(root, &rule.scope, &mut |slots| {
        let Some(Value::String(want)) = sent(slots, equals).or_else(|| at_root.clone()) else {
            return;
        };
        let Some(s) = slot_mut(slots, field) else {
            return;
        };
        let Draft::Scalar { value, spares } = &mut s.value else {
            return;
        };
        let candidates: Vec<String> = std::iter::once(&*value)
            .chain(spares.iter())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let mut unaffected = None;
        for text in &candidates {
            if let Some(spliced) = splice(regex, group, text, &want) {
                if own_problems(param, &Value::String(spliced.clone())).is_empty() {
                    *value = Value::String(spliced);
                    return;
                }
            } else if !regex.is_match(text) && unaffected.is_none() {
                unaffected = Some(text.clone());
            }
        }
        match unaffected {
            // The rule reads nothing from a value its regex does not match.
            Some(text) => *value = Value::String(text),
            None if !param.required => s.present = false,
            None => {}
        }
    });
}

fn unique(api: &ApiSpec, rule: &Rule, array: &str, field: &str, root: &mut Draft, freeze: &Freeze) {
    let path = format!("{}[].{field}", join(&rule.scope, array));
    if freeze.frozen(&path) {
        return;
    }
    let required = api.param(&path).is_some_and(|p| p.required);
    for_each_instance(root, &rule.scope, &mut |slots| {
        let Some(Slot {
            value: Draft::Array { items, .. },
            ..
        }) = slot_mut(slots, array)
        else {
            return;
        };
        // Every item's value, sent or not, is kept distinct, so that any
        // later switch leaves the rule holding.
        let mut seen: Vec<Value> = Vec::new();
        for item in items.iter_mut() {
            let Some(s) = item.slots_mut().and_then(|slots| slot_mut(slots, field)) else {
                continue;
            };
            let Draft::Scalar { value, spares } = &mut s.value else {
                continue;
            };
            if seen.contains(value) {
                match spares.iter().find(|v| !seen.contains(v)) {
                    Some(spare) => *value = spare.clone(),
                    None if s.present && !required => {
                        s.present = false;
                        continue;
                    }
                    None => continue,
                }
            }
            seen.push(value.clone());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_keeps_values_on_the_grid_and_wraps_the_others() {
        assert_eq!(fold(40, 20, 1000, 10), 40);
        let wrapped = fold(1010, 20, 1000, 10);
        assert!((20..=1000).contains(&wrapped) && wrapped % 10 == 0);
        let wrapped = fold(25, 20, 1000, 10);
        assert!((20..=1000).contains(&wrapped) && wrapped % 10 == 0);
        assert_eq!(fold(0, 1, 9, 1), 9);
        assert_eq!(lcm(10, 4), 20);
    }

    #[test]
    fn splice_puts_the_compared_value_into_the_captured_part() {
        let re = regex::Regex::new(
            r"^https?://(?:[^/?#]+\.)?s3(?:-internal)?\.([a-z0-9-]+)\.jdcloud-oss\.com(?::[0-9]+)?(?:[/?#].*)?$",
        )
        .unwrap();
        assert_eq!(
            splice(
                &re,
                1,
                "https://b.s3.cn-east-2.jdcloud-oss.com/x",
                "cn-north-1"
            )
            .as_deref(),
            Some("https://b.s3.cn-north-1.jdcloud-oss.com/x")
        );
        assert_eq!(splice(&re, 1, "https://example.com", "cn-north-1"), None);
        assert_eq!(
            splice(&re, 1, "https://s3.a.jdcloud-oss.com", "not a region"),
            None
        );
    }
}
