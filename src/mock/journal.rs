//! What the mock received and how it answered: the last entries in a ring
//! of fixed capacity, and counters over every request, so that a long run
//! keeps its totals without growing without limit.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// How the signature check went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum SignatureVerdict {
    /// The signature verified.
    Ok {
        /// The signing scheme it was made with.
        scheme: String,
    },
    /// The signature did not verify.
    Failed {
        /// How it failed, as the specs name it (`signature_mismatch`).
        failure: String,
        /// What differed, without any secret.
        detail: String,
    },
    /// The request was answered before its signature was looked at (no API
    /// matched, or a fault was injected).
    NotChecked,
}

/// One request and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// 1 for the first request the mock received.
    pub seq: u64,
    /// The HTTP method received.
    pub method: String,
    /// The path received.
    pub path: String,
    /// `provider/api`, when the request matched one.
    pub api: Option<String>,
    /// The provider whose envelope the answer is in: the API's, or, for a
    /// request that matched none, the one it looks like; `None` for a
    /// neutral answer.
    pub provider: Option<crate::spec::ProviderId>,
    /// Whether the request's signature verified.
    pub signature: SignatureVerdict,
    /// The parameters as read from the wire.
    pub params: Option<serde_json::Value>,
    /// Every violation the validator found, as `path [rule]`.
    pub violations: Vec<String>,
    /// The precondition that refused the request, if one did, as the specs
    /// name it (`image_not_found`).
    pub refusal: Option<String>,
    /// The fault injected, if one was (`export_failed`).
    pub fault: Option<String>,
    /// The HTTP status answered.
    pub http_status: u16,
    /// The error code answered; `None` for a success.
    pub code: Option<String>,
    /// The request id answered.
    pub request_id: String,
    /// The answer's body, when it is JSON: what a client should have read
    /// (the SDK target compares an SDK's parsed result with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
    /// How the answer was varied (see `super::variation`), if it was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub varied: Vec<&'static str>,
    /// The adversarial answer sent instead of the mock's own (SDK
    /// sessions: `InvalidParameter status=500`, `html-502`; see
    /// `super::answers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_plan: Option<String>,
}

impl JournalEntry {
    /// The entry of request `seq` as it arrives: nothing decided yet.
    pub fn received(seq: u64, request: &crate::protocol::signing::SignableRequest) -> Self {
        JournalEntry {
            seq,
            method: request.method.clone(),
            path: request.path.clone(),
            api: None,
            provider: None,
            signature: SignatureVerdict::NotChecked,
            params: None,
            violations: vec![],
            refusal: None,
            fault: None,
            http_status: 0,
            code: None,
            request_id: String::new(),
            answer: None,
            varied: vec![],
            answer_plan: None,
        }
    }
}

/// Totals of one API (or of requests that matched none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Requests received.
    pub requests: u64,
    /// Requests answered with success.
    pub succeeded: u64,
    /// Requests refused for their signature.
    pub signature_failures: u64,
    /// Requests refused as invalid.
    pub invalid: u64,
    /// Valid requests refused for the world's state (a precondition).
    pub refused: u64,
    /// Requests answered with an injected fault.
    pub faults: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
}

/// The journal: bounded entries plus running totals.
#[derive(Debug, Clone, Serialize)]
pub struct Journal {
    /// How many entries are kept; older ones are dropped first.
    pub capacity: usize,
    /// Requests received in all.
    pub total: u64,
    /// Entries dropped from the ring to keep it within `capacity`.
    pub dropped: u64,
    /// Counters per API (`provider/api`).
    pub by_api: BTreeMap<String, Counters>,
    /// The latest entries, oldest first.
    pub entries: VecDeque<JournalEntry>,
}

/// Which counter an entry adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    SignatureFailure,
    Invalid,
    Refused,
    Fault,
    RateLimited,
    /// Matched no API.
    Unmatched,
}

impl Journal {
    /// An empty journal that keeps the last `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Journal {
            capacity,
            total: 0,
            dropped: 0,
            by_api: BTreeMap::new(),
            entries: VecDeque::with_capacity(capacity.min(1024)),
        }
    }

    /// Count one request's `outcome` and keep its `entry`.
    pub fn record(&mut self, entry: JournalEntry, outcome: Outcome) {
        self.total += 1;
        let counters = self
            .by_api
            .entry(entry.api.clone().unwrap_or_else(|| "(no API)".into()))
            .or_default();
        counters.requests += 1;
        match outcome {
            Outcome::Succeeded => counters.succeeded += 1,
            Outcome::SignatureFailure => counters.signature_failures += 1,
            Outcome::Invalid => counters.invalid += 1,
            Outcome::Refused => counters.refused += 1,
            Outcome::Fault => counters.faults += 1,
            Outcome::RateLimited => counters.rate_limited += 1,
            Outcome::Unmatched => {}
        }
        if self.capacity == 0 {
            self.dropped += 1;
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// A one-line summary per API, for `serve`'s shutdown message.
    pub fn summary(&self) -> String {
        let mut out = format!("{} request(s)", self.total);
        for (api, c) in &self.by_api {
            out.push_str(&format!(
                "\n  {api}: {} request(s), {} succeeded, {} signature failure(s), {} invalid, {} refused, {} fault(s), {} rate-limited",
                c.requests, c.succeeded, c.signature_failures, c.invalid, c.refused, c.faults, c.rate_limited
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> JournalEntry {
        JournalEntry {
            seq,
            method: "POST".into(),
            path: "/".into(),
            api: Some("tencent/ExportImages".into()),
            provider: Some(crate::spec::ProviderId::Tencent),
            signature: SignatureVerdict::NotChecked,
            params: None,
            violations: vec![],
            refusal: None,
            fault: None,
            http_status: 200,
            code: None,
            request_id: format!("r{seq}"),
            answer: None,
            varied: vec![],
            answer_plan: None,
        }
    }

    #[test]
    fn the_ring_keeps_the_last_entries_and_counts_everything() {
        let mut j = Journal::new(3);
        for seq in 1..=10 {
            j.record(entry(seq), Outcome::Succeeded);
        }
        assert_eq!(j.total, 10);
        assert_eq!(j.dropped, 7);
        assert_eq!(
            j.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![8, 9, 10]
        );
        assert_eq!(j.by_api["tencent/ExportImages"].succeeded, 10);
    }
}
