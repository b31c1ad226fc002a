//! The embedded mock under every combination of its behaviours on the
//! points the documents leave open (`imgconform serve --behaviour`): the
//! whole generated suite — every trial `imgconform run` has, properties and
//! hand-written cases — passes under each of the 32, and what the runner
//! observes on those points is what the behaviour chose. The documents are
//! the oracle; the mock is one reading of them, and no reading of what they
//! leave open may fail it. Nor may the reading change what the suite
//! exercises: each stated constraint, rule and documented error row is
//! exercised, or not, alike under all 32.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use imgconform::cases::Suite;
use imgconform::generate::GeneratorConfig;
use imgconform::mock::{Behaviours, CheckOrder};
use imgconform::runner::CoverageStatus;
use imgconform::runner::{run, RunOptions, RunSummary, TrialReport};
use imgconform::spec::RawTrigger;
use imgconform::targets::MockTarget;
use imgconform::validate::{EmptyString, KeyCase, NullValue, UnknownParams};
use imgconform::{ProviderId, Specs};

struct Fixture {
    specs: Arc<Specs>,
    suite: Suite,
    worlds: BTreeMap<String, imgconform::mock::World>,
}

fn fixture() -> Fixture {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Fixture {
        specs: Arc::new(Specs::embedded().unwrap()),
        suite: Suite::load(&root.join("cases")).unwrap(),
        worlds: imgconform::mock::load_worlds(&root.join("cases/worlds")).unwrap(),
    }
}

/// Every trial of a run against the embedded mock with `behaviour`, 32
/// cases per property and a fixed seed: the same requests under every
/// combination.
fn run_under(fx: &Fixture, behaviour: Behaviours) -> Vec<TrialReport> {
    let target = MockTarget::new(Arc::clone(&fx.specs), imgconform::mock::default_world())
        .with_worlds(fx.worlds.clone())
        .with_behaviour(behaviour);
    let options = RunOptions {
        generator: GeneratorConfig::new(32).with_seed(11),
        ..RunOptions::default()
    };
    run(&fx.specs, &target, &fx.suite, &options, |_| {})
}

/// The combination in the words of `--behaviour` (every behaviour is set,
/// so every provider has the same).
fn words(b: &Behaviours) -> String {
    b.describe(ProviderId::Tencent)
}

/// The codes the documents give for a valid request the account's state
/// refuses: a service that answers one of them to `""` looked `""` up as
/// a value.
fn state_codes(specs: &Specs) -> BTreeSet<String> {
    specs
        .apis()
        .iter()
        .flat_map(|api| &api.errors)
        .filter(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Precondition { .. }))
        })
        .map(|e| e.code.clone())
        .collect()
}

/// What the observations must show under `b`: each problem as a sentence.
fn observation_problems(
    b: &Behaviours,
    observed: &BTreeMap<String, u64>,
    state_codes: &BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut want = |holds: bool, what: &str| {
        if !holds {
            problems.push(what.to_string());
        }
    };
    let any = |pred: &dyn Fn(&str, &str) -> bool| {
        observed.keys().any(|k| {
            let (rule, answer) = k.rsplit_once(": ").unwrap_or((k, ""));
            pred(rule, answer)
        })
    };
    let refused = |answer: &str| answer.starts_with("refused with ");
    let accepted = |answer: &str| answer == "accepted";

    let unknown = |rule: &str| rule == "unknown parameter";
    match b.unknown {
        Some(UnknownParams::Ignored) => {
            want(
                any(&|r, a| unknown(r) && accepted(a)),
                "no request with an unknown parameter was accepted",
            );
            want(
                !any(&|r, a| unknown(r) && refused(a)),
                "a request whose only fault is an unknown parameter was refused",
            );
        }
        _ => {
            want(
                any(&|r, a| unknown(r) && refused(a)),
                "no request with an unknown parameter was refused",
            );
            want(
                !any(&|r, a| unknown(r) && accepted(a)),
                "a request with an unknown parameter was accepted",
            );
        }
    }

    let key_case = |rule: &str| rule.contains("[key case, sent ");
    match b.keys {
        Some(KeyCase::Insensitive) => {
            want(
                any(&|r, a| key_case(r) && accepted(a)),
                "no request with a key that matches only ignoring case was accepted",
            );
            want(
                !any(&|r, a| key_case(r) && refused(a)),
                "a request with a key that matches only ignoring case was refused",
            );
        }
        _ => want(
            any(&|r, a| key_case(r) && refused(a)),
            "no request with a key that matches only ignoring case was refused",
        ),
    }

    // An optional parameter sent null ("[sent null]"; a required one is
    // "[required, sent null]").
    let null = |rule: &str| rule.contains("[sent null]");
    match b.null {
        Some(NullValue::Value) => {
            want(
                any(&|r, a| null(r) && refused(a)),
                "no optional parameter sent null was refused",
            );
            want(
                !any(&|r, a| null(r) && accepted(a)),
                "an optional parameter sent null was accepted",
            );
        }
        _ => {
            want(
                any(&|r, a| null(r) && accepted(a)),
                "no optional parameter sent null was accepted",
            );
            want(
                !any(&|r, a| null(r) && refused(a)),
                "an optional parameter sent null was refused",
            );
        }
    }

    let empty = |rule: &str| rule.contains("[required, sent \"\"]");
    let looked_up = |answer: &str| {
        accepted(answer)
            || answer
                .strip_prefix("refused with ")
                .is_some_and(|code| state_codes.contains(code))
    };
    match b.empty {
        Some(EmptyString::Missing) => {
            want(
                any(&|r, a| empty(r) && refused(a)),
                "no required string sent \"\" was refused",
            );
            want(
                !any(&|r, a| empty(r) && looked_up(a)),
                "a required string sent \"\" was taken as a value (accepted, or refused by the account's state)",
            );
        }
        _ => want(
            any(&|r, a| empty(r) && looked_up(a)),
            "no required string sent \"\" was taken as a value (accepted, or refused by the account's state)",
        ),
    }
    problems
}

#[test]
fn every_combination_of_behaviours_passes_and_is_observed_as_chosen() {
    let fx = fixture();
    let states = state_codes(&fx.specs);
    let started = std::time::Instant::now();
    let combinations = Behaviours::every_combination();
    assert_eq!(combinations.len(), 32);
    let mut problems: Vec<String> = Vec::new();
    // Which violations the several-violations trials saw named, by the
    // other behaviours and then by order.
    let mut chosen: BTreeMap<String, BTreeMap<CheckOrder, BTreeMap<String, u64>>> = BTreeMap::new();
    let mut trials: Option<BTreeSet<String>> = None;
    // The coverage of each stated row under the first combination: the
    // same under every other (at 32 cases per property some rows are met
    // by no draw; tests/coverage.rs holds the default suite to every row).
    let mut covered: Option<BTreeMap<String, CoverageStatus>> = None;
    for b in &combinations {
        let reports = run_under(&fx, *b);
        let under = words(b);
        let summary = RunSummary::new(
            "mock",
            "in-process",
            32,
            Some(11),
            0.0,
            false,
            reports.clone(),
        )
        .with_rules(&fx.specs);
        let stated: BTreeMap<String, CoverageStatus> = summary
            .coverage
            .rows
            .iter()
            .filter(|r| {
                r.provenance == Some(imgconform::spec::Provenance::Stated)
                    && matches!(r.kind.as_str(), "constraint" | "rule" | "error")
            })
            .map(|r| (format!("{} {} {}", r.scope, r.kind, r.item), r.status))
            .collect();
        match &covered {
            None => covered = Some(stated),
            Some(first) => {
                for (row, status) in &stated {
                    if first.get(row) != Some(status) {
                        problems.push(format!(
                            "under {under}: {row} is {}, under the first combination {}",
                            status.as_str(),
                            first.get(row).map_or("absent", |s| s.as_str())
                        ));
                    }
                }
            }
        }
        let names: BTreeSet<String> = reports.iter().map(|r| r.name.clone()).collect();
        // The same trials under every combination: nothing is skipped away.
        match &trials {
            None => trials = Some(names),
            Some(first) => assert_eq!(&names, first, "under {under}: other trials ran"),
        }
        for r in &reports {
            if let Some(f) = &r.failure {
                problems.push(format!(
                    "under {under}: {} failed: {}\n  minimal request: {}",
                    r.name,
                    f.reason,
                    f.minimal_request
                        .as_ref()
                        .map_or("-".to_string(), ToString::to_string)
                ));
            }
            if r.cases == 0 {
                problems.push(format!("under {under}: {} sent nothing", r.name));
            }
        }
        let mut observed: BTreeMap<String, u64> = BTreeMap::new();
        for (what, n) in reports.iter().flat_map(|r| &r.observations) {
            *observed.entry(what.clone()).or_default() += n;
        }
        for p in observation_problems(b, &observed, &states) {
            problems.push(format!("under {under}: {p}; observed: {observed:#?}"));
        }
        let others = under
            .rsplit_once(" order=")
            .map_or(under.clone(), |(others, _)| others.to_string());
        let by_order = chosen.entry(others).or_default();
        let seen = by_order.entry(b.order()).or_default();
        for r in reports.iter().filter(|r| {
            r.name
                .ends_with("several_violations_report_the_chosen_error")
        }) {
            for (choice, n) in &r.choices {
                *seen.entry(format!("{}: {choice}", r.api)).or_default() += n;
            }
        }
    }
    // The order decides which violation the answers name: the same
    // requests, other choices.
    for (others, by_order) in &chosen {
        let first = &by_order[&CheckOrder::DocumentOrder];
        let last = &by_order[&CheckOrder::Reverse];
        if first.is_empty() || first == last {
            problems.push(format!(
                "under {others}: order=document-order and order=reverse named the same violations: {first:#?}"
            ));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    // Seen in CI logs: what the 32 runs cost.
    eprintln!("32 combinations of behaviours in {seconds:.1}s");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
