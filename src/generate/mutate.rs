//! Requests that break exactly one target (see [`super::targets`]): a
//! valid request, the target's parameter or rule broken, the other rules
//! repaired around it. Anything else the change happens to break is
//! undone (an optional field it upset is left out) or the case is
//! rejected, so a mutation draws its target's violation, its declared
//! cross-effects, and nothing more; `expected` lists them with the errors
//! the documents name.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use regex::Regex;
use serde::Serialize;
use serde_json::{json, Value};

use crate::spec::model::When;
use crate::spec::raw::{ConstraintKind, StringFormat};
use crate::spec::{
    ApiSpec, ErrorSpec, IntegerRules, Param, ParamKind, Rule, RuleCheck, Specs, StringRules,
};
use crate::validate::ValidationOptions;

use super::context::GenerationContext;
use super::draft::{
    at_mut, force, join, put, resize, sent, sent_len, slot_at_mut, slot_mut, split_field, Draft,
    Slot,
};
use super::oracle::{own_problems, violations, ExpectedViolation};
use super::repair::{count_allowed, make_non_empty, repair, splice, Freeze};
use super::targets::{int_enum_misses, violation_targets, Plan, Target, ViolationTarget};
use super::values::{
    ceil_to, class_members, drafts, encode_json, floor_to, free_text, https_urls, insert_dotted,
    item_filler, regex_strings, simple_shape, step_of, strings_of, swap_case, value, Gen, ALNUM,
};

/// A request that breaks one target, with every violation it is expected
/// to draw (the target's, plus any declared cross-effect).
#[derive(Debug, Clone, Serialize)]
pub struct Mutation {
    /// What the mutation breaks.
    pub target: Target,
    /// What was changed from a valid request, as a sentence.
    pub change: String,
    /// The request, valid but for that one violation.
    pub request: Value,
    /// The violations the documents expect the service to report for it.
    pub expected: Vec<ExpectedViolation>,
}

/// The strategy of mutations for one target of `api`.
pub fn single_violation(
    specs: &Specs,
    api: &ApiSpec,
    ctx: &GenerationContext,
    target: &ViolationTarget,
) -> BoxedStrategy<Mutation> {
    let gen = Gen::new(api, ctx);
    let errors: Arc<Vec<ErrorSpec>> = Arc::new(specs.provider_of(api).errors.clone());
    let base = drafts(&gen);
    let vt = Arc::new(target.clone());
    let reject = "a mutation that breaks more than its target";
    match &target.plan {
        Plan::Value(kind) => {
            let param = gen
                .api
                .param(target_param(&vt.target))
                .expect("targets name parameters")
                .clone();
            let wrong = wrong_values(&gen, &param, *kind, &vt);
            (base, wrong)
                .prop_filter_map(reject, move |(d, w)| set_value(&gen, &errors, &vt, d, w))
                .boxed()
        }
        Plan::Required { empty_counts } => {
            let variants: usize = if *empty_counts { 3 } else { 2 };
            (base, 0..variants)
                .prop_filter_map(reject, move |(d, k)| leave_out(&gen, &errors, &vt, d, k))
                .boxed()
        }
        Plan::Count(counts) => {
            let filler = item_filler(&gen, target_param(&vt.target));
            (base, select(counts.clone()))
                .prop_filter_map(reject, move |(d, n)| {
                    count(&gen, &errors, &vt, d, n, filler.as_ref())
                })
                .boxed()
        }
        Plan::Unknown => {
            let keys = unknown_keys(&gen, target_param(&vt.target));
            let values = prop_oneof![
                Just(json!("x")),
                any::<i32>().prop_map(|n| json!(n)),
                any::<bool>().prop_map(|b| json!(b))
            ];
            (base, keys, values)
                .prop_filter_map(reject, move |(d, k, v)| {
                    unknown(&gen, &errors, &vt, d, k, v)
                })
                .boxed()
        }
        Plan::Range(values) => {
            let rule = rule_of(&gen.api, &vt.target)
                .expect("targets name rules")
                .clone();
            (base, select(values.clone()), 0..8usize)
                .prop_filter_map(reject, move |(d, v, k)| {
                    out_of_range(&gen, &errors, &vt, &rule, d, v, k)
                })
                .boxed()
        }
        Plan::Rule => {
            let rule = rule_of(&gen.api, &vt.target)
                .expect("targets name rules")
                .clone();
            let filler = match &rule.check {
                RuleCheck::Unique { array, .. } => item_filler(&gen, &join(&rule.scope, array)),
                RuleCheck::SameLength { field, .. } => item_filler(&gen, &join(&rule.scope, field)),
                _ => None,
            };
            (base, 0..64usize, 0..64usize)
                .prop_filter_map(reject, move |(d, a, b)| {
                    break_rule(&gen, &errors, &vt, &rule, d, a, b, filler.as_ref())
                })
                .boxed()
        }
    }
}

/// Keys that `object` (the request where empty) does not know, in any case.
fn unknown_keys(gen: &Gen, object: &str) -> BoxedStrategy<String> {
    let names: Vec<String> = if object.is_empty() {
        gen.api.params.iter().map(|p| p.name.clone()).collect()
    } else {
        gen.api
            .param(object)
            .map(|p| p.children().iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    };
    // Keys start with a lower-case x so that they never meet a
    // protocol's own parameters (Action, Version, Signature…).
    strings_of(select(ALNUM.chars().collect::<Vec<_>>()), 1, 10)
        .prop_map(|s| format!("x{s}"))
        .prop_filter("a key the spec does not know", move |k| {
            !names.iter().any(|n| n.eq_ignore_ascii_case(k))
        })
        .boxed()
}

/// Mutations of every target of `api`, one target at a time.
pub fn any_single_violation(
    specs: &Specs,
    api: &ApiSpec,
    ctx: &GenerationContext,
) -> BoxedStrategy<Mutation> {
    proptest::strategy::Union::new(every_target(specs, api, ctx)).boxed()
}

/// The strategy of mutations of each target of `api`, in the targets'
/// order.
fn every_target(
    specs: &Specs,
    api: &ApiSpec,
    ctx: &GenerationContext,
) -> Vec<BoxedStrategy<Mutation>> {
    violation_targets(api)
        .iter()
        .map(|t| single_violation(specs, api, ctx, t))
        .collect()
}

/// Mutations of every target of `api`, each target in turn, case after
/// case: a trial of `n` cases over `k` targets breaks each of them `n / k`
/// times, rounded up or down. A target drawn at random each case (as
/// [`any_single_violation`] does) left one of JD createImage's many
/// targets unbroken in about one run of 256 cases in five, and the
/// coverage table with a gap that depended on the seed. Which target a
/// case breaks depends only on how many cases the strategy drew before,
/// so a seed gives the same cases and `--case N` the same request.
pub fn each_single_violation_in_turn(
    specs: &Specs,
    api: &ApiSpec,
    ctx: &GenerationContext,
) -> BoxedStrategy<Mutation> {
    InTurn {
        all: every_target(specs, api, ctx),
        next: std::sync::atomic::AtomicUsize::new(0),
    }
    .boxed()
}

/// The strategies of `all`, one after the other, round and round: each
/// value comes from the next one. Shrinking stays within the value's own
/// strategy, so a failure shrinks without moving to another target.
#[derive(Debug)]
struct InTurn<T: std::fmt::Debug> {
    all: Vec<BoxedStrategy<T>>,
    next: std::sync::atomic::AtomicUsize,
}

impl<T: std::fmt::Debug> Strategy for InTurn<T> {
    type Tree = Box<dyn proptest::strategy::ValueTree<Value = T>>;
    type Value = T;

    fn new_tree(
        &self,
        runner: &mut proptest::test_runner::TestRunner,
    ) -> proptest::strategy::NewTree<Self> {
        if self.all.is_empty() {
            return Err("no target to break".into());
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.all.len();
        self.all[i].new_tree(runner)
    }
}

fn target_param(target: &Target) -> &str {
    match target {
        Target::Constraint { param, .. } => param,
        Target::Rule { id } => id,
    }
}

fn rule_of<'a>(api: &'a ApiSpec, target: &Target) -> Option<&'a Rule> {
    match target {
        Target::Rule { id } => api.rule(id),
        Target::Constraint { .. } => None,
    }
}

/// Checks what the mutated request draws: the target, and nothing but
/// declared cross-effects. A stray violation of an optional parameter off
/// the `protect`ed paths (those the mutation changed) is undone by leaving
/// that parameter out.
fn finish(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    d: &Draft,
    protect: &[String],
    change: String,
) -> Option<Mutation> {
    let mut request = d.to_value();
    for _ in 0..3 {
        let found = violations(&gen.api, errors, &request);
        if !found.iter().any(|v| vt.target.matches(v)) {
            return None;
        }
        let stray: Vec<&ExpectedViolation> = found
            .iter()
            .filter(|v| !vt.target.matches(v) && !vt.allows(v))
            .collect();
        if stray.is_empty() {
            return Some(Mutation {
                target: vt.target.clone(),
                change,
                request,
                expected: found,
            });
        }
        let mut dropped = false;
        for v in stray {
            let optional = gen.api.param(&v.param).is_some_and(|p| !p.required);
            let related = protect
                .iter()
                .any(|p| on_path(p, &v.path) || on_path(&v.path, p));
            if optional && !related {
                dropped |= remove_at(&mut request, &v.path);
            }
        }
        if !dropped {
            return None;
        }
    }
    None
}

/// Whether concrete path `a` is `b` or lies inside it.
fn on_path(a: &str, b: &str) -> bool {
    a.strip_prefix(b)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Removes the key at concrete path `path` (`a[0].b`).
fn remove_at(root: &mut Value, path: &str) -> bool {
    let (parent, key) = split_field(path);
    let mut current = root;
    if !parent.is_empty() {
        for segment in parent.split('.') {
            let name = segment.split('[').next().unwrap_or(segment);
            let Some(next) = current.get_mut(name) else {
                return false;
            };
            current = next;
            for index in segment.split('[').skip(1) {
                let Ok(i) = index.trim_end_matches(']').parse::<usize>() else {
                    return false;
                };
                let Some(next) = current.get_mut(i) else {
                    return false;
                };
                current = next;
            }
        }
    }
    current
        .as_object_mut()
        .is_some_and(|o| o.remove(key).is_some())
}

fn set_value(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    mut d: Draft,
    wrong: Value,
) -> Option<Mutation> {
    let path = target_param(&vt.target).to_string();
    force(&mut d, &path)?;
    repair(&gen.api, &mut d, &Freeze::default());
    let concrete = put(&mut d, &path, Draft::scalar(wrong.clone()))?;
    repair(&gen.api, &mut d, &Freeze::paths([path]));
    finish(
        gen,
        errors,
        vt,
        &d,
        std::slice::from_ref(&concrete),
        format!("`{concrete}` set to {wrong}"),
    )
}

fn leave_out(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    mut d: Draft,
    variant: usize,
) -> Option<Mutation> {
    let path = target_param(&vt.target).to_string();
    let (scope, name) = split_field(&path);
    let at = force(&mut d, scope)?;
    repair(&gen.api, &mut d, &Freeze::default());
    let s = slot_at_mut(&mut d, &path)?;
    let how = match variant {
        0 => {
            s.present = false;
            "left out"
        }
        1 => {
            s.present = true;
            s.value = Draft::scalar(Value::Null);
            "sent as null"
        }
        _ => {
            s.present = true;
            s.value = Draft::scalar(json!(""));
            "sent empty"
        }
    };
    repair(&gen.api, &mut d, &Freeze::paths([path.clone()]));
    let concrete = join(&at, name);
    finish(
        gen,
        errors,
        vt,
        &d,
        std::slice::from_ref(&concrete),
        format!("`{concrete}` {how}"),
    )
}

fn count(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    mut d: Draft,
    n: usize,
    filler: Option<&Draft>,
) -> Option<Mutation> {
    let path = target_param(&vt.target).to_string();
    let concrete = force(&mut d, &path)?;
    repair(&gen.api, &mut d, &Freeze::default());
    if !resize(at_mut(&mut d, &path)?, n, filler) {
        return None;
    }
    repair(&gen.api, &mut d, &Freeze::paths([path]));
    finish(
        gen,
        errors,
        vt,
        &d,
        std::slice::from_ref(&concrete),
        format!("`{concrete}` sent with {n} items"),
    )
}

fn unknown(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    mut d: Draft,
    key: String,
    value: Value,
) -> Option<Mutation> {
    let object = target_param(&vt.target).to_string();
    let at = force(&mut d, &object)?;
    repair(&gen.api, &mut d, &Freeze::default());
    let slots = at_mut(&mut d, &object)?.slots_mut()?;
    slots.push(Slot {
        name: key.as_str().into(),
        present: true,
        value: Draft::scalar(value.clone()),
    });
    let concrete = join(&at, &key);
    finish(
        gen,
        errors,
        vt,
        &d,
        std::slice::from_ref(&concrete),
        format!("unknown key `{concrete}` sent as {value}"),
    )
}

fn out_of_range(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    rule: &Rule,
    mut d: Draft,
    v: i64,
    k: usize,
) -> Option<Mutation> {
    let RuleCheck::RangeWhen { field, when, .. } = &rule.check else {
        return None;
    };
    let field_path = join(&rule.scope, field);
    let when_path = join(&rule.scope, &when.field);
    let condition = when.values[k % when.values.len()].clone();
    force(&mut d, &field_path)?;
    put(&mut d, &when_path, Draft::scalar(condition.clone()))?;
    repair(
        &gen.api,
        &mut d,
        &Freeze::rule(&rule.id, [when_path.clone()]),
    );
    let concrete = put(&mut d, &field_path, Draft::scalar(json!(v)))?;
    repair(
        &gen.api,
        &mut d,
        &Freeze::rule(&rule.id, [field_path, when_path]),
    );
    let change = format!(
        "`{concrete}` set to {v} where `{}` is {condition}",
        when.field
    );
    finish(gen, errors, vt, &d, &[concrete], change)
}

/// The value a field is sent empty with, if its own constraints allow it.
fn empty_value(param: Option<&Param>) -> Option<Value> {
    let param = param?;
    let empty = match param.kind {
        ParamKind::String(_) => json!(""),
        ParamKind::Array(_) => json!([]),
        _ => return None,
    };
    own_problems(param, &empty).is_empty().then_some(empty)
}

#[allow(clippy::too_many_arguments)]
fn break_rule(
    gen: &Gen,
    errors: &[ErrorSpec],
    vt: &ViolationTarget,
    rule: &Rule,
    mut d: Draft,
    a: usize,
    b: usize,
    filler: Option<&Draft>,
) -> Option<Mutation> {
    let scope = rule.scope.as_str();
    let at = force(&mut d, scope)?;
    let rb = RuleBreak {
        api: &gen.api,
        rule,
        scope,
        at: at.clone(),
        a,
        b,
        filler,
    };
    let change = match &rule.check {
        RuleCheck::RequiredWhen { field, when } => rb.required_when(&mut d, field, when)?,
        RuleCheck::RequiredUnless { field, other } => rb.required_unless(&mut d, field, other)?,
        RuleCheck::AtLeastOneOf { fields } => rb.at_least_one_of(&mut d, fields)?,
        RuleCheck::SameLength { field, as_any_of } => rb.same_length(&mut d, field, as_any_of)?,
        RuleCheck::CaptureEquals {
            field,
            regex,
            group,
            equals,
        } => rb.capture_equals(&mut d, field, regex, *group, equals)?,
        RuleCheck::Base64JsonShape {
            field,
            required_paths,
        } => rb.base64_json_shape(&mut d, field, required_paths)?,
        RuleCheck::Unique { array, field } => rb.unique(&mut d, array, field)?,
        RuleCheck::RangeWhen { .. } | RuleCheck::EffectiveOnlyWhen { .. } => return None,
    };
    let protect: Vec<String> = rule.check.fields().iter().map(|f| join(&at, f)).collect();
    finish(gen, errors, vt, &d, &protect, change)
}

/// What breaking one rule in a draft takes: the rule, where its scope is, and the choices
/// (`a`, `b`) and the item (`filler`) the generator drew.
struct RuleBreak<'a> {
    api: &'a ApiSpec,
    rule: &'a Rule,
    scope: &'a str,
    /// The scope's concrete path in the draft.
    at: String,
    a: usize,
    b: usize,
    filler: Option<&'a Draft>,
}

// One function a kind of rule; each returns what it changed, in the user's words.
impl RuleBreak<'_> {
    /// The path of `name` in the rule's scope.
    fn p(&self, name: &str) -> String {
        join(self.scope, name)
    }

    /// `field` left out where the condition makes it required.
    fn required_when(&self, d: &mut Draft, field: &str, when: &When) -> Option<String> {
        repair(self.api, d, &Freeze::default());
        let condition = when.values[self.a % when.values.len()].clone();
        put(d, &self.p(&when.field), Draft::scalar(condition.clone()))?;
        slot_at_mut(d, &self.p(field))?.present = false;
        repair(
            self.api,
            d,
            &Freeze::rule(&self.rule.id, [self.p(field), self.p(&when.field)]),
        );
        Some(format!(
            "`{}` set to {condition} and `{}` left out",
            join(&self.at, &when.field),
            join(&self.at, field)
        ))
    }

    /// `field` left out and `other` empty or left out.
    fn required_unless(&self, d: &mut Draft, field: &str, other: &str) -> Option<String> {
        repair(self.api, d, &Freeze::default());
        slot_at_mut(d, &self.p(field))?.present = false;
        let empty = empty_value(self.api.param(&self.p(other))).filter(|_| self.a % 2 == 1);
        let o = slot_at_mut(d, &self.p(other))?;
        let how = match empty {
            Some(empty) => {
                o.present = true;
                o.value = Draft::scalar(empty.clone());
                format!("sent as {empty}")
            }
            None => {
                o.present = false;
                "left out".to_string()
            }
        };
        repair(
            self.api,
            d,
            &Freeze::rule(&self.rule.id, [self.p(field), self.p(other)]),
        );
        Some(format!(
            "`{}` left out and `{}` {how}",
            join(&self.at, field),
            join(&self.at, other)
        ))
    }

    /// None of the fields sent with a value.
    fn at_least_one_of(&self, d: &mut Draft, fields: &[String]) -> Option<String> {
        repair(self.api, d, &Freeze::default());
        for (i, f) in fields.iter().enumerate() {
            let empty = empty_value(self.api.param(&self.p(f))).filter(|_| (self.a >> i) & 1 == 1);
            let s = slot_at_mut(d, &self.p(f))?;
            match empty {
                Some(empty) => {
                    s.present = true;
                    s.value = Draft::scalar(empty);
                }
                None => s.present = false,
            }
        }
        repair(
            self.api,
            d,
            &Freeze::rule(&self.rule.id, fields.iter().map(|f| self.p(f))),
        );
        Some(format!("none of {} sent with a value", fields.join(", ")))
    }

    /// `field` sent with another number of items than the first of `as_any_of` that has some.
    fn same_length(&self, d: &mut Draft, field: &str, as_any_of: &[String]) -> Option<String> {
        force(d, &self.p(field))?;
        repair(self.api, d, &Freeze::default());
        let instance = at_mut(d, self.scope)?.slots_mut()?;
        if !as_any_of
            .iter()
            .any(|o| sent_len(instance, o).is_some_and(|n| n > 0))
        {
            as_any_of.iter().find(|o| make_non_empty(instance, o))?;
        }
        let (other, other_len) = as_any_of.iter().find_map(|o| {
            sent_len(instance, o)
                .filter(|n| *n > 0)
                .map(|n| (o.clone(), n))
        })?;
        let field_param = self.api.param(&self.p(field));
        let options: Vec<usize> = [other_len + 1, other_len.wrapping_sub(1), other_len + 2, 0]
            .into_iter()
            .filter(|n| *n != other_len && *n <= other_len + 2 && count_allowed(field_param, *n))
            .collect();
        let n = *options.get(self.b % options.len().max(1))?;
        let s = slot_mut(instance, field)?;
        s.present = true;
        if !resize(&mut s.value, n, self.filler) {
            return None;
        }
        let frozen = std::iter::once(self.p(field)).chain(as_any_of.iter().map(|o| self.p(o)));
        repair(self.api, d, &Freeze::rule(&self.rule.id, frozen));
        Some(format!(
            "`{}` sent with {n} items where `{other}` has {other_len}",
            join(&self.at, field)
        ))
    }

    /// The part of `field` the regex captures made other than `equals`.
    fn capture_equals(
        &self,
        d: &mut Draft,
        field: &str,
        regex: &Regex,
        group: usize,
        equals: &str,
    ) -> Option<String> {
        force(d, &self.p(field))?;
        repair(self.api, d, &Freeze::default());
        let root_want = d.slots().and_then(|s| sent(s, equals));
        let instance = at_mut(d, self.scope)?.slots()?;
        let want = sent(instance, equals).or(root_want)?;
        let want = want.as_str()?;
        let text = sent(instance, field)?;
        let text = text.as_str()?;
        let param = self.api.param(&self.p(field))?;
        let variants: Vec<(String, String)> = near_misses(want)
            .into_iter()
            .filter_map(|w| splice(regex, group, text, &w).map(|s| (w, s)))
            .filter(|(_, s)| own_problems(param, &json!(s)).is_empty())
            .collect();
        let (other, spliced) = variants.get(self.a % variants.len().max(1))?.clone();
        let concrete = put(d, &self.p(field), Draft::scalar(json!(spliced)))?;
        repair(self.api, d, &Freeze::rule(&self.rule.id, [self.p(field)]));
        Some(format!(
            "`{concrete}` names {other} where `{equals}` is {want}"
        ))
    }

    /// `field` sent as base64 JSON without one of its required paths.
    fn base64_json_shape(
        &self,
        d: &mut Draft,
        field: &str,
        required_paths: &[String],
    ) -> Option<String> {
        force(d, &self.p(field))?;
        repair(self.api, d, &Freeze::default());
        let k = self.a % required_paths.len().max(1);
        let mut json = json!({});
        for (i, path) in required_paths.iter().enumerate() {
            if i != k {
                insert_dotted(&mut json, path, json!("x"));
            } else if self.b % 2 == 1 {
                insert_dotted(&mut json, path, Value::Null);
            }
        }
        let concrete = put(d, &self.p(field), Draft::scalar(json!(encode_json(&json))))?;
        repair(self.api, d, &Freeze::rule(&self.rule.id, [self.p(field)]));
        let missing = required_paths.get(k).cloned().unwrap_or_default();
        Some(format!(
            "`{concrete}` sent as base64 of {json} (no {missing})"
        ))
    }

    /// Two items of `array` given the same `field`.
    fn unique(&self, d: &mut Draft, array: &str, field: &str) -> Option<String> {
        let array_path = self.p(array);
        let item_path = format!("{array_path}[].{field}");
        force(d, &item_path)?;
        let visible = match at_mut(d, &array_path)? {
            Draft::Array { len, .. } => *len,
            _ => return None,
        };
        if visible < 2 && !resize(at_mut(d, &array_path)?, 2, self.filler) {
            return None;
        }
        let Draft::Array { items, len } = at_mut(d, &array_path)? else {
            return None;
        };
        let j = 1 + self.b % (*len - 1);
        slot_mut(items[j].slots_mut()?, field)?.present = true;
        repair(self.api, d, &Freeze::default());
        let Draft::Array { items, .. } = at_mut(d, &array_path)? else {
            return None;
        };
        let first = slot_mut(items[0].slots_mut()?, field)?.value.clone();
        let copy = slot_mut(items[j].slots_mut()?, field)?;
        copy.present = true;
        copy.value = first.clone();
        repair(self.api, d, &Freeze::rule(&self.rule.id, [item_path]));
        let array_at = join(&self.at, array);
        Some(format!(
            "`{array_at}[{j}].{field}` set to {} as in `{array_at}[0]`",
            first.to_value()
        ))
    }
}

/// Values near `want` (a region id): one character changed, or one added.
fn near_misses(want: &str) -> Vec<String> {
    let chars: Vec<char> = want.chars().collect();
    let mut out = Vec::new();
    for i in (0..chars.len()).rev().take(6) {
        for r in ['2', 'x', '0', 'z'] {
            if chars[i] != r {
                let mut c = chars.clone();
                c[i] = r;
                out.push(c.into_iter().collect());
            }
        }
    }
    out.push(format!("{want}x"));
    out.push(format!("x{want}"));
    out.retain(|w| w != want);
    out
}

/// Characters a pattern break puts into an otherwise valid value.
const FOREIGN: &[char] = &[
    ' ', '!', '-', '_', '.', '/', 'A', 'z', '0', '镜', 'é', '\u{3000}', '#', '*',
];

/// Values that break `kind` of `param` (and no other of its own
/// constraints, save declared cross-effects).
fn wrong_values(
    gen: &Arc<Gen>,
    param: &Param,
    kind: ConstraintKind,
    vt: &Arc<ViolationTarget>,
) -> BoxedStrategy<Value> {
    let allowed: BTreeSet<ConstraintKind> = std::iter::once(kind)
        .chain(vt.cross_effects.iter().filter_map(|c| match &c.also {
            Target::Constraint {
                param: p,
                constraint,
            } if *p == param.path => Some(*constraint),
            _ => None,
        }))
        .collect();
    let own = param.clone();
    let fits = move |v: &Value| {
        let problems = own_problems(&own, v);
        problems.contains(&kind) && problems.iter().all(|k| allowed.contains(k))
    };
    let strings = match &param.kind {
        ParamKind::String(s) => Some(s.clone()),
        _ => None,
    };
    let ints = match &param.kind {
        ParamKind::Integer(i) => Some(i.clone()),
        _ => None,
    };
    let raw: BoxedStrategy<Value> = match kind {
        ConstraintKind::Type => type_breaks(param),
        ConstraintKind::Enum => enum_breaks(param, strings.as_ref(), ints.as_ref()),
        ConstraintKind::MinLength => {
            let s = strings.clone().expect("a string");
            let min = s.min_length.unwrap_or(1);
            let shortest = u64::from(
                ValidationOptions::of(gen.api.raw.protocol).empty_counts_as_missing(param),
            );
            length_strings(param, shortest, min.saturating_sub(1))
        }
        ConstraintKind::MaxLength => {
            let max = strings.clone().and_then(|s| s.max_length).unwrap_or(0);
            length_strings(param, max + 1, max + 6)
        }
        ConstraintKind::Pattern => pattern_breaks(gen, param),
        ConstraintKind::Format => format_breaks(gen, param, strings.as_ref()),
        ConstraintKind::Minimum | ConstraintKind::Maximum => {
            bound_breaks(kind, ints.clone().expect("an integer"))
        }
        ConstraintKind::MultipleOf => step_breaks(gen, param, ints.as_ref()),
        ConstraintKind::Required
        | ConstraintKind::MinItems
        | ConstraintKind::MaxItems
        | ConstraintKind::Unknown => Just(Value::Null).boxed(),
    };
    raw.prop_filter("a value that breaks only its target", fits)
        .boxed()
}

/// Values of another JSON type than the parameter's.
fn type_breaks(param: &Param) -> BoxedStrategy<Value> {
    let values = match param.kind {
        ParamKind::String(_) => vec![json!(7), json!(true), json!(["x"])],
        ParamKind::Integer(_) => vec![json!("7"), json!(7.5), json!(true)],
        ParamKind::Boolean => vec![json!("true"), json!(1)],
        ParamKind::Array(_) => vec![json!("x"), json!({})],
        ParamKind::Object(_) => vec![json!("x"), json!([])],
    };
    select(values).boxed()
}

/// Values outside the enum: a member in another case, other text, or an integer near
/// the members.
fn enum_breaks(
    param: &Param,
    strings: Option<&StringRules>,
    ints: Option<&IntegerRules>,
) -> BoxedStrategy<Value> {
    match (&strings, &ints) {
        (Some(s), _) => {
            let members = s.enum_values.clone().unwrap_or_default();
            let mut variants: Vec<String> = members
                .iter()
                .flat_map(|m| [m.to_uppercase(), m.to_lowercase(), swap_case(m)])
                .filter(|v| !members.contains(v))
                .collect();
            variants.dedup();
            let other = free_text(1, Some(12));
            if variants.is_empty() {
                other.prop_map(Value::String).boxed()
            } else {
                prop_oneof![3 => select(variants), 1 => other]
                    .prop_map(Value::String)
                    .boxed()
            }
        }
        (_, Some(_)) => select(int_enum_misses(param, ints.as_ref().expect("checked")))
            .prop_map(|v| json!(v))
            .boxed(),
        _ => Just(json!("x")).boxed(),
    }
}

/// Valid values with one character inserted or replaced by one a pattern may reject.
fn pattern_breaks(gen: &Arc<Gen>, param: &Param) -> BoxedStrategy<Value> {
    (
        value(gen, param),
        any::<Index>(),
        select(FOREIGN.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(v, i, c, insert)| {
            let mut chars: Vec<char> = v.as_str().unwrap_or_default().chars().collect();
            if chars.is_empty() || insert {
                let at = i.index(chars.len() + 1);
                chars.insert(at, c);
            } else {
                let at = i.index(chars.len());
                chars[at] = c;
            }
            Value::String(chars.into_iter().collect())
        })
        .boxed()
}

/// Values not of the parameter's format: a URL of another scheme, or what is not base64 JSON.
fn format_breaks(
    gen: &Arc<Gen>,
    param: &Param,
    strings: Option<&StringRules>,
) -> BoxedStrategy<Value> {
    match strings.as_ref().and_then(|s| s.format) {
        Some(StringFormat::HttpsUrl) => (value(gen, param), 0..4usize)
            .prop_map(|(v, k)| {
                let url = v.as_str().unwrap_or_default();
                let rest = url.strip_prefix("https://").unwrap_or(url);
                Value::String(match k {
                    0 => format!("http://{rest}"),
                    1 => format!("ftp://{rest}"),
                    2 => rest.to_string(),
                    _ => format!("https:///{rest}"),
                })
            })
            .boxed(),
        _ => select(vec![
            json!("not base64!"),
            json!("e30"),
            json!(base64_of("not json")),
        ])
        .boxed(),
    }
}

/// Integers one to three steps beyond the minimum or the maximum.
fn bound_breaks(kind: ConstraintKind, r: IntegerRules) -> BoxedStrategy<Value> {
    let step = step_of(r.multiple_of);
    (1..=3i64)
        .prop_map(move |k| match kind {
            ConstraintKind::Minimum => {
                json!(floor_to(r.minimum.unwrap_or(0) - 1, step) - (k - 1) * step)
            }
            _ => json!(ceil_to(r.maximum.unwrap_or(0) + 1, step) + (k - 1) * step),
        })
        .boxed()
}

/// Valid values moved off their step.
fn step_breaks(gen: &Arc<Gen>, param: &Param, ints: Option<&IntegerRules>) -> BoxedStrategy<Value> {
    let step = step_of(ints.as_ref().and_then(|r| r.multiple_of));
    (value(gen, param), 1..step, any::<bool>())
        .prop_map(|(v, off, down)| {
            let v = v.as_i64().unwrap_or_default();
            json!(if down { v - off } else { v + off })
        })
        .boxed()
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Strings of `lo..=hi` characters, as close to valid as the length allows:
/// from the pattern's character class, as an https URL, or free text.
fn length_strings(param: &Param, lo: u64, hi: u64) -> BoxedStrategy<Value> {
    let ParamKind::String(s) = &param.kind else {
        return Just(Value::Null).boxed();
    };
    let strings = if s.format == Some(StringFormat::HttpsUrl) {
        (https_urls(true), lo as usize..=hi as usize)
            .prop_map(|(url, n)| {
                let mut chars: Vec<char> = url.chars().collect();
                chars.resize(n, 'a');
                chars.into_iter().collect()
            })
            .boxed()
    } else if let Some(pattern) = &s.pattern {
        match simple_shape(&pattern.source) {
            Some((class, ..)) if !class_members(&class).is_empty() => {
                strings_of(select(class_members(&class)), lo, hi)
            }
            _ => match regex_strings(&pattern.source) {
                Some(strategy) => strategy
                    .prop_filter("a string of the wanted length", move |s| {
                        (lo..=hi).contains(&(s.chars().count() as u64))
                    })
                    .boxed(),
                None => free_text(lo, Some(hi)),
            },
        }
    } else {
        free_text(lo, Some(hi))
    };
    strings.prop_map(Value::String).boxed()
}
