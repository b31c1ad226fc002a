//! `imgconform sign` and `imgconform verify`: the five signing schemes by hand.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgconform::live::credentials_from_env;
use imgconform::outln;
use imgconform::protocol::signing::{SigningInputs, SigningTrace};
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, RequestCapture};
use imgconform::spec::SigningScheme;

use super::{find_api, one_of, read_json, usage_error, SpecSource};

#[derive(Debug, Args)]
pub(super) struct SignArgs {
    /// The API, as PROVIDER/API.
    #[arg(long, value_name = "PROVIDER/API")]
    api: String,
    /// The parameters as a JSON object; `-` reads standard input.
    #[arg(value_name = "PARAMS.json|-")]
    input: String,
    /// Signing time: Unix seconds or RFC 3339 (2019-02-25T08:44:25Z) [default: now].
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// Nonce for the schemes that take one [default: a random UUID].
    #[arg(long, value_name = "N")]
    nonce: Option<String>,
    /// Signing scheme [default: the provider's preferred one: jdcloud2,
    /// acs3, tc3].
    #[arg(long, value_enum)]
    scheme: Option<SchemeArg>,
    /// Address the request to this base URL (http://HOST:PORT, no path):
    /// its Host header and signature are for it instead of the documented
    /// endpoint.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Also print the canonical request, the string to sign and the signature.
    #[arg(long)]
    explain: bool,
    #[arg(long, value_enum, default_value_t = RequestFormat::Http)]
    format: RequestFormat,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The API the request calls, as PROVIDER/API.
    #[arg(long, value_name = "PROVIDER/API")]
    api: String,
    /// The captured request (JSON: method, url, headers, body); `-` reads standard input.
    #[arg(value_name = "REQUEST.json|-")]
    input: String,
    /// Print the stages as imgconform recomputes them.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    specs: SpecSource,
}

/// `--scheme`: the values are [`SigningScheme::flag_name`], so that the
/// flag and every message about it use the same words.
#[derive(Debug, Clone, Copy)]
pub(super) struct SchemeArg(SigningScheme);

impl ValueEnum for SchemeArg {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [SchemeArg; 5] = [
            SchemeArg(SigningScheme::ALL[0]),
            SchemeArg(SigningScheme::ALL[1]),
            SchemeArg(SigningScheme::ALL[2]),
            SchemeArg(SigningScheme::ALL[3]),
            SchemeArg(SigningScheme::ALL[4]),
        ];
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self.0 {
            SigningScheme::Jdcloud2HmacSha256 => "JDCLOUD2-HMAC-SHA256, the documented JD scheme",
            SigningScheme::Jdcloud3HmacSha256 => "JDCLOUD3-HMAC-SHA256, what jdcloud-sdk sends",
            SigningScheme::AliyunV1HmacSha1 => {
                "Alibaba RPC signature v1 (HMAC-SHA1), as aliyun-python-sdk-core"
            }
            SigningScheme::Acs3HmacSha256 => "ACS3-HMAC-SHA256, as alibabacloud-ecs20140526",
            SigningScheme::Tc3HmacSha256 => "TC3-HMAC-SHA256",
        };
        Some(clap::builder::PossibleValue::new(self.0.flag_name()).help(help))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum RequestFormat {
    /// An HTTP/1.1 message.
    Http,
    /// JSON: method, url, headers, body (what `verify` reads).
    Json,
}

/// Unix seconds or RFC 3339.
pub(super) fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("--time \"{text}\" is neither Unix seconds nor RFC 3339: {e}"))
}

pub(super) fn print_trace(trace: &SigningTrace) {
    outln!();
    outln!("--- canonical request");
    outln!("{}", trace.canonical_request);
    outln!("--- string to sign");
    outln!("{}", trace.string_to_sign);
    outln!("--- signature");
    outln!("{}", trace.signature);
}

pub(super) fn sign(args: SignArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, &args.api) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    let params: serde_json::Value = match read_json(&args.input) {
        Ok(v) => v,
        Err(e) => return usage_error(e),
    };
    let timestamp = match args.time.as_deref().map(parse_time) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return usage_error(e),
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let nonce = args
        .nonce
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let scheme = match signing_scheme(&args, &specs, api) {
        Ok(scheme) => scheme,
        Err(e) => return usage_error(e),
    };
    let endpoint = match args.endpoint.as_deref().map(Endpoint::parse) {
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return usage_error(format!("--endpoint: {e}")),
        None => None,
    };
    let credentials = match credentials_from_env(api.provider()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let options = EncodeOptions {
        scheme,
        endpoint,
        inputs: SigningInputs::new(timestamp, nonce),
    };
    let encoded = match wire_for(api.raw.protocol).encode(api, &params, &credentials, &options) {
        Ok(e) => e,
        Err(e) => return usage_error(format!("cannot encode the request: {e}")),
    };
    match print_signed(&args, &encoded) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// The scheme `--scheme` names, or the provider's first; one the provider signs with.
fn signing_scheme(
    args: &SignArgs,
    specs: &imgconform::Specs,
    api: &imgconform::ApiSpec,
) -> Result<SigningScheme, String> {
    let provider = specs.provider_of(api);
    let Some(scheme) = args
        .scheme
        .map(|s| s.0)
        .or_else(|| provider.raw.signing.first().copied())
    else {
        return Err(format!("{} has no signing scheme", provider.raw.name));
    };
    if !provider.raw.signing.contains(&scheme) {
        let takes: Vec<String> = provider
            .raw
            .signing
            .iter()
            .map(|s| s.flag_and_wire_name())
            .collect();
        return Err(format!(
            "{} does not sign with {}; for {}, --scheme takes {}",
            provider.raw.name,
            scheme.flag_and_wire_name(),
            api.id(),
            one_of(&takes)
        ));
    }
    Ok(scheme)
}

/// The signed request on standard output, as HTTP or JSON, with its trace where asked.
fn print_signed(
    args: &SignArgs,
    encoded: &imgconform::protocol::WireRequest,
) -> Result<(), String> {
    match args.format {
        RequestFormat::Http => {
            // Byte for byte what goes on the wire, so that a pipe can send
            // it; a terminal gets a newline after the body.
            imgconform::console::write_out_bytes(&encoded.to_http_message());
            let body = !encoded.request.body.is_empty();
            if args.explain {
                if body {
                    outln!();
                }
                print_trace(&encoded.trace);
            } else if body && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                outln!();
            }
        }
        RequestFormat::Json => {
            let mut value = match serde_json::to_value(RequestCapture::from_wire(encoded)) {
                Ok(v) => v,
                Err(e) => return Err(format!("cannot write the request as JSON: {e}")),
            };
            if args.explain {
                value["explain"] = serde_json::json!({
                    "canonical_request": encoded.trace.canonical_request,
                    "string_to_sign": encoded.trace.string_to_sign,
                    "signature": encoded.trace.signature,
                });
            }
            match serde_json::to_string_pretty(&value) {
                Ok(text) => outln!("{text}"),
                Err(e) => return Err(format!("cannot write the request as JSON: {e}")),
            }
        }
    }
    Ok(())
}

pub(super) fn verify(args: VerifyArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, &args.api) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    let capture: RequestCapture = match read_json(&args.input) {
        Ok(v) => v,
        Err(e) => return usage_error(e),
    };
    let (_, request) = match capture.to_signable() {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let credentials = match credentials_from_env(api.provider()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    match wire_for(api.raw.protocol).verify(api, &request, &credentials) {
        Ok(trace) => {
            outln!("signature ok");
            if args.explain {
                print_trace(&trace);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            outln!("signature rejected: {e}");
            if let Some(m) = e.mismatch() {
                outln!("first stage that differs: {}", m.stage);
            }
            if let (true, imgconform::protocol::VerifyError::Mismatch { recomputed, .. }) =
                (args.explain, &e)
            {
                print_trace(recomputed);
            }
            ExitCode::from(1)
        }
    }
}
