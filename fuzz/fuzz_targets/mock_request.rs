//! Any request through the mock service: an answer in the envelope of the
//! API it calls, with the journal's request id; when it calls none, in the
//! envelope of the provider it looks like, else neutral JSON, with the
//! journal's request id all the same. The input is `method \n path \n query \n headers… \n\n body`,
//! one `name: value` header a line.

#![no_main]

use std::sync::{Arc, OnceLock};

use imgconform::mock::{default_world, MockConfig, Service};
use imgconform::protocol::signing::SignableRequest;
use imgconform::protocol::wire_for;
use imgconform::Specs;
use libfuzzer_sys::fuzz_target;

fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let specs = Arc::new(Specs::embedded().expect("the shipped specs load"));
        let config = MockConfig {
            journal_capacity: 4,
            nonce_memory: 1024,
            ..MockConfig::default()
        };
        Service::new(specs, default_world(), config)
    })
}

fn request(data: &[u8]) -> SignableRequest {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let query = lines.next().unwrap_or_default();
    let mut request = SignableRequest::new(method, "127.0.0.1:8080", path)
        .with_query(query)
        .with_body(body.to_vec());
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        request = request.with_header(name.trim(), value.trim());
    }
    request
}

fuzz_target!(|data: &[u8]| {
    let service = service();
    let handled = service.handle(&request(data));
    let (answer, entry) = (&handled.answer, &handled.entry);
    match &entry.api {
        Some(id) => {
            let api = service
                .specs()
                .api(id)
                .expect("the journal names a known API");
            let outcome = wire_for(api.raw.protocol)
                .decode(answer.http_status, &answer.body)
                .expect("the answer is in the provider's envelope");
            assert_eq!(
                outcome.request_id.as_deref(),
                Some(entry.request_id.as_str())
            );
            assert_eq!(outcome.error.map(|e| e.code), entry.code);
        }
        // No API, but the request looks like a provider's: that
        // provider's error, with the journal's request id.
        None => match entry.provider {
            Some(provider) => {
                let protocol = service
                    .specs()
                    .provider(provider)
                    .expect("the journal names a known provider")
                    .raw
                    .protocol;
                let outcome = wire_for(protocol)
                    .decode(answer.http_status, &answer.body)
                    .expect("the answer is in the envelope of the provider it looks like");
                assert_eq!(
                    outcome.request_id.as_deref(),
                    Some(entry.request_id.as_str())
                );
                assert!(outcome.error.is_some());
                assert_eq!(outcome.error.map(|e| e.code), entry.code);
            }
            None => {
                let body: serde_json::Value =
                    serde_json::from_slice(&answer.body).expect("a neutral answer is JSON");
                assert!(body["code"].is_string() && body["message"].is_string());
                assert_eq!(body["RequestId"].as_str(), Some(entry.request_id.as_str()));
            }
        },
    }
});
