//! Any text in place of one shipped spec file: the specs load, and every
//! API of them validates its documented example without panicking, or the
//! loader reports each problem with a position.

#![no_main]

use imgconform::spec::{SpecSource, EMBEDDED};
use imgconform::{validate_request, Specs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((which, text)) = data.split_first() else {
        return;
    };
    let which = *which as usize % EMBEDDED.len();
    let text = String::from_utf8_lossy(text);
    let sources = EMBEDDED
        .iter()
        .enumerate()
        .map(|(i, (name, shipped))| SpecSource {
            name: format!("spec/{name}"),
            text: if i == which {
                text.to_string()
            } else {
                shipped.to_string()
            },
        })
        .collect();
    match Specs::from_sources(sources) {
        Ok(specs) => {
            for api in specs.apis() {
                let _ = validate_request(&specs, api, &serde_json::json!({}));
            }
        }
        Err(errors) => {
            assert!(!errors.problems.is_empty());
            for p in &errors.problems {
                assert!(p.position.line >= 1 && p.position.column >= 1 && !p.message.is_empty());
            }
        }
    }
});
