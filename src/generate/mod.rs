//! Request generators derived from the specs: proptest strategies for
//! valid requests, for requests that break exactly one documented
//! constraint or rule, and the explicit boundary values of every limit.
//! Nothing here is written per API; everything is read off an
//! [`ApiSpec`]'s parameter tree and rules.
//!
//! - [`valid_request`]: required parameters always, optional ones sent or
//!   not; strings by enum, pattern (CJK where the pattern admits it),
//!   format and length, each valid under every reasonable reading (never
//!   empty; Chinese characters from U+4E00 to U+9FA5; https URLs a URL
//!   parser reads back unchanged; [`fringe_strings`] lists what is left
//!   out); integers across their range and step; arrays up
//!   to their maximum; objects (JD's nested `dataDisks`) field by field.
//!   The cross-field rules are then made to hold by a repair read from
//!   each rule's kind (the size range of the disk type chosen, a field a
//!   condition requires, distinct device names, a URL whose host carries
//!   the region, base64 JSON of the required shape).
//! - [`single_violation`] for each of [`violation_targets`]: a valid
//!   request with one thing broken, and the error the documents name for
//!   it ([`ExpectedError::Undocumented`](crate::validate::ExpectedError)
//!   where they name none).
//! - [`boundaries`]: both sides of every limit, named stably.
//!
//! Values the world must know (ids of images, instances, buckets,
//! snapshots, roles; regions) come from a [`GenerationContext`]. Every
//! strategy shrinks toward a small request, and a [`GeneratorConfig`]
//! seed replays a run. Like `spec`, this module does no I/O.
//!
//! ```
//! use imgconform::generate::{sample_valid, GenerationContext};
//! use imgconform::{validate_request, Specs};
//! use serde_json::json;
//!
//! let specs = Specs::embedded().unwrap();
//! let api = specs.api("jdcloud/importImage").unwrap();
//! let ctx = GenerationContext::from_examples(api, &[json!({"regionId": "cn-north-1"})]);
//! for request in sample_valid(api, &ctx, 7, 16).unwrap() {
//!     assert_eq!(request["regionId"], "cn-north-1");
//!     assert!(validate_request(&specs, api, &request).valid);
//! }
//! ```

mod boundary;
mod context;
mod draft;
mod mutate;
mod oracle;
mod remember;
mod repair;
mod run;
mod targets;
mod values;

use proptest::strategy::BoxedStrategy;
use serde_json::Value;

use crate::spec::{ApiSpec, Specs};

pub use boundary::{boundaries, BoundaryCase};
pub use context::{world_bound_params, GenerationContext};
pub use mutate::{any_single_violation, each_single_violation_in_turn, single_violation, Mutation};
pub use oracle::ExpectedViolation;
pub use run::{Breach, GenerationError, GenerationFailure, GeneratorConfig, Judged, RuleFailures};
pub use targets::{
    skipped_targets, violation_targets, CrossEffect, SkippedTarget, Target, ViolationTarget,
};
pub use values::{fringe_strings, FringeValue};

/// Valid requests of `api` (JSON objects of logical parameters, path and
/// header parameters included, as [`crate::validate_request`] takes them).
pub fn valid_request(api: &ApiSpec, ctx: &GenerationContext) -> BoxedStrategy<Value> {
    values::valid_values(&values::Gen::new(api, ctx))
}

/// Every rule `request` breaks, with the error the documents name for each,
/// derived from the spec on its own (the generators' oracle), not by the
/// validator the mock answers from. `specs` supplies the provider's common
/// errors.
pub fn expected_violations(
    specs: &Specs,
    api: &ApiSpec,
    request: &Value,
) -> Vec<ExpectedViolation> {
    oracle::violations(api, &specs.provider_of(api).errors, request)
}

/// [`expected_violations`] under another reading of the points the
/// documents leave open (unknown parameters, key case, `null`, an empty
/// required string): what a service that reads them so must answer.
pub fn expected_violations_with(
    specs: &Specs,
    api: &ApiSpec,
    request: &Value,
    reading: &crate::validate::ValidationOptions,
) -> Vec<ExpectedViolation> {
    oracle::violations_with(api, &specs.provider_of(api).errors, request, reading)
}

/// `n` valid requests, as a run with `seed` draws them.
pub fn sample_valid(
    api: &ApiSpec,
    ctx: &GenerationContext,
    seed: u64,
    n: usize,
) -> Result<Vec<Value>, GenerationError> {
    run::sample(
        &valid_request(api, ctx),
        seed,
        n,
        &format!("a valid {} request", api.id()),
    )
}

/// `per_target` mutations of each of [`violation_targets`], target by
/// target, as a run with `seed` draws them.
pub fn sample_violations(
    specs: &Specs,
    api: &ApiSpec,
    ctx: &GenerationContext,
    seed: u64,
    per_target: usize,
) -> Result<Vec<Mutation>, GenerationError> {
    let mut out = Vec::new();
    for target in violation_targets(api) {
        let strategy = single_violation(specs, api, ctx, &target);
        let what = format!("a {} request breaking {}", api.id(), target.target.name());
        out.extend(run::sample(&strategy, seed, per_target, &what)?);
    }
    Ok(out)
}
