//! The explicit boundary values of every limit the spec states, on both
//! sides: lengths in characters (CJK ones too, where the parameter admits
//! them), integer bounds and steps, item counts, every enum member and a
//! wrong-case one, and the bounds of each branch of a `range_when` rule.
//! Each case starts from the simplest valid request and is named stably,
//! `systemDiskSizeGB::maximum_plus_step`, so that tests can be named after
//! it.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::strategy::{Strategy, ValueTree};
use serde::Serialize;
use serde_json::{json, Value};

use crate::spec::raw::{ConstraintKind, StringFormat};
use crate::spec::{
    ApiSpec, ArrayRules, ErrorSpec, IntegerRules, Param, ParamKind, Rule, RuleCheck, Specs,
    StringRules,
};
use crate::validate::ValidationOptions;

use super::context::GenerationContext;
use super::draft::{at_mut, force, join, put, resize, Draft};
use super::oracle::{violations, ExpectedViolation};
use super::repair::{lcm, repair, Freeze};
use super::run::{simplest, GeneratorConfig};
use super::targets::Target;
use super::values::{
    alphabet, ceil_to, class_members, drafts, floor_to, item_filler, regex_strings, simple_shape,
    step_of, swap_case, Gen, CJK,
};

/// One value at, or just past, a limit.
#[derive(Debug, Clone, Serialize)]
pub struct BoundaryCase {
    /// `param::label` or `param::rule_id::label`; stable across runs.
    pub name: String,
    /// What the case tries, in a sentence.
    pub doc: String,
    /// `None`: the value is at the limit and the request is valid.
    /// `Some`: the value is just past the limit this target states.
    pub breaks: Option<Target>,
    /// The request, with the parameter at its boundary value.
    pub request: Value,
    /// Every violation expected (empty for a valid request); past a limit
    /// this may include a declared cross-effect, such as the pattern of an
    /// empty string.
    pub expected: Vec<ExpectedViolation>,
}

enum Setting {
    Value(Value),
    Count(usize),
}

/// Every boundary case of `api`, in spec order.
pub fn boundaries(specs: &Specs, api: &ApiSpec, ctx: &GenerationContext) -> Vec<BoundaryCase> {
    let gen = Gen::new(api, ctx);
    let Some(base) = simplest(&drafts(&gen)) else {
        return Vec::new();
    };
    let mut b = Builder {
        gen,
        errors: &specs.provider_of(api).errors,
        base,
        names: BTreeSet::new(),
        out: Vec::new(),
    };
    for param in api.all_params() {
        b.param(param);
    }
    for rule in &api.rules {
        b.range_rule(rule);
    }
    b.out
}

struct Builder<'a> {
    gen: Arc<Gen>,
    errors: &'a [ErrorSpec],
    base: Draft,
    names: BTreeSet<String>,
    out: Vec<BoundaryCase>,
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect()
}

fn constraint(param: &Param, kind: ConstraintKind) -> Option<Target> {
    Some(Target::Constraint {
        param: param.path.clone(),
        constraint: kind,
    })
}

impl Builder<'_> {
    fn case(
        &mut self,
        name: String,
        doc: String,
        breaks: Option<Target>,
        path: &str,
        setting: Setting,
        condition: Option<(String, Value)>,
    ) {
        let api = &self.gen.api;
        let mut d = self.base.clone();
        if force(&mut d, path).is_none() {
            return;
        }
        let mut frozen = Vec::new();
        if let Some((when_path, value)) = &condition {
            if put(&mut d, when_path, Draft::scalar(value.clone())).is_none() {
                return;
            }
            frozen.push(when_path.clone());
        }
        repair(api, &mut d, &Freeze::paths(frozen.clone()));
        let placed = match setting {
            Setting::Value(v) => put(&mut d, path, Draft::scalar(v)).is_some(),
            Setting::Count(n) => {
                let filler = item_filler(&self.gen, path);
                at_mut(&mut d, path).is_some_and(|a| resize(a, n, filler.as_ref()))
            }
        };
        if !placed {
            return;
        }
        frozen.push(path.to_string());
        repair(api, &mut d, &Freeze::paths(frozen));
        let request = d.to_value();
        let expected = violations(api, self.errors, &request);
        let mut unique = name.clone();
        let mut n = 2;
        while !self.names.insert(unique.clone()) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        self.out.push(BoundaryCase {
            name: unique,
            doc,
            breaks,
            request,
            expected,
        });
    }

    /// The condition that puts `value` inside the `range_when` branch that
    /// admits it, when the field has such rules.
    fn branch_for(&self, path: &str, value: i64) -> Option<(String, Value)> {
        self.gen.api.rules.iter().find_map(|r| match &r.check {
            RuleCheck::RangeWhen {
                field,
                when,
                minimum,
                maximum,
                ..
            } if join(&r.scope, field) == path
                && minimum.is_none_or(|m| value >= m)
                && maximum.is_none_or(|m| value <= m) =>
            {
                Some((join(&r.scope, &when.field), when.values.first()?.clone()))
            }
            _ => None,
        })
    }

    fn param(&mut self, p: &Param) {
        match &p.kind {
            ParamKind::String(s) => {
                self.string_enum_members(p, s);
                self.string_lengths(p, s);
            }
            ParamKind::Integer(r) => {
                self.integer_enum_members(p, r);
                self.integer_bounds(p, r);
                self.integer_off_step(p, r);
            }
            ParamKind::Array(a) => self.item_counts(p, a),
            ParamKind::Boolean | ParamKind::Object(_) => {}
        }
    }

    /// Each enum member, and the same member in a case the enum lacks.
    fn string_enum_members(&mut self, p: &Param, s: &StringRules) {
        let path = &p.path;
        let members = s.enum_values.as_deref().unwrap_or_default();
        for m in members {
            let name = format!("{path}::enum::{}", slug(m));
            self.case(
                name.clone(),
                format!("`{path}` is the enum member \"{m}\""),
                None,
                path,
                Setting::Value(json!(m)),
                None,
            );
            let wrong = [swap_case(m), m.to_uppercase(), m.to_lowercase()]
                .into_iter()
                .find(|w| !members.contains(w));
            if let Some(w) = wrong {
                self.case(
                    format!("{name}::wrong_case"),
                    format!("`{path}` is \"{w}\", the member \"{m}\" in the wrong case"),
                    constraint(p, ConstraintKind::Enum),
                    path,
                    Setting::Value(json!(w)),
                    None,
                );
            }
        }
    }

    /// Both sides of the length limits, in ASCII and in CJK characters.
    fn string_lengths(&mut self, p: &Param, s: &StringRules) {
        let shortest =
            u64::from(ValidationOptions::of(self.gen.api.raw.protocol).empty_counts_as_missing(p));
        if let Some(min) = s.min_length.filter(|m| *m > 0) {
            if min > shortest {
                self.length(
                    p,
                    "min_length_minus_one",
                    min - 1,
                    false,
                    constraint(p, ConstraintKind::MinLength),
                );
            }
            self.length(p, "min_length", min, false, None);
            self.length(p, "min_length_cjk", min, true, None);
        }
        if let Some(max) = s.max_length {
            for (cjk, at, past) in [
                (false, "max_length", "max_length_plus_one"),
                (true, "max_length_cjk", "max_length_plus_one_cjk"),
            ] {
                self.length(p, at, max, cjk, None);
                let breaks = constraint(p, ConstraintKind::MaxLength);
                self.length(p, past, max + 1, cjk, breaks);
            }
        }
    }

    fn integer_enum_members(&mut self, p: &Param, r: &IntegerRules) {
        let path = &p.path;
        for m in r.enum_values.as_deref().unwrap_or_default() {
            self.case(
                format!("{path}::enum::{m}"),
                format!("`{path}` is the enum member {m}"),
                None,
                path,
                Setting::Value(json!(m)),
                None,
            );
        }
    }

    /// The minimum and maximum on the step, and the step just past each.
    fn integer_bounds(&mut self, p: &Param, r: &IntegerRules) {
        let step = step_of(r.multiple_of);
        let bounds = [
            r.minimum.map(|min| {
                let outside = floor_to(min - 1, step);
                (
                    "minimum",
                    ceil_to(min, step),
                    "minimum_minus_step",
                    outside,
                    ConstraintKind::Minimum,
                )
            }),
            r.maximum.map(|max| {
                let outside = ceil_to(max + 1, step);
                (
                    "maximum",
                    floor_to(max, step),
                    "maximum_plus_step",
                    outside,
                    ConstraintKind::Maximum,
                )
            }),
        ];
        for (at, inside, past, outside, kind) in bounds.into_iter().flatten() {
            let branch = self.branch_for(&p.path, inside);
            self.int(p, at, inside, None, branch.clone());
            self.int(p, past, outside, constraint(p, kind), branch);
        }
    }

    /// A value halfway between two multiples, inside the range.
    fn integer_off_step(&mut self, p: &Param, r: &IntegerRules) {
        let step = step_of(r.multiple_of);
        if step <= 1 {
            return;
        }
        let base = ceil_to(r.minimum.unwrap_or(0), step);
        let v = base + (step / 2).max(1);
        let v = if r.maximum.is_some_and(|m| v > m) {
            base - (step / 2).max(1)
        } else {
            v
        };
        let branch = self.branch_for(&p.path, base);
        self.int(
            p,
            "not_multiple",
            v,
            constraint(p, ConstraintKind::MultipleOf),
            branch,
        );
    }

    fn item_counts(&mut self, p: &Param, a: &ArrayRules) {
        if let Some(min) = a.min_items.filter(|m| *m > 0) {
            self.count(
                p,
                "min_items_minus_one",
                min - 1,
                constraint(p, ConstraintKind::MinItems),
            );
            self.count(p, "min_items", min, None);
        }
        if let Some(max) = a.max_items {
            self.count(p, "max_items", max, None);
            self.count(
                p,
                "max_items_plus_one",
                max + 1,
                constraint(p, ConstraintKind::MaxItems),
            );
        }
    }

    fn length(&mut self, p: &Param, label: &str, n: u64, cjk: bool, breaks: Option<Target>) {
        let Some(value) = exact_string(p, n as usize, cjk) else {
            return;
        };
        let script = if cjk { "CJK " } else { "" };
        let doc = format!("`{}` is {n} {script}character(s) long", p.path);
        self.case(
            format!("{}::{label}", p.path),
            doc,
            breaks,
            &p.path,
            Setting::Value(json!(value)),
            None,
        );
    }

    fn int(
        &mut self,
        p: &Param,
        label: &str,
        v: i64,
        breaks: Option<Target>,
        branch: Option<(String, Value)>,
    ) {
        let doc = match &branch {
            Some((when, value)) => format!("`{}` is {v} (with `{when}` {value})", p.path),
            None => format!("`{}` is {v}", p.path),
        };
        self.case(
            format!("{}::{label}", p.path),
            doc,
            breaks,
            &p.path,
            Setting::Value(json!(v)),
            branch,
        );
    }

    fn count(&mut self, p: &Param, label: &str, n: u64, breaks: Option<Target>) {
        let doc = format!("`{}` has {n} item(s)", p.path);
        self.case(
            format!("{}::{label}", p.path),
            doc,
            breaks,
            &p.path,
            Setting::Count(n as usize),
            None,
        );
    }

    fn range_rule(&mut self, rule: &Rule) {
        let RuleCheck::RangeWhen {
            field,
            when,
            minimum,
            maximum,
            multiple_of,
        } = &rule.check
        else {
            return;
        };
        let path = join(&rule.scope, field);
        let Some(condition_value) = when.values.first().cloned() else {
            return;
        };
        let condition = Some((join(&rule.scope, &when.field), condition_value.clone()));
        let own_step = match self.gen.api.param(&path).map(|p| &p.kind) {
            Some(ParamKind::Integer(r)) => step_of(r.multiple_of),
            _ => 1,
        };
        let rule_step = step_of(*multiple_of);
        let step = lcm(own_step, rule_step);
        let breaks = Some(Target::Rule {
            id: rule.id.clone(),
        });
        let mut values: Vec<(&str, i64, Option<Target>)> = Vec::new();
        if let Some(lo) = minimum {
            values.push(("minimum", ceil_to(*lo, step), None));
            values.push(("minimum_minus_step", floor_to(lo - 1, step), breaks.clone()));
        }
        if let Some(hi) = maximum {
            values.push(("maximum", floor_to(*hi, step), None));
            values.push(("maximum_plus_step", ceil_to(hi + 1, step), breaks.clone()));
        }
        if rule_step > 1 {
            let base = ceil_to(minimum.unwrap_or(0), step);
            values.push((
                "not_multiple",
                base + (rule_step / 2).max(1),
                breaks.clone(),
            ));
        }
        for (label, v, breaks) in values {
            let doc = format!(
                "`{path}` is {v} with `{}` {condition_value} ({})",
                when.field, rule.description
            );
            self.case(
                format!("{path}::{}::{label}", rule.id),
                doc,
                breaks,
                &path,
                Setting::Value(json!(v)),
                condition.clone(),
            );
        }
    }
}

/// A string of exactly `n` characters, as valid as the length allows:
/// from the pattern's class (ASCII letters and digits, or CJK when `cjk`),
/// an https URL, or free text. `None` where the parameter admits no such
/// string (an enum, no CJK in the class).
fn exact_string(p: &Param, n: usize, cjk: bool) -> Option<String> {
    let ParamKind::String(s) = &p.kind else {
        return None;
    };
    if s.enum_values.is_some() {
        return None;
    }
    match s.format {
        Some(StringFormat::HttpsUrl) if !cjk && n >= 9 => {
            return Some(format!("https://{}", "a".repeat(n - 8)))
        }
        Some(_) => return None,
        None => {}
    }
    let pool: Vec<char> = match &s.pattern {
        Some(pattern) => match simple_shape(&pattern.source) {
            Some((class, ..)) => class_members(&class),
            None if cjk => return None,
            None => return sampled(&pattern.source, n),
        },
        None => alphabet(),
    };
    let chars: Vec<char> = if cjk {
        pool.into_iter().filter(|c| CJK.contains(*c)).collect()
    } else {
        let ascii: Vec<char> = pool
            .iter()
            .copied()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        if ascii.is_empty() {
            pool
        } else {
            ascii
        }
    };
    if chars.is_empty() {
        return None;
    }
    Some((0..n).map(|i| chars[i % chars.len()]).collect())
}

/// A string of `n` characters matching a pattern of no simple shape,
/// found by drawing from it with a fixed seed.
fn sampled(source: &str, n: usize) -> Option<String> {
    let strategy = regex_strings(source)?;
    let mut runner = GeneratorConfig::new(1).runner(0);
    (0..500).find_map(|_| {
        let s = strategy.new_tree(&mut runner).ok()?.current();
        (s.chars().count() == n).then_some(s)
    })
}
