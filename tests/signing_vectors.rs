//! Published request-signing vectors, one folder per case under
//! `tests/vectors/`, one file per stage (the aws-sigv4 test-suite layout):
//!
//! - `context.json`: scheme, credentials, the unsigned request, time, nonce,
//!   region, service and signed headers;
//! - `canonical-request.txt`, `string-to-sign.txt`: derived from the
//!   provider's stated rules (or logged by the provider's SDK);
//! - `signature.txt`: the provider's *published* value — the referee;
//! - `authorization.txt` (optional): the published Authorization header.
//!
//! Each folder is one trial, `signing::<folder>`. It signs the request,
//! reports the first stage that differs from the files, then checks that
//! `verify` accepts the signed request and rejects it, naming the right
//! stage, once the payload or the secret is tampered with.
//!
//! Files end with one newline, which is not part of the stage.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use imgconform::protocol::aliyun::{Acs3Signer, RpcV1Signer, ACS3_CONTENT_SHA256_HEADER};
use imgconform::protocol::jdcloud::{self, JdcloudSigner, JdcloudVersion};
use imgconform::protocol::tencent::Tc3Signer;
use imgconform::protocol::{
    Credentials, SignableRequest, SignatureMismatch, SignatureScheme, SignedHeaders, SigningInputs,
    SigningStage, SigningTrace, VerifyError,
};
use libtest_mimic::{Arguments, Failed, Trial};

#[path = "support/planted.rs"]
mod planted;
use serde::Deserialize;
use time::macros::format_description;
use time::OffsetDateTime;

const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

/// The schemes a vector can name, spelled as in `context.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SchemeName {
    Tc3HmacSha256,
    AliyunRpcV1,
    Acs3HmacSha256,
    Jdcloud2HmacSha256,
    Jdcloud3HmacSha256,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextCredentials {
    access_key_id: String,
    secret: String,
}

/// `context.json`: everything needed to sign the request again.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Context {
    description: String,
    source: String,
    scheme: SchemeName,
    credentials: ContextCredentials,
    method: String,
    host: String,
    path: String,
    /// Raw query string as sent, without `?`.
    query: String,
    headers: Vec<(String, String)>,
    /// The body, byte for byte.
    body: String,
    timestamp: i64,
    /// The timestamp in UTC, for the reader; checked against `timestamp`.
    date: String,
    nonce: String,
    region: Option<String>,
    service: Option<String>,
    /// `a;b;c`; absent for schemes that sign no headers.
    signed_headers: Option<String>,
}

impl Context {
    fn load(dir: &Path) -> Result<Self, String> {
        let path = dir.join("context.json");
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let context: Context = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a valid context: {e}", path.display()))?;
        let date = OffsetDateTime::from_unix_timestamp(context.timestamp)
            .ok()
            .and_then(|at| {
                at.format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
                .ok()
            })
            .ok_or_else(|| {
                format!(
                    "{}: timestamp {} has no date",
                    path.display(),
                    context.timestamp
                )
            })?;
        if date != context.date {
            return Err(format!(
                "{}: `date` says {} but `timestamp` {} is {date}; fix whichever is wrong",
                path.display(),
                context.date,
                context.timestamp
            ));
        }
        Ok(context)
    }

    fn unsigned_request(&self) -> SignableRequest {
        SignableRequest {
            method: self.method.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone().into_bytes(),
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.credentials.access_key_id, &self.credentials.secret)
    }

    fn service(&self) -> Result<&str, String> {
        self.service
            .as_deref()
            .ok_or_else(|| format!("{:?} needs a `service`", self.scheme))
    }

    fn scheme(&self) -> Result<Box<dyn SignatureScheme>, String> {
        let listed = self.signed_headers.as_deref().map(SignedHeaders::from_list);
        let jdcloud = |version| -> Result<Box<dyn SignatureScheme>, String> {
            let mut signer = JdcloudSigner::new(version, self.service()?);
            if let Some(region) = &self.region {
                signer = signer.with_region(region);
            }
            if let Some(listed) = listed.clone() {
                signer = signer.with_signed_headers(listed);
            }
            Ok(Box::new(signer))
        };
        Ok(match self.scheme {
            SchemeName::Tc3HmacSha256 => {
                let signer = Tc3Signer::new(self.service()?);
                Box::new(match listed.clone() {
                    Some(listed) => signer.with_signed_headers(listed),
                    None => signer,
                })
            }
            SchemeName::AliyunRpcV1 => Box::new(RpcV1Signer),
            SchemeName::Acs3HmacSha256 => Box::new(match listed.clone() {
                Some(listed) => Acs3Signer::new().with_signed_headers(listed),
                None => Acs3Signer::new(),
            }),
            SchemeName::Jdcloud2HmacSha256 => jdcloud(JdcloudVersion::Jdcloud2)?,
            SchemeName::Jdcloud3HmacSha256 => jdcloud(JdcloudVersion::Jdcloud3)?,
        })
    }
}

fn stage_file(stage: SigningStage) -> &'static str {
    match stage {
        SigningStage::CanonicalRequest => "canonical-request.txt",
        SigningStage::StringToSign => "string-to-sign.txt",
        SigningStage::Signature => "signature.txt",
    }
}

/// A stage file's text without its final newline.
fn read_stage(dir: &Path, file: &str) -> Result<String, String> {
    let path = dir.join(file);
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

fn expected_trace(dir: &Path) -> Result<SigningTrace, String> {
    Ok(SigningTrace {
        canonical_request: read_stage(dir, stage_file(SigningStage::CanonicalRequest))?,
        string_to_sign: read_stage(dir, stage_file(SigningStage::StringToSign))?,
        signature: read_stage(dir, stage_file(SigningStage::Signature))?,
    })
}

/// Expected and actual side by side, line by line, marking the lines that
/// differ: canonical requests differ in one line far more often than in all.
fn describe_mismatch(dir: &Path, mismatch: &SignatureMismatch) -> String {
    let mut out = format!(
        "{} differs from {}\n",
        mismatch.stage,
        dir.join(stage_file(mismatch.stage)).display()
    );
    let expected: Vec<&str> = mismatch.expected.split('\n').collect();
    let actual: Vec<&str> = mismatch.actual.split('\n').collect();
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        if e == a {
            let _ = writeln!(out, "    {}", e.copied().unwrap_or_default());
        } else {
            if let Some(e) = e {
                let _ = writeln!(out, "  - {e:?}   (expected)");
            }
            if let Some(a) = a {
                let _ = writeln!(out, "  + {a:?}   (actual)");
            }
        }
    }
    out
}

fn rerun_hint(name: &str) -> String {
    format!("rerun just this case: cargo test --test signing_vectors -- --exact signing::{name}")
}

/// What a tampered request must be rejected for.
fn expect_rejection(
    what: &str,
    result: Result<SigningTrace, VerifyError>,
    stage: SigningStage,
) -> Result<(), String> {
    match result {
        Err(VerifyError::Mismatch { mismatch, .. }) if mismatch.stage == stage => Ok(()),
        Err(VerifyError::Mismatch { mismatch, .. }) => Err(format!(
            "{what}: rejected at the {} but the {stage} is the first stage that differs\n{mismatch}",
            mismatch.stage
        )),
        Err(other) => Err(format!("{what}: rejected as `{other}`, not as a {stage} mismatch")),
        Ok(_) => Err(format!("{what}: accepted")),
    }
}

/// Changes what the signature covers besides headers: the body, or for
/// signature v1, which signs parameters and not the body, a parameter.
fn tamper_payload(scheme: SchemeName, request: &SignableRequest) -> SignableRequest {
    let mut tampered = request.clone();
    if scheme == SchemeName::AliyunRpcV1 {
        tampered.push_query_param("Tampered", "1");
    } else {
        tampered.body.extend_from_slice(b" ");
    }
    tampered
}

fn run_vector(dir: &Path) -> Result<(), String> {
    let context = Context::load(dir)?;
    check_vector(dir, &context).map_err(|message| {
        format!(
            "{message}\ncase: {}\nsource: {}",
            context.description, context.source
        )
    })
}

fn check_vector(dir: &Path, context: &Context) -> Result<(), String> {
    let expected = expected_trace(dir)?;
    let scheme = context.scheme()?;
    let credentials = context.credentials();
    let mut request = context.unsigned_request();
    let inputs = SigningInputs::new(context.timestamp, context.nonce.as_str());

    let actual = scheme
        .sign(&mut request, &credentials, &inputs)
        .map_err(|e| format!("signing failed: {e}"))?;
    if let Some(mismatch) = expected.first_difference(&actual) {
        return Err(describe_mismatch(dir, &mismatch));
    }
    if dir.join("authorization.txt").exists() {
        let published = read_stage(dir, "authorization.txt")?;
        let sent = request.header("Authorization").unwrap_or_default();
        if sent != published {
            return Err(format!(
                "Authorization header differs from {}\n  - {published:?}   (expected)\n  + {sent:?}   (actual)",
                dir.join("authorization.txt").display()
            ));
        }
    }

    scheme
        .verify(&request, &credentials)
        .map_err(|e| format!("verify rejected the request just signed: {e}"))?;

    // Only the final signature travels with a request, so `verify` alone can
    // place a payload change at the canonical request only when a body
    // digest header gives it away; `diagnose`, which also sees the client's
    // stages, always can.
    let tampered = tamper_payload(context.scheme, &request);
    let carries_digest = [ACS3_CONTENT_SHA256_HEADER, jdcloud::CONTENT_SHA256_HEADER]
        .iter()
        .any(|h| tampered.header(h).is_some());
    let verify_stage = if carries_digest {
        SigningStage::CanonicalRequest
    } else {
        SigningStage::Signature
    };
    expect_rejection(
        "tampered payload, verify",
        scheme.verify(&tampered, &credentials),
        verify_stage,
    )?;
    expect_rejection(
        "tampered payload, diagnose",
        scheme.diagnose(&tampered, &credentials, &actual),
        SigningStage::CanonicalRequest,
    )?;

    let wrong_secret = Credentials::new(
        &context.credentials.access_key_id,
        format!("{}-tampered", context.credentials.secret),
    );
    expect_rejection(
        "wrong secret, verify",
        scheme.verify(&request, &wrong_secret),
        SigningStage::Signature,
    )?;
    expect_rejection(
        "wrong secret, diagnose",
        scheme.diagnose(&request, &wrong_secret, &actual),
        SigningStage::Signature,
    )?;
    Ok(())
}

fn vector_dirs() -> Result<Vec<(String, PathBuf)>, String> {
    let entries =
        fs::read_dir(VECTORS_DIR).map_err(|e| format!("cannot list {VECTORS_DIR}: {e}"))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {VECTORS_DIR}: {e}"))?;
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            dirs.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let dirs = match vector_dirs() {
        Ok(dirs) if !dirs.is_empty() => dirs,
        Ok(_) => {
            eprintln!("no vector folders under {VECTORS_DIR}: a green run would prove nothing");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut trials: Vec<Trial> = dirs
        .into_iter()
        .map(|(name, dir)| {
            Trial::test(format!("signing::{name}"), move || {
                run_vector(&dir)
                    .map_err(|message| Failed::from(format!("{message}\n{}", rerun_hint(&name))))
            })
        })
        .collect();
    planted::add_planted_failure(&mut trials);
    libtest_mimic::run(&args, trials).exit_code()
}
