//! Any JSON against every API: a verdict that agrees with its violations,
//! each of which says what is wrong.

#![no_main]

use std::sync::OnceLock;

use imgconform::{validate_request, Specs};
use libfuzzer_sys::fuzz_target;

fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| Specs::embedded().expect("the shipped specs load"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let specs = specs();
    for api in specs.apis() {
        let report = validate_request(specs, api, &request);
        assert_eq!(report.valid, report.violations.is_empty());
        assert!(report.violations.iter().all(|v| !v.detail.is_empty()));
    }
});
