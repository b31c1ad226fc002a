//! `imgconform adapter`: the built-in reference client, as an SDK adapter.

use std::process::ExitCode;

use clap::Args;

use super::{usage_error, SpecSource};

#[derive(Debug, Args)]
pub(super) struct AdapterArgs {
    /// The provider to serve.
    #[arg(long, value_parser = ["jdcloud", "aliyun", "tencent"])]
    provider: String,
    #[command(flatten)]
    specs: SpecSource,
}

pub(super) fn adapter(args: AdapterArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let Some(provider) = imgconform::ProviderId::from_name(&args.provider) else {
        return usage_error(format!("no provider {}", args.provider));
    };
    let stdin = std::io::stdin();
    match imgconform::targets::serve_reference_adapter(
        specs,
        provider,
        stdin.lock(),
        std::io::stdout(),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}
