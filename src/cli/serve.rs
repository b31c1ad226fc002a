//! `imgconform serve`: the mock as an HTTP server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgconform::{errln, out, outln};

use super::run::load_world;
use super::{usage_error, BehaviourArgs, SpecSource};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// World file (JSON; see cases/worlds/) [default: the documents' own world].
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// Answer every Nth request with an injected fault.
    #[arg(long, value_name = "N")]
    fault_every: Option<u64>,
    /// Which fault to inject.
    #[arg(long, value_enum, default_value_t = FaultArg::Internal)]
    fault: FaultArg,
    /// Answer requests above each API's documented rate (Tencent: 20/s)
    /// with the provider's throttling error.
    #[arg(long)]
    strict_rate_limit: bool,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Journal entries to keep (the counters cover every request).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    journal_capacity: usize,
    /// Seconds a client may take over a request head (or leave a kept-alive
    /// connection idle) before it is cut off, and over a body before it is
    /// answered 408.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    client_timeout: u64,
    #[command(flatten)]
    behaviour: BehaviourArgs,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum FaultArg {
    Internal,
    Unknown,
    Unavailable,
    ExportFailed,
}

pub(super) fn serve(args: ServeArgs) -> ExitCode {
    use imgconform::mock::{Faults, MockConfig, Service};
    use imgconform::spec::Fault;
    let specs = match args.specs.load() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let world = match load_world(args.world.as_deref()) {
        Ok(w) => w,
        Err(e) => return usage_error(e),
    };
    let behaviour = match args.behaviour.behaviours() {
        Ok(b) => b,
        Err(e) => return usage_error(format!("--behaviour: {e}")),
    };
    let listener = match std::net::TcpListener::bind(args.addr) {
        Ok(l) => l,
        Err(e) => return usage_error(format!("cannot listen on {}: {e}", args.addr)),
    };
    let config = MockConfig {
        faults: Faults {
            every: args.fault_every,
            fault: Some(match args.fault {
                FaultArg::Internal => Fault::Internal,
                FaultArg::Unknown => Fault::Unknown,
                FaultArg::Unavailable => Fault::Unavailable,
                FaultArg::ExportFailed => Fault::ExportFailed,
            }),
            strict_rate_limit: args.strict_rate_limit,
            latency_ms: args.latency_ms,
            ..Faults::default()
        },
        journal_capacity: args.journal_capacity,
        behaviour,
        ..MockConfig::default()
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return usage_error(format!("cannot start the runtime: {e}")),
    };
    let service = std::sync::Arc::new(Service::new(specs, world, config));
    let outcome = runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let uri = format!("http://{}", listener.local_addr()?);
        out!("{}", imgconform::mock::banner(&service, &uri));
        let stop = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                errln!("imgconform: cannot wait for Ctrl-C: {e}");
            }
        };
        let timeout = std::time::Duration::from_secs(args.client_timeout);
        let limits = imgconform::mock::Limits {
            header_read_timeout: timeout,
            body_read_timeout: timeout,
        };
        imgconform::mock::serve_with_limits(
            listener,
            std::sync::Arc::clone(&service),
            limits,
            stop,
        )
        .await;
        outln!();
        outln!("stopped; journal: {}", service.journal_summary());
        Ok::<(), std::io::Error>(())
    });
    if let Err(e) = outcome {
        return usage_error(format!("cannot serve: {e}"));
    }
    ExitCode::SUCCESS
}
