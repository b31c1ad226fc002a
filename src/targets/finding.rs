//! What a target found wrong with itself, beside the answers the runner
//! judges: an SDK's departures from the documents or from what the mock
//! said. Only the SDK target has any; they reach the runner in
//! [`super::Exchange::findings`] and [`super::CallError::Lacking`].

use serde::Serialize;

/// What kind of departure a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingClass {
    /// The SDK sent something the documents do not allow on the wire.
    WireViolation,
    /// The SDK's signature did not verify.
    Signature,
    /// The SDK mapped a documented error to the wrong result.
    ErrorMapping,
    /// The SDK misread a success answer.
    ResultParsing,
    /// The SDK refused, before sending, a request the documents allow.
    ClientSideValidation,
    /// An unretryable answer retried, or a retryable one beyond reason
    /// (the adversarial answers, `sdk::answers`).
    Retry,
    /// A field the documents do not name in the raw body: an undocumented
    /// key, null for a parameter not set, a path parameter repeated
    /// (see `sdk::wire`). A departure from imgconform's
    /// assumption that an SDK sends only what the documents describe.
    UndocumentedField,
    /// Fewer headers signed than JDCLOUD3 is read to require (the reading
    /// of JD's JDCLOUD2 documentation): a departure.
    SignedHeadersReading,
    /// The SDK's default scheme, when the caller names none, is plain
    /// http, where the provider's documents give its request URL as
    /// `https://` (JD Cloud, Alibaba).
    PlainHttp,
    /// The same where the documents name only the domain (Tencent): a
    /// departure from the assumption that a cloud API is called over
    /// https.
    PlainHttpAssumed,
    /// The adapter's stdout, stderr or a log file it names showed the
    /// secret (as is, hex, base64, or eight characters of it).
    SecretLeak,
}

impl FindingClass {
    /// The class's name, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingClass::WireViolation => "wire violation",
            FindingClass::Signature => "signature",
            FindingClass::ErrorMapping => "error mapping",
            FindingClass::ResultParsing => "result parsing",
            FindingClass::ClientSideValidation => "client-side validation",
            FindingClass::Retry => "retry",
            FindingClass::UndocumentedField => "wire: undocumented field",
            FindingClass::SignedHeadersReading => "signature: signed headers, a reading",
            FindingClass::PlainHttp => "wire: plain http by default",
            FindingClass::PlainHttpAssumed => "wire: plain http by default, assumed",
            FindingClass::SecretLeak => "secret leak",
        }
    }

    /// Whether a finding of this class fails its trial. Departures from a
    /// reading or an assumption (consistent with the verdicts' Read and
    /// Assumed provenance) are reported and fail only under `--strict`;
    /// everything else breaks a stated rule, or what the mock answered.
    pub fn fails(self) -> bool {
        !matches!(
            self,
            FindingClass::UndocumentedField
                | FindingClass::SignedHeadersReading
                | FindingClass::PlainHttpAssumed
        )
    }
}

/// One way an SDK departed from the documents or from what the mock said.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct Finding {
    /// What kind of departure.
    pub class: FindingClass,
    /// What was seen, in a sentence.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.class.as_str(), self.detail)
    }
}
