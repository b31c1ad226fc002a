//! What an SDK run reports beyond its trials: each finding once, grouped by
//! class, with its evidence (the request asked for, the wire request as the
//! mock read it, the answer it sent, what the SDK reported) and the command
//! that replays the case that showed it; and the client-side validation
//! table: for each constraint, whether the SDK refused a request breaking it
//! before sending, sent it for the server to refuse, or refused a valid
//! request at its limit (only the last is a defect).
//!
//! Everything here is read off the run as run.json reads back
//! (docs/run-json.md: a trial's `findings`, `evidence` and
//! `client_side_validation`), so that `run --report` (sdk.md, sdk.json)
//! and `imgconform report --observed` (the HTML report's SDK section) say
//! the same.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::spec::Provenance;

/// How one trial's requests on one constraint fared with the SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClientSideRow {
    /// How the documents know the constraint, where the verdicts said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::spec::Provenance>,
    /// Requests breaking it (and nothing else) the SDK refused itself.
    #[serde(default, deserialize_with = "super::output::null_as_default")]
    pub refused_by_the_sdk: u64,
    /// Requests breaking it the SDK sent for the server to refuse.
    #[serde(default, deserialize_with = "super::output::null_as_default")]
    pub sent_to_the_server: u64,
    /// Requests the documents call valid that the SDK refused before
    /// sending (a finding).
    #[serde(default, deserialize_with = "super::output::null_as_default")]
    pub valid_refused: u64,
}

/// The row of valid requests with no one constraint to name (the valid
/// property's, a hand-written valid case's).
pub const ANY_VALID_REQUEST: &str = "(a valid request)";

/// The constraint a valid boundary (`ImageIds::max_items`,
/// `ExportFormat::enum::raw`, `a::b::min_length_2`) sits at the limit of,
/// as the verdicts name it (`ImageIds [max_items]`).
pub fn boundary_constraint(name: &str) -> String {
    let mut parts = name.split("::");
    let path = parts.next().unwrap_or_default();
    match parts.next() {
        Some(label) => {
            let label = label.trim_end_matches(|c: char| c.is_ascii_digit());
            let label = label.strip_suffix('_').unwrap_or(label);
            format!("{path} [{label}]")
        }
        None => path.to_string(),
    }
}

/// `detail` with the request ids in it masked, so that one behaviour seen
/// on many answers is one finding: a run of 16 or more hexadecimal digits
/// and dashes holding at least 12 digits.
fn shape(detail: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 16 && run.chars().filter(char::is_ascii_hexdigit).count() >= 12 {
            out.push_str("<request id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in detail.chars() {
        if c.is_ascii_hexdigit() || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// One finding, once, with the trials that met it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedFinding {
    pub class: String,
    /// The first detail met (the others differ only in request ids).
    pub detail: String,
    pub trials: Vec<String>,
    /// How many details it stands for (differing only in request ids).
    pub seen: u64,
    #[serde(skip)]
    details: std::collections::BTreeSet<String>,
    /// The SDK as the adapter reported it.
    pub sdk: String,
    /// The first call that showed it (the SDK target's evidence of a call), with `case` (its
    /// index in the trial) where the trial numbers its cases.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub evidence: Value,
    /// The command that replays that case (or, where the case has no
    /// index, the trial) through the adapter.
    pub replay: String,
}

/// One row of the client-side validation table: a constraint of one API.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSideLine {
    pub api: String,
    pub constraint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    pub refused_by_the_sdk: u64,
    pub sent_to_the_server: u64,
    pub valid_refused: u64,
    /// In words: `checks it itself`, `leaves it to the server`, `both`,
    /// `refuses valid requests` (the defect).
    pub reading: String,
}

/// The SDK part of one run.
#[derive(Debug, Clone, Serialize)]
pub struct SdkFindings {
    pub adapter: String,
    pub sdk: String,
    pub findings: Vec<ReportedFinding>,
    pub client_side_validation: Vec<ClientSideLine>,
}

impl SdkFindings {
    /// Read off a run (as run.json reads back); `None` for a run against
    /// no SDK.
    pub fn from_run(run: &super::RunSummary) -> Option<SdkFindings> {
        let adapter = run.target.strip_prefix("sdk:")?.to_string();
        let transport = run.transport.as_str();
        let sdk = transport
            .split(" through ")
            .next()
            .unwrap_or(transport)
            .to_string();
        let seed = run.seed;
        let cases = Some(u64::from(run.cases_per_property)).filter(|&n| n > 0);
        let mut findings: BTreeMap<(String, String), ReportedFinding> = BTreeMap::new();
        let mut table: BTreeMap<(String, String), (ClientSideRow, Option<Provenance>)> =
            BTreeMap::new();
        for t in &run.trials {
            let name = t.name.as_str();
            for f in &t.findings {
                // The class as run.json names it (`wire_violation`).
                let class = serde_json::to_value(f.class)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let evidence = t
                    .evidence
                    .iter()
                    .find(|e| e["class"] == class.as_str() && e["detail"] == f.detail.as_str())
                    .map(|e| e["evidence"].clone())
                    .unwrap_or(Value::Null);
                let entry = findings
                    .entry((class.clone(), shape(&f.detail)))
                    .or_insert_with(|| ReportedFinding {
                        replay: replay(&adapter, seed, cases, name, &evidence),
                        class: class.replace('_', " "),
                        detail: f.detail.clone(),
                        trials: Vec::new(),
                        seen: 0,
                        details: Default::default(),
                        sdk: sdk.clone(),
                        evidence,
                    });
                entry.details.insert(f.detail.clone());
                entry.seen = entry.details.len() as u64;
                if !entry.trials.iter().any(|t| t == name) {
                    entry.trials.push(name.to_string());
                }
            }
            for (constraint, row) in &t.client_side_validation {
                let (sum, provenance) = table
                    .entry((t.api.clone(), constraint.clone()))
                    .or_default();
                sum.refused_by_the_sdk += row.refused_by_the_sdk;
                sum.sent_to_the_server += row.sent_to_the_server;
                sum.valid_refused += row.valid_refused;
                if provenance.is_none() {
                    *provenance = row.provenance;
                }
            }
        }
        let client_side_validation = table
            .into_iter()
            .map(|((api, constraint), (row, provenance))| ClientSideLine {
                reading: reading(&row).to_string(),
                api,
                constraint,
                provenance: provenance.map(|p| p.as_str().to_string()),
                refused_by_the_sdk: row.refused_by_the_sdk,
                sent_to_the_server: row.sent_to_the_server,
                valid_refused: row.valid_refused,
            })
            .collect();
        Some(SdkFindings {
            adapter,
            sdk,
            findings: findings.into_values().collect(),
            client_side_validation,
        })
    }

    /// The findings by class, then the client-side validation table, as
    /// Markdown sections (level 2) for sdk.md.
    pub fn markdown(&self) -> String {
        let mut out = String::from("\n## Findings, each once, by class\n\n");
        if self.findings.is_empty() {
            out.push_str("(none)\n");
        }
        let mut class = "";
        for f in &self.findings {
            if f.class != class {
                class = &f.class;
                out.push_str(&format!("\n### {class}\n\n"));
            }
            out.push_str(&format!(
                "- {}{}\n  - SDK: {}; trials: {}\n  - replay: `{}`\n",
                f.detail,
                if f.seen > 1 {
                    format!(" (and {} more like it, other request ids)", f.seen - 1)
                } else {
                    String::new()
                },
                f.sdk,
                f.trials
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                f.replay
            ));
            for (label, key) in [
                ("request asked for", "request"),
                ("wire request (as the mock read it)", "wire"),
                ("answer sent", "answer"),
                ("the SDK reported", "sdk_reported"),
            ] {
                let v = &f.evidence[key];
                if !v.is_null() {
                    out.push_str(&format!("  - {label}: `{}`\n", compact(v)));
                }
            }
        }
        out.push_str(&format!("\n{}", self.client_side_markdown()));
        out
    }

    /// The client-side validation table as a Markdown section.
    pub fn client_side_markdown(&self) -> String {
        let mut out = String::from(
            "## Client-side validation\n\nFor each constraint a request broke (alone), or was at the limit of: \
             whether the SDK refused it before sending, or sent it for the server to refuse; and whether it \
             refused a request the documents call valid (the only defect here).\n\n",
        );
        if self.client_side_validation.is_empty() {
            out.push_str("(no constraint was exercised)\n");
            return out;
        }
        out.push_str("| API | constraint | documents | refused by the SDK | sent to the server | valid refused | reading |\n|---|---|---|---:|---:|---:|---|\n");
        for l in &self.client_side_validation {
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {} | {} | {} |\n",
                l.api,
                l.constraint.replace('|', "\\|"),
                l.provenance.as_deref().unwrap_or(""),
                l.refused_by_the_sdk,
                l.sent_to_the_server,
                l.valid_refused,
                l.reading
            ));
        }
        out
    }
}

/// A constraint's row in words.
fn reading(row: &ClientSideRow) -> &'static str {
    match (
        row.valid_refused > 0,
        row.refused_by_the_sdk > 0,
        row.sent_to_the_server > 0,
    ) {
        (true, _, _) => "refuses valid requests (finding)",
        (false, true, true) => "checks some itself, leaves others to the server",
        (false, true, false) => "checks it itself",
        (false, false, true) => "leaves it to the server",
        (false, false, false) => "not exercised",
    }
}

/// The command that replays the case of `evidence` (its `case` and
/// `mock_seq`), or the trial where it has no case index.
fn replay(
    adapter: &str,
    seed: Option<u64>,
    cases: Option<u64>,
    trial: &str,
    evidence: &Value,
) -> String {
    let mut cmd = String::new();
    // The Tencent SDKs send the GET form only when told to.
    if evidence["wire"]["method"] == "GET" && trial.starts_with("tencent::") {
        cmd.push_str("IMGCONFORM_TENCENT_REQ_METHOD=GET ");
    }
    cmd.push_str(&format!("imgconform run --target sdk:{adapter}"));
    if let Some(n) = cases {
        cmd.push_str(&format!(" --cases {n}"));
    }
    if let Some(s) = seed {
        cmd.push_str(&format!(" --seed {s}"));
    }
    cmd.push_str(&format!(" {trial}"));
    if let Some(k) = evidence["case"].as_u64() {
        cmd.push_str(&format!(" --case {k}"));
        if let Some(q) = evidence["mock_seq"].as_u64() {
            cmd.push_str(&format!(" --mock-seq {q}"));
        }
    }
    cmd
}

/// A value on one line, cut to a readable length.
fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 600 {
        format!("{}…", s.chars().take(600).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A run as run.json reads back.
    fn read(run: Value) -> super::super::RunSummary {
        serde_json::from_value(run).unwrap()
    }

    fn run() -> Value {
        json!({
            "target": "sdk:adapters/x",
            "transport": "x-sdk 1.2 through adapters/x, answers varied with seed 1",
            "seed": 1,
            "cases_per_property": 64,
            "trials": [
                {"name": "tencent::ExportImages::property::boundaries", "api": "tencent/ExportImages",
                 "findings": [{"class": "client_side_validation", "detail": "refused"}],
                 "evidence": [{"class": "client_side_validation", "detail": "refused",
                               "evidence": {"case": 3, "request": {"ImageIds": ["a", "b"]}, "sdk_reported": {"client_side": true}}}],
                 "client_side_validation": {
                     "ImageIds::max_items::at": {"refused_by_the_sdk": 0, "sent_to_the_server": 0, "valid_refused": 1},
                     "ImageIds [max_items]": {"provenance": "assumed", "refused_by_the_sdk": 2, "sent_to_the_server": 0, "valid_refused": 0}
                 }},
                {"name": "tencent::ExportImages::cases::handwritten", "api": "tencent/ExportImages",
                 "findings": [{"class": "client_side_validation", "detail": "refused"},
                              {"class": "error_mapping", "detail": "e"}],
                 "evidence": [{"class": "error_mapping", "detail": "e",
                               "evidence": {"case": 0, "mock_seq": 9, "wire": {"method": "GET"}}}],
                 "client_side_validation": {
                     "ImageIds [max_items]": {"refused_by_the_sdk": 0, "sent_to_the_server": 1, "valid_refused": 0},
                     "BucketName [required]": {"refused_by_the_sdk": 0, "sent_to_the_server": 4, "valid_refused": 0}
                 }}
            ]
        })
    }

    #[test]
    fn each_finding_is_listed_once_with_its_evidence_and_replay() {
        let r = SdkFindings::from_run(&read(run())).unwrap();
        assert_eq!(r.sdk, "x-sdk 1.2");
        assert_eq!(r.findings.len(), 2);
        let csv = &r.findings[0];
        assert_eq!(csv.class, "client side validation");
        assert_eq!(csv.trials.len(), 2);
        assert_eq!(
            csv.replay,
            "imgconform run --target sdk:adapters/x --cases 64 --seed 1 tencent::ExportImages::property::boundaries --case 3"
        );
        assert_eq!(
            r.findings[1].replay,
            "IMGCONFORM_TENCENT_REQ_METHOD=GET imgconform run --target sdk:adapters/x --cases 64 --seed 1 tencent::ExportImages::cases::handwritten --case 0 --mock-seq 9"
        );
        let md = r.markdown();
        assert_eq!(md.matches("- refused\n").count(), 1, "{md}");
        assert!(
            md.contains("request asked for: `{\"ImageIds\":[\"a\",\"b\"]}`"),
            "{md}"
        );
        assert!(SdkFindings::from_run(&read(json!({"target": "mock"}))).is_none());
    }

    #[test]
    fn findings_that_differ_only_in_request_ids_are_one() {
        let mut r = run();
        r["trials"][1]["findings"] = json!([
            {"class": "error_mapping", "detail": "answered X, the SDK reported a success ({\"RequestId\":\"00000000-0000-4000-8000-000000000022\"})"},
            {"class": "error_mapping", "detail": "answered X, the SDK reported a success ({\"RequestId\":\"00000000-0000-4000-8000-00000000002e\"})"},
            {"class": "error_mapping", "detail": "answered Y, the SDK reported a success ({\"RequestId\":\"00000000-0000-4000-8000-00000000002e\"})"},
        ]);
        let r = SdkFindings::from_run(&read(r)).unwrap();
        let mapping: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.class == "error mapping")
            .collect();
        assert_eq!(mapping.len(), 2, "{mapping:?}");
        assert_eq!(mapping[0].seen, 2);
        assert!(mapping[0].detail.ends_with("000000000022\"})"));
        assert_eq!(
            boundary_constraint("ImageIds::max_items"),
            "ImageIds [max_items]"
        );
        assert_eq!(
            boundary_constraint("ExportFormat::enum::raw_2"),
            "ExportFormat [enum]"
        );
        assert_eq!(
            shape("the code c2ab (not an id), deadbeef"),
            "the code c2ab (not an id), deadbeef"
        );
    }

    #[test]
    fn the_table_adds_up_each_constraint_over_the_trials_and_reads_it() {
        let r = SdkFindings::from_run(&read(run())).unwrap();
        let line = |c: &str| {
            r.client_side_validation
                .iter()
                .find(|l| l.constraint == c)
                .unwrap()
                .clone()
        };
        let max = line("ImageIds [max_items]");
        assert_eq!((max.refused_by_the_sdk, max.sent_to_the_server), (2, 1));
        assert_eq!(max.provenance.as_deref(), Some("assumed"));
        assert_eq!(
            max.reading,
            "checks some itself, leaves others to the server"
        );
        assert_eq!(
            line("BucketName [required]").reading,
            "leaves it to the server"
        );
        assert_eq!(
            line("ImageIds::max_items::at").reading,
            "refuses valid requests (finding)"
        );
        let md = r.client_side_markdown();
        assert!(md.contains("| `tencent/ExportImages` | `ImageIds [max_items]` | assumed | 2 | 1 | 0 | checks some itself, leaves others to the server |"), "{md}");
    }
}
