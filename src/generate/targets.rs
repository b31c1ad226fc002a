//! What a request can break: every constraint of every parameter, an
//! unknown key in each object, every rule. Each target says how the
//! generator breaks it and, where breaking it necessarily breaks something
//! else, which [`CrossEffect`]s follow and why, computed from the spec: a
//! string shorter than its pattern can match, a value outside a
//! parameter's own bounds that is also outside the per-type range in
//! force, a `base64-json` field a shape rule reads, a rule whose range is
//! no narrower than its field's own.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;

use crate::spec::model::{IntegerRules, StringRules};
use crate::spec::raw::{ConstraintKind, StringFormat};
use crate::spec::{ApiSpec, Param, ParamKind, Rule, RuleCheck};
use crate::validate::ValidationOptions;

use super::draft::{join, split_field};
use super::oracle::{own_problems, ExpectedViolation};
use super::values::{ceil_to, floor_to, simple_shape, step_of};

/// What a mutation breaks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A constraint of the parameter at template path `param`. For
    /// `unknown`, `param` is the object the unknown key is put in (`""`:
    /// the request itself).
    Constraint {
        /// The parameter's template path (`ImageIds[]`, `""` for the request).
        param: String,
        /// Which of its constraints.
        constraint: ConstraintKind,
    },
    /// A cross-field rule, by id.
    Rule {
        /// The rule's id in the spec.
        id: String,
    },
}

impl Target {
    /// A stable name: `systemDiskSizeGB::maximum`, `unknown`,
    /// `dataDisks[]::unknown`, `device_name_unique`.
    pub fn name(&self) -> String {
        match self {
            Target::Constraint { param, constraint } if param.is_empty() => {
                constraint.as_str().to_string()
            }
            Target::Constraint { param, constraint } => format!("{param}::{}", constraint.as_str()),
            Target::Rule { id } => id.clone(),
        }
    }

    /// Whether `v` is a violation of this target.
    pub fn matches(&self, v: &ExpectedViolation) -> bool {
        match self {
            Target::Constraint {
                param,
                constraint: ConstraintKind::Unknown,
            } => v.rule == ConstraintKind::Unknown.as_str() && split_field(&v.param).0 == param,
            Target::Constraint { param, constraint } => {
                v.rule == constraint.as_str() && &v.param == param
            }
            Target::Rule { id } => &v.rule == id,
        }
    }
}

/// Another violation that breaking a target brings with it.
#[derive(Debug, Clone, Serialize)]
pub struct CrossEffect {
    /// The other target that the same request breaks.
    pub also: Target,
    /// True: every mutation of the target draws it. False: only those in
    /// which the rule's condition holds (a `range_when` whose `when` field
    /// the generated request happens to set).
    pub always: bool,
    /// Why no generated request can break it alone.
    pub reason: String,
}

/// One thing of the spec a request can break, and how the generator
/// breaks it.
#[derive(Debug, Clone)]
pub struct ViolationTarget {
    /// What the generated requests break.
    pub target: Target,
    /// A sentence saying what the mutation does.
    pub doc: String,
    /// Other targets a request for this one breaks as well.
    pub cross_effects: Vec<CrossEffect>,
    pub(super) plan: Plan,
}

impl ViolationTarget {
    /// Whether `v` is one of the declared cross-effects.
    pub fn allows(&self, v: &ExpectedViolation) -> bool {
        self.cross_effects.iter().any(|c| c.also.matches(v))
    }
}

/// A constraint or rule the generator cannot break on its own, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedTarget {
    /// The target left out.
    pub target: Target,
    /// Why it is left out.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub(super) enum Plan {
    /// Leave the parameter out, send it as null, or (Alibaba RPC, where an
    /// empty required parameter is a missing one) send it empty.
    Required { empty_counts: bool },
    /// Send a value that breaks this constraint (type, enum, lengths,
    /// pattern, format, bounds, step).
    Value(ConstraintKind),
    /// Send this many items.
    Count(Vec<usize>),
    /// Add a key the spec does not know.
    Unknown,
    /// Set the condition's field and send one of these values.
    Range(Vec<i64>),
    /// Break the rule as its kind says.
    Rule,
}

/// Every target of `api` the generator can break: each constraint of each
/// parameter, an unknown key in the request and in each object, and each
/// rule (`effective_only_when` gives a notice, never an error, so it is
/// no target).
pub fn violation_targets(api: &ApiSpec) -> Vec<ViolationTarget> {
    enumerate(api).0
}

/// The constraints and rules [`violation_targets`] leaves out, and why.
pub fn skipped_targets(api: &ApiSpec) -> Vec<SkippedTarget> {
    enumerate(api).1
}

fn enumerate(api: &ApiSpec) -> (Vec<ViolationTarget>, Vec<SkippedTarget>) {
    let mut targets = vec![unknown_target("")];
    let mut skipped = Vec::new();
    for param in api.all_params() {
        for kind in param.constraints() {
            match kind {
                ConstraintKind::Unknown => {
                    if matches!(param.kind, ParamKind::Object(_)) {
                        targets.push(unknown_target(&param.path));
                    }
                }
                ConstraintKind::Required if !param.required => {}
                _ => match constraint_target(api, param, kind) {
                    Ok(t) => targets.push(t),
                    Err(reason) => skipped.push(SkippedTarget {
                        target: Target::Constraint {
                            param: param.path.clone(),
                            constraint: kind,
                        },
                        reason,
                    }),
                },
            }
        }
    }
    for rule in &api.rules {
        match rule_target(api, rule) {
            Ok(t) => targets.push(t),
            Err(reason) => skipped.push(SkippedTarget {
                target: Target::Rule {
                    id: rule.id.clone(),
                },
                reason,
            }),
        }
    }
    (targets, skipped)
}

fn unknown_target(object: &str) -> ViolationTarget {
    let place = if object.is_empty() {
        "the request".to_string()
    } else {
        format!("`{object}`")
    };
    ViolationTarget {
        target: Target::Constraint {
            param: object.to_string(),
            constraint: ConstraintKind::Unknown,
        },
        doc: format!("adds a key to {place} that the spec does not know"),
        cross_effects: Vec::new(),
        plan: Plan::Unknown,
    }
}

fn always(param: &str, constraint: ConstraintKind, reason: String) -> CrossEffect {
    CrossEffect {
        also: Target::Constraint {
            param: param.to_string(),
            constraint,
        },
        always: true,
        reason,
    }
}

/// The `range_when` rules on `param` that check `kind`'s side of the range.
fn range_rules<'a>(api: &'a ApiSpec, param: &str, kind: ConstraintKind) -> Vec<&'a Rule> {
    api.rules
        .iter()
        .filter(|r| match &r.check {
            RuleCheck::RangeWhen {
                field,
                minimum,
                maximum,
                multiple_of,
                ..
            } if join(&r.scope, field) == param => match kind {
                ConstraintKind::Minimum => minimum.is_some(),
                ConstraintKind::Maximum => maximum.is_some(),
                _ => multiple_of.is_some_and(|s| s > 1),
            },
            _ => false,
        })
        .collect()
}

fn constraint_target(
    api: &ApiSpec,
    p: &Param,
    kind: ConstraintKind,
) -> Result<ViolationTarget, String> {
    let path = &p.path;
    let empty_is_missing = ValidationOptions::of(api.raw.protocol).empty_counts_as_missing(p);
    let mut cross = Vec::new();
    let strings = match &p.kind {
        ParamKind::String(s) => Some(s),
        _ => None,
    };
    let ints = match &p.kind {
        ParamKind::Integer(i) => Some(i),
        _ => None,
    };
    let (plan, doc) = match kind {
        ConstraintKind::Required => (
            Plan::Required {
                empty_counts: empty_is_missing && strings.is_some(),
            },
            format!("leaves out the required `{path}`"),
        ),
        ConstraintKind::Type => (
            Plan::Value(kind),
            format!("sends `{path}` as another JSON type"),
        ),
        ConstraintKind::Enum => {
            if let Some(i) = ints {
                if int_enum_misses(p, i).is_empty() {
                    return Err("no integer within the bounds is outside the enum".into());
                }
            }
            (Plan::Value(kind), format!("sends `{path}` a value outside its enum (a member in the wrong case, or another word)"))
        }
        ConstraintKind::MinLength => min_length_plan(
            path,
            strings.expect("min_length is a string constraint"),
            empty_is_missing,
            &mut cross,
        )?,
        ConstraintKind::MaxLength => max_length_plan(
            path,
            strings.expect("max_length is a string constraint"),
            &mut cross,
        ),
        ConstraintKind::Pattern => pattern_plan(path, strings, &mut cross),
        ConstraintKind::Format => format_plan(api, path, &mut cross),
        ConstraintKind::Minimum | ConstraintKind::Maximum | ConstraintKind::MultipleOf => {
            bound_plan(
                api,
                path,
                kind,
                ints.expect("bounds are integer constraints"),
                &mut cross,
            )?
        }
        ConstraintKind::MinItems | ConstraintKind::MaxItems => count_plan(p, kind)?,
        ConstraintKind::Unknown => unreachable!("unknown keys are targets of objects"),
    };
    Ok(ViolationTarget {
        target: Target::Constraint {
            param: path.clone(),
            constraint: kind,
        },
        doc,
        cross_effects: cross,
        plan,
    })
}

/// Plan of a `min_length` violation; a pattern, format or enum that no shorter string can
/// meet is broken with it.
fn min_length_plan(
    path: &str,
    s: &StringRules,
    empty_is_missing: bool,
    cross: &mut Vec<CrossEffect>,
) -> Result<(Plan, String), String> {
    let min = s.min_length.unwrap_or(0);
    let shortest = u64::from(empty_is_missing);
    if min == 0 || shortest + 1 > min {
        return Err(format!(
            "a value shorter than {min} character(s) is the empty string, which the protocol takes as a missing parameter (the `required` target)"
        ));
    }
    if let Some(m) = s
        .pattern
        .as_ref()
        .and_then(|pat| simple_shape(&pat.source))
        .map(|s| s.1)
    {
        if m > min - 1 {
            cross.push(always(path, ConstraintKind::Pattern, format!(
                "the pattern needs at least {m} character(s), so no string shorter than min_length {min} matches it"
            )));
        }
    }
    if let Some(format) = s.format {
        let least = match format {
            StringFormat::HttpsUrl => 9,
            StringFormat::Base64Json => u64::MAX,
        };
        if least > min - 1 {
            cross.push(always(
                path,
                ConstraintKind::Format,
                "no value of this format is that short (or of a chosen length)".into(),
            ));
        }
    }
    if s.enum_values
        .as_ref()
        .is_some_and(|e| e.iter().all(|m| m.chars().count() as u64 >= min))
    {
        cross.push(always(
            path,
            ConstraintKind::Enum,
            "every enum member is longer".into(),
        ));
    }
    Ok((
        Plan::Value(ConstraintKind::MinLength),
        format!("sends `{path}` shorter than {min} character(s)"),
    ))
}

/// Plan of a `max_length` violation; a pattern, format or enum that no longer string can
/// meet is broken with it.
fn max_length_plan(path: &str, s: &StringRules, cross: &mut Vec<CrossEffect>) -> (Plan, String) {
    let max = s.max_length.unwrap_or(u64::MAX);
    if let Some(Some(n)) = s
        .pattern
        .as_ref()
        .and_then(|pat| simple_shape(&pat.source))
        .map(|s| s.2)
    {
        if n <= max {
            cross.push(always(
                path,
                ConstraintKind::Pattern,
                format!(
                    "the pattern matches at most {n} character(s), fewer than max_length {max} + 1"
                ),
            ));
        }
    }
    if s.format == Some(StringFormat::Base64Json) {
        cross.push(always(
            path,
            ConstraintKind::Format,
            "base64 cannot be cut to a chosen length".into(),
        ));
    }
    if s.enum_values
        .as_ref()
        .is_some_and(|e| e.iter().all(|m| m.chars().count() as u64 <= max))
    {
        cross.push(always(
            path,
            ConstraintKind::Enum,
            "every enum member is shorter".into(),
        ));
    }
    (
        Plan::Value(ConstraintKind::MaxLength),
        format!("sends `{path}` longer than {max} character(s)"),
    )
}

/// Plan of a `pattern` violation; an enum is broken with it.
fn pattern_plan(
    path: &str,
    strings: Option<&StringRules>,
    cross: &mut Vec<CrossEffect>,
) -> (Plan, String) {
    if strings.is_some_and(|s| s.enum_values.is_some()) {
        cross.push(always(
            path,
            ConstraintKind::Enum,
            "a string the pattern rejects is no enum member".into(),
        ));
    }
    (
        Plan::Value(ConstraintKind::Pattern),
        format!("sends `{path}` a string its pattern rejects"),
    )
}

/// Plan of a `format` violation; a rule that decodes the value is broken with it.
fn format_plan(api: &ApiSpec, path: &str, cross: &mut Vec<CrossEffect>) -> (Plan, String) {
    for rule in &api.rules {
        if let RuleCheck::Base64JsonShape { field, .. } = &rule.check {
            if join(&rule.scope, field) == *path {
                cross.push(CrossEffect {
                    also: Target::Rule {
                        id: rule.id.clone(),
                    },
                    always: true,
                    reason: format!("rule {} needs the value to decode to JSON", rule.id),
                });
            }
        }
    }
    (
        Plan::Value(ConstraintKind::Format),
        format!("sends `{path}` a string not of its format"),
    )
}

/// Plan of a `minimum`, `maximum` or `multiple_of` violation; a range rule inside the
/// parameter's own range may be broken with it.
fn bound_plan(
    api: &ApiSpec,
    path: &str,
    kind: ConstraintKind,
    i: &IntegerRules,
    cross: &mut Vec<CrossEffect>,
) -> Result<(Plan, String), String> {
    if kind == ConstraintKind::MultipleOf && step_of(i.multiple_of) <= 1 {
        return Err("every integer is a multiple of 1".into());
    }
    for rule in range_rules(api, path, kind) {
        cross.push(CrossEffect {
            also: Target::Rule { id: rule.id.clone() },
            always: false,
            reason: format!(
                "where the request meets the condition of {}, its range is inside the parameter's own, so the value breaks it too",
                rule.id
            ),
        });
    }
    let what = match kind {
        ConstraintKind::Minimum => {
            format!("below its minimum {}", i.minimum.unwrap_or_default())
        }
        ConstraintKind::Maximum => {
            format!("above its maximum {}", i.maximum.unwrap_or_default())
        }
        _ => format!("not a multiple of {}", step_of(i.multiple_of)),
    };
    Ok((Plan::Value(kind), format!("sends `{path}` {what}")))
}

/// Plan of a `min_items` or `max_items` violation: the item counts to send.
fn count_plan(p: &Param, kind: ConstraintKind) -> Result<(Plan, String), String> {
    let path = &p.path;
    let ParamKind::Array(a) = &p.kind else {
        return Err("item counts are array constraints".into());
    };
    let counts: Vec<usize> = match kind {
        ConstraintKind::MinItems => {
            let min = a.min_items.unwrap_or(0) as usize;
            if min == 0 {
                return Err("no array has fewer than 0 items".into());
            }
            [min - 1, 0]
                .into_iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        }
        _ => {
            let max = a.max_items.unwrap_or(0) as usize;
            vec![max + 1, max + 2]
        }
    };
    Ok((
        Plan::Count(counts.clone()),
        format!(
            "sends `{path}` with {} items",
            counts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ))
}

/// Integers within the parameter's bounds and step that are not enum
/// members (near the members).
pub(super) fn int_enum_misses(p: &Param, rules: &IntegerRules) -> Vec<i64> {
    let members = rules.enum_values.clone().unwrap_or_default();
    let step = step_of(rules.multiple_of);
    let mut out = BTreeSet::new();
    for m in &members {
        for d in [step, -step, 2 * step, -2 * step, 1, -1] {
            let v = m + d;
            if own_problems(p, &json!(v)) == [ConstraintKind::Enum] {
                out.insert(v);
            }
        }
    }
    out.into_iter().collect()
}

fn rule_target(api: &ApiSpec, rule: &Rule) -> Result<ViolationTarget, String> {
    let scope = &rule.scope;
    let mut cross = Vec::new();
    let mut plan = Plan::Rule;
    let doc = match &rule.check {
        RuleCheck::EffectiveOnlyWhen { .. } => {
            return Err("effective_only_when gives a notice, never an error".into());
        }
        RuleCheck::RangeWhen {
            field,
            when,
            minimum,
            maximum,
            multiple_of,
        } => {
            let path = join(scope, field);
            let param = api.param(&path).ok_or("the rule's field is no parameter")?;
            let (values, collateral) = range_break_values(param, *minimum, *maximum, *multiple_of)?;
            cross.extend(range_collateral(&path, collateral));
            plan = Plan::Range(values);
            format!(
                "sets `{}` to make the rule apply and sends `{path}` outside its range",
                join(scope, &when.field)
            )
        }
        RuleCheck::RequiredWhen { field, when } => {
            let path = join(scope, field);
            if api.param(&path).is_some_and(|p| p.required) {
                cross.push(always(
                    &path,
                    ConstraintKind::Required,
                    "the field is required anyway".into(),
                ));
            }
            format!(
                "sets `{}` to make `{path}` required and leaves it out",
                join(scope, &when.field)
            )
        }
        RuleCheck::RequiredUnless { field, other } => format!(
            "leaves out `{}` and sends `{}` empty or not at all",
            join(scope, field),
            join(scope, other)
        ),
        RuleCheck::AtLeastOneOf { fields } => {
            format!("sends none of {} (or only empty ones)", fields.join(", "))
        }
        RuleCheck::SameLength { field, .. } => format!(
            "sends `{}` with a different number of items",
            join(scope, field)
        ),
        RuleCheck::CaptureEquals { field, equals, .. } => format!(
            "puts a value other than `{equals}`'s into the part of `{}` the rule captures",
            join(scope, field)
        ),
        RuleCheck::Base64JsonShape { field, .. } => format!(
            "sends `{}` as base64 JSON without one of the required paths",
            join(scope, field)
        ),
        RuleCheck::Unique { array, field } => {
            let path = join(scope, array);
            if let Some(ParamKind::Array(a)) = api.param(&path).map(|p| &p.kind) {
                if a.max_items.is_some_and(|m| m < 2) {
                    return Err("the array holds at most one item".into());
                }
            }
            format!("gives two items of `{path}` the same `{field}`")
        }
    };
    Ok(ViolationTarget {
        target: Target::Rule {
            id: rule.id.clone(),
        },
        doc,
        cross_effects: cross,
        plan,
    })
}

/// The parameter's own constraints that a value outside a rule's range breaks too.
fn range_collateral(path: &str, collateral: Vec<ConstraintKind>) -> Vec<CrossEffect> {
    collateral
        .into_iter()
        .map(|kind| always(path, kind, format!(
            "the rule's range is no narrower than the parameter's own on any side it can be broken, so a value outside it is outside `{path}`'s own {}",
            kind.as_str()
        )))
        .collect()
}

/// Values that break a `range_when` range while keeping the parameter's
/// own bounds and step; where there are none, the values that break it
/// and the parameter constraints they break as well.
fn range_break_values(
    param: &Param,
    lo: Option<i64>,
    hi: Option<i64>,
    rule_step: Option<i64>,
) -> Result<(Vec<i64>, Vec<ConstraintKind>), String> {
    let (pmin, pmax, pstep) = match &param.kind {
        ParamKind::Integer(r) => (r.minimum, r.maximum, step_of(r.multiple_of)),
        _ => return Err("range_when applies to integers".into()),
    };
    let breaks = |v: i64| {
        lo.is_some_and(|l| v < l)
            || hi.is_some_and(|h| v > h)
            || rule_step.is_some_and(|s| s > 1 && v % s != 0)
    };
    let mut candidates = Vec::new();
    if let Some(h) = hi {
        let above = ceil_to(h + 1, pstep);
        candidates.extend([above, above + pstep, above + 2 * pstep]);
    }
    if let Some(l) = lo {
        let below = floor_to(l - 1, pstep);
        candidates.extend([below, below - pstep, below - 2 * pstep]);
    }
    if let Some(s) = rule_step.filter(|s| *s > 1) {
        let start = ceil_to(lo.max(pmin).unwrap_or(0), pstep);
        let end = match (hi, pmax) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => start + 1000 * pstep,
        };
        let off_step = (0..1000)
            .map(|j| start + j * pstep)
            .take_while(|v| *v <= end)
            .filter(|v| v % s != 0)
            .take(3);
        candidates.extend(off_step);
    }
    let alone: Vec<i64> = candidates
        .iter()
        .copied()
        .filter(|v| breaks(*v) && own_problems(param, &json!(v)).is_empty())
        .collect();
    if !alone.is_empty() {
        return Ok((alone, Vec::new()));
    }
    let v = candidates
        .into_iter()
        .find(|v| breaks(*v))
        .ok_or("the rule sets no bound to break")?;
    Ok((vec![v], own_problems(param, &json!(v))))
}
