//! # imgconform
//!
//! A conformance and validation harness for the VM-image APIs of JD Cloud,
//! Alibaba Cloud and Tencent Cloud. The providers' prose documentation is
//! turned into machine-readable specs (`spec/`), and everything else is
//! driven by them.
//!
//! The flow, each module using only those before it:
//!
//! 1. [`spec`] — load and check the specs ([`Specs`], [`ApiSpec`]).
//! 2. [`validate`] — check a request against a spec ([`validate_request`])
//!    and a success answer against the response schema.
//! 3. [`generate`] — proptest strategies read off a spec: valid requests,
//!    single violations, boundaries.
//! 4. [`verdict`] — the one place that judges an answer against what the
//!    documents expect, by how they know it (stated, read, assumed, open).
//! 5. [`protocol`] — wire protocols and request signing, one module per provider.
//! 6. [`cases`] — the data-driven cases in `cases/`.
//! 7. [`mock`] — the embedded mock provider ([`mock::MockProvider`]).
//! 8. [`live`] — the reference client for real endpoints.
//! 9. [`targets`] — what the runner sends to, behind the [`targets::Target`]
//!    trait: the embedded mock, live endpoints, an SDK through its adapter.
//! 10. [`runner`] — properties and cases against a target, as named trials.
//! 11. [`report`] — the provider behaviour differences report: the specs side
//!     by side, an error taxonomy, documentation gaps, observed departures.
//!
//! ```
//! use imgconform::{Specs, validate_request};
//! use serde_json::json;
//!
//! let specs = Specs::embedded().expect("the shipped specs are valid");
//! let api = specs.api("aliyun/ExportImage").unwrap();
//! let report = validate_request(&specs, api, &json!({
//!     "RegionId": "cn-hangzhou", "ImageId": "m-bp67acfmxazb4p****",
//!     "OSSBucket": "testexportImage", "OSSPrefix": "a".repeat(31)
//! }));
//! assert!(!report.valid);
//! assert_eq!(report.violations[0].expected.code(), Some("InvalidOSSPrefix.Malformed"));
//! ```

// Terminal output goes through `console`, which never panics on a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![warn(missing_docs)]

pub mod cases;
pub mod console;
pub mod generate;
pub mod live;
pub mod mock;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod secret_scan;
pub mod spec;
pub mod targets;
pub mod validate;
pub mod verdict;

pub use spec::{ApiSpec, ProviderId, SpecErrors, SpecProblem, Specs};
pub use validate::response::{check_success_body, ResponseProblem, ResponseProblemKind};
pub use validate::{validate_request, ExpectedError, Notice, Validation, Violation};
