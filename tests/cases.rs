//! Data-driven tests over `cases/`: one trial per case, named
//! `provider::api::group::id`, plus coverage trials per API that fail when a
//! documented error, constraint or rule has no case exercising it.
//!
//! `cargo test --test cases -- tencent::ExportImages` runs one API's cases;
//! `--list` lists them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use imgconform::cases::{Case, CaseGroup, Subject};
use imgconform::spec::RuleCheck;
use imgconform::spec::{ConstraintKind, RawTrigger};
use imgconform::{validate_request, ApiSpec, ExpectedError, Specs};
use libtest_mimic::{Arguments, Failed, Trial};

#[path = "support/planted.rs"]
mod planted;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let specs = match Specs::load_dir(&root.join("spec")) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("the specs do not load:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let cases = match imgconform::cases::load_dir(&root.join("cases")) {
        Ok(c) => Arc::new(c),
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            return ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let specs = Arc::clone(&specs);
        let all = Arc::clone(&cases);
        trials.push(Trial::test(case.name(), move || {
            let case = &all[index];
            case.run(&specs).map_err(|e| {
                Failed::from(format!("{}\n  case: {} ({})", e, case.location, case.doc))
            })
        }));
    }
    for api in specs.apis() {
        let id = api.id();
        let prefix = id.replace('/', "::");
        for (name, check) in [
            ("documented_errors", coverage_errors as CoverageCheck),
            ("constraints_and_rules", coverage_constraints),
            ("examples", coverage_examples),
        ] {
            let specs = Arc::clone(&specs);
            let cases = Arc::clone(&cases);
            let id = id.clone();
            trials.push(Trial::test(
                format!("{prefix}::coverage::{name}"),
                move || {
                    let api = specs.api(&id).expect("listed API");
                    let mine: Vec<&Case> = cases.iter().filter(|c| c.api == id).collect();
                    check(&specs, api, &mine).map_err(Failed::from)
                },
            ));
        }
    }
    planted::add_planted_failure(&mut trials);
    let names: Vec<String> = trials.iter().map(|t| t.name().to_string()).collect();
    if let Some(filter) = &args.filter {
        let hit = names.iter().any(|n| {
            if args.exact {
                n == filter
            } else {
                n.contains(filter.as_str())
            }
        });
        if !hit {
            // A typo in a filter must not give a green run.
            eprintln!("no case matches the filter \"{filter}\"");
            return ExitCode::FAILURE;
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

type CoverageCheck = fn(&Specs, &ApiSpec, &[&Case]) -> Result<(), String>;

fn request_outcomes<'a>(
    specs: &Specs,
    api: &ApiSpec,
    cases: &'a [&'a Case],
) -> Vec<(&'a Case, imgconform::Validation)> {
    cases
        .iter()
        .filter_map(|c| match &c.subject {
            Subject::Request { request, .. } => Some((*c, validate_request(specs, api, request))),
            Subject::Response { .. } => None,
        })
        .collect()
}

/// Every documented error that a request alone can trigger (a constraint
/// or rule trigger) is produced by at least one case.
fn coverage_errors(specs: &Specs, api: &ApiSpec, cases: &[&Case]) -> Result<(), String> {
    let produced: BTreeSet<String> = request_outcomes(specs, api, cases)
        .iter()
        .flat_map(|(_, v)| v.violations.iter())
        .filter_map(|v| match &v.expected {
            ExpectedError::Documented {
                error_id,
                common: false,
                ..
            } => Some(error_id.clone()),
            _ => None,
        })
        .collect();
    let missing: Vec<String> = api
        .errors
        .iter()
        .filter(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Constraint { .. } | RawTrigger::Rule { .. }))
        })
        .filter(|e| !produced.contains(&e.id))
        .map(|e| format!("  {} {} \"{}\"", e.id, e.code, e.message))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no case in cases/{}.json triggers these request-level errors:\n{}",
            api.id(),
            missing.join("\n")
        ))
    }
}

/// Every constraint of every parameter (but type checks), and every rule,
/// is broken by at least one case; every notice-only rule is seen.
fn coverage_constraints(specs: &Specs, api: &ApiSpec, cases: &[&Case]) -> Result<(), String> {
    let outcomes = request_outcomes(specs, api, cases);
    let broken: BTreeSet<(String, String)> = outcomes
        .iter()
        .flat_map(|(_, v)| v.violations.iter())
        .map(|v| (v.param.clone(), v.rule.clone()))
        .collect();
    let noticed: BTreeSet<String> = outcomes
        .iter()
        .flat_map(|(_, v)| v.notices.iter())
        .map(|n| imgconform::validate::prefix_template(&n.path))
        .collect();
    let mut missing = Vec::new();
    for param in api.all_params() {
        for kind in param.constraints() {
            if matches!(kind, ConstraintKind::Type | ConstraintKind::Unknown) {
                continue;
            }
            if !broken.contains(&(param.path.clone(), kind.as_str().to_string())) {
                missing.push(format!("  {} [{}]", param.path, kind.as_str()));
            }
        }
    }
    for rule in &api.rules {
        match &rule.check {
            RuleCheck::EffectiveOnlyWhen { field, .. } => {
                let path = if rule.scope.is_empty() {
                    field.clone()
                } else {
                    format!("{}.{field}", rule.scope)
                };
                if !noticed.contains(&path) {
                    missing.push(format!("  notice of rule {} at {path}", rule.id));
                }
            }
            _ => {
                if !broken.iter().any(|(_, r)| r == &rule.id) {
                    missing.push(format!("  rule {}", rule.id));
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no case in cases/{}.json breaks:\n{}",
            api.id(),
            missing.join("\n")
        ))
    }
}

/// The documented request example validates and the documented response
/// example is checked (conforming or citing a discrepancy).
fn coverage_examples(_: &Specs, api: &ApiSpec, cases: &[&Case]) -> Result<(), String> {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.group == CaseGroup::Example) {
        match &case.subject {
            Subject::Request { expect, .. } if expect.valid => {
                *kinds.entry("request").or_default() += 1
            }
            Subject::Response { .. } => *kinds.entry("response").or_default() += 1,
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for kind in ["request", "response"] {
        if !kinds.contains_key(kind) {
            missing.push(kind);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} has no documented {} example case",
            api.id(),
            missing.join(" or ")
        ))
    }
}
