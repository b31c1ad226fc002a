//! `imgconform run`: the generated and hand-written cases against a target
//! (the embedded mock, a live endpoint, an SDK through its adapter).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgconform::{errln, out, outln};

use super::{usage_error, BehaviourArgs, Format, SpecSource};

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Only trials whose name (provider::api::kind::name) contains this.
    #[arg(value_name = "FILTER")]
    filter: Option<String>,
    /// What to run against: `mock` (the embedded mock provider, in process;
    /// `--transport http` for loopback HTTP), `live` (real endpoints, or
    /// those `--endpoint` names, with credentials from the providers' usual
    /// environment variables; safe by default), `sdk:adapters/NAME` (an
    /// official SDK through its adapter, against the embedded mock; see
    /// adapters/README.md), or `validator` (the spec validator and response
    /// checker alone, on the hand-written cases).
    #[arg(long, value_name = "TARGET", default_value = "mock", value_parser = parse_target)]
    target: TargetArg,
    /// Generated cases per property.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "IMGCONFORM_CASES"
    )]
    cases: u32,
    /// Seed of the generated cases; a failure prints the one that replays it
    /// [default: a fresh one].
    #[arg(long, value_name = "SEED", env = "IMGCONFORM_SEED")]
    seed: Option<u64>,
    /// Directory of case files, laid out as the shipped `cases/` (provider
    /// folders, `mock/`, `worlds/`) [default: the shipped cases, built in].
    #[arg(long, value_name = "DIR")]
    cases_dir: Option<PathBuf>,
    /// The mock's world (JSON) [default: the documents' own world].
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// How to reach the embedded mock.
    #[arg(long, value_enum, default_value_t = TransportArg::InProcess)]
    transport: TransportArg,
    /// Trials run at once [default: one per core].
    #[arg(
        long,
        short = 'j',
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true
    )]
    jobs: usize,
    /// Live target: send PROVIDER's calls to URL instead of its region
    /// endpoint (repeatable; e.g. tencent=http://127.0.0.1:8080).
    #[arg(long, value_name = "PROVIDER=URL")]
    endpoint: Vec<String>,
    /// Live target: send calls that create images or start tasks (Tencent's
    /// are sent as DryRun otherwise, the others skipped).
    #[arg(long)]
    allow_mutations: bool,
    /// Live target: PROVIDER's requests per second instead of the
    /// documented rate, for a server of your own (repeatable;
    /// `tencent=200/s`, or `tencent=off` for no limit) [default: the
    /// documented rates].
    #[arg(long, value_name = "PROVIDER=N/s|off")]
    rate: Vec<String>,
    /// Live target: requests in flight at once, at most, across the run (1
    /// sends one at a time); the verdicts and run.json are the same
    /// whatever N, and the rate limits hold across them all [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: Option<u32>,
    /// Live target: allow plain http to hosts other than this machine
    /// (credentials and signatures would cross the network in clear).
    #[arg(long)]
    insecure: bool,
    /// Live target: a JSON file mapping each resource the world-state cases
    /// name (img-centos01, …) to a real id, and listing the account states
    /// (worlds) the account is in (README, "Live endpoints and any URL");
    /// cases without their fixture are skipped.
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write run.json, junit.xml and summary.md into this directory.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail on departures from the spec's readings and assumptions too, not
    /// only on violations of what the documents state.
    #[arg(long)]
    strict: bool,
    /// Requests shrinking may send for each rule a trial found broken, to
    /// find its smallest example [default: 1024 in process, 256 over HTTP
    /// or to an SDK, 48 to a live endpoint].
    #[arg(long, value_name = "N")]
    shrink_budget: Option<u32>,
    /// Send only case K of each trial (0 for the first: the property's K-th
    /// generated request, the K-th boundary or hand-written case), the
    /// others generated but not sent, and nothing shrunk: with the same
    /// --seed and --cases, the request that case sent (sdk.md's replay
    /// commands).
    #[arg(long, value_name = "K")]
    case: Option<u64>,
    /// SDK target: number the mock's first answer N, so that its
    /// seed-chosen variations (and request ids) are those the run that
    /// reported it gave the case (sdk.md's replay commands).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    mock_seq: Option<u64>,
    /// Mock target: its behaviours on the documents' open points.
    #[command(flatten)]
    behaviour: BehaviourArgs,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TargetArg {
    Mock,
    Live,
    Validator,
    /// The adapter's directory.
    Sdk(PathBuf),
}

pub(super) fn parse_target(text: &str) -> Result<TargetArg, String> {
    match text {
        "mock" => Ok(TargetArg::Mock),
        "live" => Ok(TargetArg::Live),
        "validator" => Ok(TargetArg::Validator),
        other => match other.strip_prefix("sdk:") {
            Some(dir) if !dir.is_empty() => Ok(TargetArg::Sdk(PathBuf::from(dir))),
            _ => Err("expected mock, live, validator or sdk:adapters/NAME".into()),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum TransportArg {
    /// The mock's service called in process (every stage but HTTP).
    InProcess,
    /// Over loopback HTTP through the wiremock server.
    Http,
}

pub(super) fn run(args: RunArgs) -> ExitCode {
    if args.target != TargetArg::Validator {
        return run_target(args);
    }
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let cases = match load_cases(args.cases_dir.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let selected: Vec<_> = cases
        .iter()
        .filter(|c| {
            args.filter
                .as_ref()
                .is_none_or(|f| c.name().contains(f.as_str()))
        })
        .collect();
    if selected.is_empty() {
        // A typo in a filter must not give a green run.
        return usage_error(format!(
            "no case matches {}",
            args.filter
                .as_deref()
                .map_or("(no filter)".to_string(), |f| format!("\"{f}\""))
        ));
    }
    let started = std::time::Instant::now();
    let (rows, failures) = run_cases(&selected, &specs);
    let failed = failures.len();
    match args.format {
        Format::Json => {
            let report = imgconform::runner::ValidatorRun {
                target: "validator".into(),
                passed: (selected.len() - failed) as u64,
                failed: failed as u64,
                apis: rows
                    .iter()
                    .map(|(api, p, f, t)| imgconform::runner::ValidatorApiRow {
                        api: api.clone(),
                        cases: (p + f) as u64,
                        passed: *p as u64,
                        failed: *f as u64,
                        seconds: t.as_secs_f64(),
                    })
                    .collect(),
                failures: failures
                    .iter()
                    .map(|(c, why)| imgconform::runner::CaseFailure {
                        case: c.name(),
                        location: Some(c.location.clone()),
                        doc: Some(c.doc.clone()),
                        failure: why.clone(),
                    })
                    .collect(),
            };
            outln!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
        Format::Human => print_validator_table(&args, &rows, &failures, selected.len(), started),
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Rows of a validator run: an API, its passed and failed cases, and their time.
type ValidatorRow = (String, usize, usize, std::time::Duration);

/// Each selected case run against the validator, with a row an API and the failures.
fn run_cases<'c>(
    selected: &[&'c imgconform::cases::Case],
    specs: &imgconform::Specs,
) -> (
    Vec<ValidatorRow>,
    Vec<(&'c imgconform::cases::Case, String)>,
) {
    let mut rows: Vec<ValidatorRow> = Vec::new();
    let mut failures = Vec::new();
    for &case in selected {
        let t = std::time::Instant::now();
        // The failure ends as text in the report and the run.json.
        let outcome = case.run(specs).map_err(|e| e.to_string());
        let elapsed = t.elapsed();
        let row = match rows.iter_mut().find(|r| r.0 == case.api) {
            Some(r) => r,
            None => {
                rows.push((case.api.clone(), 0, 0, std::time::Duration::ZERO));
                rows.last_mut().expect("just pushed")
            }
        };
        row.3 += elapsed;
        match outcome {
            Ok(()) => row.1 += 1,
            Err(why) => {
                row.2 += 1;
                failures.push((case, why));
            }
        }
    }
    (rows, failures)
}

/// A validator run for people: a row an API, then each failure.
fn print_validator_table(
    args: &RunArgs,
    rows: &[ValidatorRow],
    failures: &[(&imgconform::cases::Case, String)],
    cases: usize,
    started: std::time::Instant,
) {
    outln!(
        "target: validator (hand-written cases from {})",
        args.cases_dir
            .as_ref()
            .map_or("the shipped cases".into(), |d| d.display().to_string())
    );
    outln!();
    outln!(
        "{:<24} {:>6} {:>7} {:>7} {:>9}",
        "api",
        "cases",
        "passed",
        "failed",
        "time"
    );
    for (api, passed, failed, time) in rows {
        outln!(
            "{api:<24} {:>6} {passed:>7} {failed:>7} {:>8.1}ms",
            passed + failed,
            time.as_secs_f64() * 1000.0
        );
    }
    for (case, why) in failures {
        outln!();
        outln!("FAILED {}  ({})", case.name(), case.location);
        outln!("  {}", case.doc);
        for line in why.lines() {
            outln!("  {line}");
        }
    }
    outln!();
    outln!(
        "{} passed, {} failed in {:.2}s",
        cases - failures.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Ctrl-C sets the returned flag (the run stops and writes what it has); a
/// second Ctrl-C exits at once.
pub(super) fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let set = std::sync::Arc::clone(&flag);
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            errln!("\ninterrupted: finishing the running trials' current requests and writing the results (Ctrl-C again to quit now)");
            set.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    });
    flag
}

/// The live target's flags are an error elsewhere, not silently ignored.
pub(super) fn no_live_flags(args: &RunArgs) -> Result<(), String> {
    if !args.endpoint.is_empty()
        || args.allow_mutations
        || args.insecure
        || args.fixtures.is_some()
        || !args.rate.is_empty()
        || args.concurrency.is_some()
    {
        return Err(
            "--endpoint, --allow-mutations, --insecure, --fixtures, --rate and --concurrency are for --target live"
                .into(),
        );
    }
    Ok(())
}

/// The target `args` name, ready to run, and how it is reached.
pub(super) fn build_target(
    args: &RunArgs,
    specs: &std::sync::Arc<imgconform::Specs>,
) -> Result<(Box<dyn imgconform::targets::Target>, String), String> {
    use imgconform::targets::{MockTarget, Transport};
    let worlds = match &args.cases_dir {
        Some(dir) => {
            imgconform::mock::load_worlds(&dir.join("worlds")).map_err(|e| e.to_string())?
        }
        None => imgconform::mock::embedded_worlds().map_err(|e| e.to_string())?,
    };
    if !args.behaviour.behaviours.is_empty() && args.target != TargetArg::Mock {
        return Err(
            "--behaviour sets the embedded mock's behaviours: it is for --target mock (and imgconform serve)"
                .into(),
        );
    }
    if args.mock_seq.is_some() && !matches!(args.target, TargetArg::Sdk(_)) {
        return Err("--mock-seq numbers the answers of an SDK target's mock: it is for --target sdk:adapters/NAME".into());
    }
    match &args.target {
        TargetArg::Sdk(dir) => sdk_target(args, specs, dir, worlds),
        TargetArg::Live => live_target(args, specs, worlds),
        _ => {
            no_live_flags(args)?;
            let world = load_world(args.world.as_deref())?;
            let transport = match args.transport {
                TransportArg::InProcess => Transport::InProcess,
                TransportArg::Http => Transport::Http,
            };
            let target = MockTarget::new(std::sync::Arc::clone(specs), world)
                .with_worlds(worlds)
                .with_transport(transport)
                .with_behaviour(args.behaviour.behaviours()?);
            Ok((Box::new(target), transport.name().to_string()))
        }
    }
}

/// An SDK through its adapter in `dir`, against the embedded mock.
fn sdk_target(
    args: &RunArgs,
    specs: &std::sync::Arc<imgconform::Specs>,
    dir: &std::path::Path,
    worlds: std::collections::BTreeMap<String, imgconform::mock::World>,
) -> Result<(Box<dyn imgconform::targets::Target>, String), String> {
    no_live_flags(args)?;
    let world = load_world(args.world.as_deref())?;
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    // The answers vary with the run's seed, so that --seed replays
    // them too.
    let vary = args.seed.unwrap_or_else(rand::random);
    let target = imgconform::targets::SdkTarget::start(
        std::sync::Arc::clone(specs),
        &root,
        dir,
        world,
        worlds,
        Some(vary),
    )
    .map_err(|e| e.to_string())?;
    if let Some(seq) = args.mock_seq {
        target.number_answers_from(seq);
    }
    let transport = format!(
        "{} through {}, answers varied with seed {vary}",
        target.sdk(),
        dir.display()
    );
    Ok((Box::new(target), transport))
}

/// Real endpoints, with the credentials and fixtures the environment and flags give.
fn live_target(
    args: &RunArgs,
    specs: &std::sync::Arc<imgconform::Specs>,
    worlds: std::collections::BTreeMap<String, imgconform::mock::World>,
) -> Result<(Box<dyn imgconform::targets::Target>, String), String> {
    use imgconform::targets::{Fixtures, LiveTarget};
    if args.world.is_some() {
        return Err(
            "--world sets the mock's world; a live account has its own (use --fixtures)".into(),
        );
    }
    let overrides = imgconform::live::EndpointOverrides::parse_args(&args.endpoint)
        .map_err(|e| format!("--endpoint: {e}"))?;
    let transport = if args.endpoint.is_empty() {
        "region endpoints".to_string()
    } else {
        args.endpoint.join(", ")
    };
    let rate_limits = imgconform::live::RateLimitPolicy::default()
        .with_overrides(&args.rate)
        .map_err(|e| format!("--rate: {e}"))?;
    let options = imgconform::live::LiveOptions {
        overrides,
        insecure: args.insecure,
        allow_mutations: args.allow_mutations,
        rate_limits,
        ..Default::default()
    };
    let client = imgconform::live::LiveClient::new((**specs).clone(), options)
        .map_err(|e| e.to_string())?
        .with_env_credentials();
    let fixtures = match &args.fixtures {
        Some(path) => Fixtures::load(path).map_err(|e| e.to_string())?,
        None => Fixtures::default(),
    };
    let target = LiveTarget::new(std::sync::Arc::clone(specs), client, fixtures, worlds)
        .map_err(|e| e.to_string())?
        .with_concurrency(
            args.concurrency
                .map_or(imgconform::targets::LIVE_CONCURRENCY, |n| n as usize),
        );
    Ok((Box::new(target), transport))
}

pub(super) fn run_target(mut args: RunArgs) -> ExitCode {
    use imgconform::runner::{self, RunSummary, TrialReport, TrialStatus};
    // Every run has a seed, printed and recorded, so that any run can be
    // replayed, a passing one too.
    let seed = *args.seed.get_or_insert_with(rand::random);
    let (specs, suite) = match load_inputs(&args) {
        Ok(inputs) => inputs,
        Err(e) => return usage_error(e),
    };
    let (target, transport) = match build_target(&args, &specs) {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };
    let options = run_options(&args);
    let names = served_trial_names(&specs, &suite, &options, target.as_ref());
    if names.is_empty() {
        // A typo in a filter must not give a green run.
        return usage_error(format!(
            "no trial matches {}",
            args.filter
                .as_deref()
                .map_or("(no filter)".to_string(), |f| format!("\"{f}\""))
        ));
    }
    let human = matches!(args.format, Format::Human);
    let total = names.len();
    if human {
        outln!(
            "target: {} ({transport}), {} generated cases per property, seed {seed}, {} trial(s), {} at a time",
            target.name(),
            options.generator.cases,
            total,
            options.jobs().min(total)
        );
    }
    let bar = progress_bar(human, total);
    let mut done = 0;
    let started = std::time::Instant::now();
    let reports = runner::run(
        &specs,
        target.as_ref(),
        &suite,
        &options,
        |r: &TrialReport| {
            done += 1;
            if !human {
                return;
            }
            let line = progress_line(r, done, total);
            match &bar {
                Some(bar) => {
                    if r.status == TrialStatus::Failed {
                        bar.println(&line);
                    }
                    bar.set_message(r.name.clone());
                    bar.inc(1);
                }
                None => outln!("{line}"),
            }
        },
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = RunSummary::new(
        target.name(),
        &transport,
        options.generator.cases,
        args.seed,
        started.elapsed().as_secs_f64(),
        options.interrupted(),
        reports,
    )
    .with_rules(&specs);
    if let Err(e) = write_reports(&args, &summary, human) {
        return usage_error(e);
    }
    print_summary(&args, &summary, seed);
    exit_status(&summary)
}

/// The specs and the cases the run reads.
fn load_inputs(
    args: &RunArgs,
) -> Result<(std::sync::Arc<imgconform::Specs>, imgconform::cases::Suite), String> {
    let specs = match args.specs.load() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => return Err(format!("the specs do not load:\n{e}")),
    };
    let suite = match args.cases_dir.as_deref().map_or_else(
        imgconform::cases::Suite::embedded,
        imgconform::cases::Suite::load,
    ) {
        Ok(s) => s,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(format!("the cases do not load:\n{}", lines.join("\n")));
        }
    };
    Ok((specs, suite))
}

/// The names of the trials to run: those the filter keeps of APIs the target serves,
/// and the target's own.
fn served_trial_names(
    specs: &imgconform::Specs,
    suite: &imgconform::cases::Suite,
    options: &imgconform::runner::RunOptions,
    target: &dyn imgconform::targets::Target,
) -> Vec<String> {
    use imgconform::runner;
    runner::trial_names(specs, suite, options)
        .into_iter()
        .filter(|n| {
            specs
                .apis()
                .iter()
                .find(|a| n.starts_with(&format!("{}::", a.id().replace('/', "::"))))
                .is_none_or(|a| target.serves(a))
        })
        .chain(runner::target_trial_names(specs, target, options))
        .collect()
}

/// The runner's options from the command line's.
fn run_options(args: &RunArgs) -> imgconform::runner::RunOptions {
    use imgconform::generate::GeneratorConfig;
    use imgconform::runner::{self, RunOptions};
    RunOptions {
        generator: GeneratorConfig {
            cases: args.cases.max(1),
            seed: args.seed,
        },
        filter: args.filter.clone(),
        // An adapter answers one call at a time; one thread keeps the
        // mock's sequence, and so its varied answers, the same run to run.
        jobs: match (&args.target, args.jobs) {
            (TargetArg::Sdk(_), 0) => 1,
            (_, jobs) => jobs,
        },
        interrupt: Some(interrupt_flag()),
        strict: args.strict,
        // One case replayed is that case alone: nothing shrunk.
        case: args.case,
        shrink_budget: match (args.case, args.shrink_budget) {
            (Some(_), _) => 0,
            (None, Some(n)) => n,
            (None, None) => match (&args.target, args.transport) {
                (TargetArg::Live, _) => runner::LIVE_SHRINK_BUDGET,
                (TargetArg::Mock, TransportArg::InProcess) => runner::IN_PROCESS_SHRINK_BUDGET,
                _ => 256,
            },
        },
    }
}

/// A bar on a terminal; plain lines (one per trial) in logs and pipes.
fn progress_bar(human: bool, total: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    (human && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} trials, {elapsed} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// A finished trial's line: its number, status, requests and time.
fn progress_line(r: &imgconform::runner::TrialReport, done: usize, total: usize) -> String {
    use imgconform::runner::TrialStatus;
    let status = match r.status {
        TrialStatus::Passed => "ok  ",
        TrialStatus::Failed => "FAIL",
        TrialStatus::Skipped => "skip",
    };
    format!(
        "[{done:>3}/{total}] {status} {} ({} requests{}{}, {:.2}s)",
        r.name,
        r.cases,
        if r.tally.is_empty() { "" } else { ": " },
        r.tally,
        r.seconds
    )
}

/// The JUnit file and the report directory, where asked for.
fn write_reports(
    args: &RunArgs,
    summary: &imgconform::runner::RunSummary,
    human: bool,
) -> Result<(), String> {
    if let Some(path) = &args.junit {
        let written = summary
            .junit()
            .map_err(|e| e.to_string())
            .and_then(|xml| std::fs::write(path, xml).map_err(|e| e.to_string()));
        if let Err(e) = written {
            return Err(format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(dir) = &args.report {
        match summary.write_dir(dir) {
            Ok(files) if human => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                errln!("report: {}", names.join(", "));
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// The summary on standard output, as JSON or for people.
fn print_summary(args: &RunArgs, summary: &imgconform::runner::RunSummary, seed: u64) {
    match args.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&summary.to_json()).unwrap_or_default()
        ),
        Format::Human => {
            outln!();
            out!("{}", summary.table());
            out!("{}", summary.details());
            out!("{}", summary.rules_summary());
            outln!();
            outln!("{}", summary.verdict());
            outln!("seed {seed}: the same command with --seed {seed} replays this run");
        }
    }
}

/// The exit status the summary calls for (see `run --help`).
fn exit_status(summary: &imgconform::runner::RunSummary) -> ExitCode {
    if summary.interrupted {
        ExitCode::from(130)
    } else if !summary.unreachable.is_empty() {
        for reason in &summary.unreachable {
            errln!("imgconform: {reason}");
        }
        ExitCode::from(3)
    } else if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The cases of `dir`, or the shipped ones.
pub(super) fn load_cases(
    dir: Option<&std::path::Path>,
) -> Result<Vec<imgconform::cases::Case>, String> {
    dir.map_or_else(
        imgconform::cases::embedded_cases,
        imgconform::cases::load_dir,
    )
    .map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!("the cases do not load:\n{}", lines.join("\n"))
    })
}

/// The world file given, or the documents' own world.
pub(super) fn load_world(
    path: Option<&std::path::Path>,
) -> Result<imgconform::mock::World, String> {
    match path {
        Some(path) => imgconform::mock::World::load(path).map_err(|e| e.to_string()),
        None => Ok(imgconform::mock::default_world()),
    }
}
