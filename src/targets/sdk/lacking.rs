//! What an SDK could not send: a parameter its model has no field for, or
//! one that did not arrive. Judged by how the documents know the
//! parameter; the request is skipped either way.

use serde_json::Value;

use crate::spec::{ApiSpec, Provenance};
use crate::targets::{CallError, Finding, FindingClass};

/// How an SDK failed to send a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lack {
    /// The adapter said the SDK's model has no field for it.
    NoField,
    /// It did not arrive, and the adapter did not say why.
    NotSent,
}

impl Lack {
    fn text(self, path: &str) -> String {
        match self {
            Lack::NoField => format!("the SDK has no field for {path}"),
            Lack::NotSent => format!("the SDK did not send {path}"),
        }
    }
}

/// What it means for one request that the SDK could not send the
/// parameters at `paths` (template paths, exact): `None` when the request
/// carries none of them. A parameter the documents do not name at all, or
/// one the document's parameter table does not list (an observation),
/// makes the request unsendable as asked; one the table lists is a wire
/// violation too. Either way the request is skipped.
pub(super) fn lacking(
    api: &ApiSpec,
    params: &Value,
    paths: &[String],
    how: Lack,
) -> Option<CallError> {
    let mut paths: Vec<&String> = paths.iter().filter(|p| carries(params, p)).collect();
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return None;
    }
    let (mut reasons, mut findings, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for path in paths {
        match api.parameter_provenance(path) {
            Provenance::Stated => {
                let detail = match how {
                    Lack::NoField => format!(
                        "the SDK has no field for the documented parameter {path}, so it cannot send it"
                    ),
                    Lack::NotSent => format!("the SDK did not send the documented parameter {path}"),
                };
                reasons.push(detail.clone());
                findings.push(Finding {
                    class: FindingClass::WireViolation,
                    detail,
                });
            }
            Provenance::Open => reasons.push(format!(
                "{}, which the documents do not name either",
                how.text(path)
            )),
            Provenance::Read | Provenance::Assumed => {
                let detail = format!(
                    "{}, which the document's parameter table does not list{}",
                    how.text(path),
                    api.inferred_from(path).map(known_from).unwrap_or_default()
                );
                reasons.push(detail.clone());
                observed.push(detail);
            }
        }
    }
    Some(CallError::Lacking {
        reason: reasons.join("; "),
        findings,
        observed,
    })
}

/// ` (known only from its error table)`, from a parameter's
/// `inferred_from` (`Error table: InvalidParameter.…`).
fn known_from(inferred_from: &str) -> String {
    match inferred_from.split_once(':') {
        Some((source, _)) if !source.trim().is_empty() && source.len() <= 40 => {
            format!(" (known only from its {})", source.trim().to_lowercase())
        }
        _ => format!(
            " (known only from: {})",
            inferred_from.chars().take(80).collect::<String>()
        ),
    }
}

/// Whether `params` has a value other than null at the template path
/// `path` (`dataDisks[].cloudDiskSpec`: in any item of `dataDisks`).
fn carries(params: &Value, path: &str) -> bool {
    super::wire::asked_at(params, path, &|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Specs;

    #[test]
    fn a_notice_applies_to_the_exact_path_the_request_carries() {
        let params = serde_json::json!({
            "dataDisks": [{"diskId": "d1"}, {"x3iSumMn8": 1, "cloudDiskSpec": null}],
            "name": "n",
        });
        assert!(carries(&params, "dataDisks[].x3iSumMn8"));
        assert!(carries(&params, "dataDisks"));
        assert!(!carries(&params, "dataDisks[].cloudDiskSpec"));
        assert!(!carries(&params, "dataDisks[].other"));
        assert!(!carries(&params, "name[]"));
        assert!(!carries(&params, "description"));
    }

    #[test]
    fn what_an_sdk_lacks_is_judged_by_how_the_documents_know_the_parameter() {
        let specs = Specs::embedded().unwrap();
        let tencent = specs.api("tencent/ExportImages").unwrap();
        let request =
            serde_json::json!({"SnapshotIds": ["snap-1"], "ImageIds": ["img-1"], "Foo": 1});
        let lack = |paths: &[&str]| {
            lacking(
                tencent,
                &request,
                &paths.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                Lack::NoField,
            )
        };
        // Not in the document's table: observed, never a finding.
        let Some(CallError::Lacking {
            reason,
            findings,
            observed,
        }) = lack(&["SnapshotIds"])
        else {
            panic!("not lacking")
        };
        assert!(findings.is_empty());
        assert_eq!(
            observed,
            ["the SDK has no field for SnapshotIds, which the document's parameter table does not list (known only from its error table)"]
        );
        assert_eq!(reason, observed[0]);
        // In the table: a wire violation.
        let Some(CallError::Lacking {
            findings, observed, ..
        }) = lack(&["ImageIds"])
        else {
            panic!("not lacking")
        };
        assert!(observed.is_empty());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].class, FindingClass::WireViolation);
        assert!(findings[0].detail.contains("documented parameter ImageIds"));
        // Named nowhere: only unsendable.
        let Some(CallError::Lacking {
            reason,
            findings,
            observed,
        }) = lack(&["Foo"])
        else {
            panic!("not lacking")
        };
        assert!(findings.is_empty() && observed.is_empty());
        assert_eq!(
            reason,
            "the SDK has no field for Foo, which the documents do not name either"
        );
        // A parameter that did not arrive, the adapter silent on why.
        let Some(CallError::Lacking { observed, .. }) =
            lacking(tencent, &request, &["SnapshotIds".into()], Lack::NotSent)
        else {
            panic!("not lacking")
        };
        assert_eq!(
            observed,
            ["the SDK did not send SnapshotIds, which the document's parameter table does not list (known only from its error table)"]
        );
        // A notice for a path this request does not carry is none of its
        // business.
        assert!(lack(&["RoleName", "Bar[].x"]).is_none());
    }
}
