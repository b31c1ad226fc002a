//! Any status and body through each provider's answer decoder: an outcome
//! or a decode error that says why, never a panic.

#![no_main]

use imgconform::protocol::wire_for;
use imgconform::spec::raw::Protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_le_bytes(*status);
    for protocol in [
        Protocol::JdcloudRestJson,
        Protocol::AliyunRpc,
        Protocol::TencentApi3,
    ] {
        match wire_for(protocol).decode(status, body) {
            Ok(outcome) => assert_eq!(outcome.http_status, status),
            Err(e) => assert!(!e.reason.is_empty()),
        }
    }
});
