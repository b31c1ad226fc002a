//! The conformance suite as cargo-test trials: one trial per target ×
//! provider × API × property or case set, named
//! `provider::api::kind::name`, so that
//! `cargo test --test conformance -- tencent::ExportImages` filters,
//! `--list` lists and `cargo nextest run --partition count:1/3` shards.
//!
//! Options from the environment: `IMGCONFORM_TARGET` (`mock`, the
//! default; `mock-http` for the mock over loopback HTTP; `sdk:adapters/NAME`
//! for an SDK through its adapter, its provider's trials only), `IMGCONFORM_CASES` (generated cases per property, default 64
//! here; `imgconform run` uses 256), `IMGCONFORM_SEED` (default a fixed
//! seed, so CI is repeatable; `random` for a fresh one, printed).

use std::path::Path;
use std::sync::Arc;

use imgconform::generate::GeneratorConfig;
use imgconform::runner::{run, trial_names, RunOptions, TrialStatus};
use imgconform::targets::{MockTarget, SdkTarget, Target, Transport};
use imgconform::Specs;
use libtest_mimic::{Arguments, Completion, Failed, Trial};

#[path = "support/planted.rs"]
mod planted;

const DEFAULT_SEED: u64 = 0x1A6C_0F0A;

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let specs = Arc::new(Specs::load_dir(&root.join("spec")).expect("the specs load"));
    let cases =
        Arc::new(imgconform::cases::Suite::load(&root.join("cases")).expect("the cases load"));
    let worlds = Arc::new(
        imgconform::mock::load_worlds(&root.join("cases/worlds")).expect("the worlds load"),
    );
    let target_name = std::env::var("IMGCONFORM_TARGET").unwrap_or_else(|_| "mock".into());
    let adapter: Option<std::path::PathBuf> = match target_name.as_str() {
        "mock" | "mock-http" => None,
        other => match other.strip_prefix("sdk:") {
            Some(dir) => Some(root.join(dir)),
            None => panic!("IMGCONFORM_TARGET: mock, mock-http or sdk:adapters/NAME, not {other}"),
        },
    };
    // An SDK serves one provider: only its trials.
    let provider = adapter.as_ref().map(|dir| {
        imgconform::targets::Manifest::load(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .provider
    });
    let count: u32 = std::env::var("IMGCONFORM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let seed = match std::env::var("IMGCONFORM_SEED").ok().as_deref() {
        Some("random") => {
            // Printed, so that a failing random run can be replayed.
            let seed = rand::random();
            eprintln!("IMGCONFORM_SEED=random: seed {seed}");
            Some(seed)
        }
        Some(s) => Some(s.parse().expect("IMGCONFORM_SEED is a number or `random`")),
        None => Some(DEFAULT_SEED),
    };
    let generator = GeneratorConfig { cases: count, seed };
    let all = RunOptions {
        generator,
        ..RunOptions::default()
    };
    let mut trials: Vec<Trial> = trial_names(&specs, &cases, &all)
        .into_iter()
        .filter(|name| provider.is_none_or(|p| name.starts_with(&format!("{p}::"))))
        .map(|name| {
            let (target_name, adapter) = (target_name.clone(), adapter.clone());
            let specs = Arc::clone(&specs);
            let cases = Arc::clone(&cases);
            let worlds = Arc::clone(&worlds);
            Trial::ignorable_test(name.clone(), move || {
                let world = imgconform::mock::default_world();
                let target: Box<dyn Target> = match &adapter {
                    Some(dir) => Box::new(
                        SdkTarget::start(Arc::clone(&specs), root, dir, world, (*worlds).clone(), seed)
                            .map_err(|e| Failed::from(e.to_string()))?,
                    ),
                    None => Box::new(
                        MockTarget::new(Arc::clone(&specs), world)
                            .with_worlds((*worlds).clone())
                            .with_transport(if target_name == "mock-http" {
                                Transport::Http
                            } else {
                                Transport::InProcess
                            }),
                    ),
                };
                let options = RunOptions {
                    generator,
                    filter: Some(name.clone()),
                    jobs: 1,
                    ..RunOptions::default()
                };
                let reports = run(&specs, target.as_ref(), &cases, &options, |_| {});
                let report = reports
                    .iter()
                    .find(|r| r.name == name)
                    .ok_or_else(|| Failed::from("the trial did not run"))?;
                if report.status == TrialStatus::Skipped {
                    // Nothing was sent, so nothing was learnt: not a pass.
                    return Ok(Completion::ignored_with(
                        report
                            .skip_reason
                            .clone()
                            .unwrap_or_else(|| "nothing was sent".into()),
                    ));
                }
                if report.failures.is_empty() {
                    return Ok(Completion::Completed);
                }
                // Every rule the trial found broken, each with its example.
                let text: Vec<String> = report
                    .failures
                    .iter()
                    .map(|f| {
                        format!(
                            "[{}] broken by {} case(s): {}\n  minimal request: {}\n  replay: IMGCONFORM_SEED={} cargo test --test conformance -- {name}",
                            f.rule,
                            f.count,
                            f.reason,
                            f.minimal_request
                                .as_ref()
                                .map_or("(none)".to_string(), |r| r.to_string()),
                            f.seed.map_or("?".to_string(), |s| s.to_string())
                        )
                    })
                    .collect();
                Err(Failed::from(text.join("\n")))
            })
        })
        .collect();
    planted::add_planted_failure(&mut trials);
    libtest_mimic::run(&args, trials).exit_code()
}
