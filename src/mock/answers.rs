//! Adversarial answers for SDK sessions: the mock answers a call with a
//! documented error presented another way than the documents show it (its
//! HTTP status, no request id, another message form, other `Content-Type`
//! parameters, unknown and reordered fields, a huge body), or with what a
//! proxy or a failing backend sends (an HTML page, an empty body), each
//! under a name (`status=500`, `no-request-id`, `html-502`) that the
//! journal records in the entry's `varied`.
//!
//! Only the SDK target asks for these ([`super::Service::answer_with`]),
//! one plan per call, and the plan holds for every request of that call,
//! so that an SDK's retries are answered (and counted) too. The default
//! `run` on the embedded mock never sets one.

use serde_json::{Map, Value};

use crate::protocol::wire::Wire;
use crate::protocol::Answer;
use crate::spec::{ErrorSpec, ProviderId};

/// How a documented error is presented, or what comes instead of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presentation {
    /// As the documents show it.
    Documented,
    /// The provider's envelope with another HTTP status.
    Status(u16),
    /// The envelope without its request id.
    NoRequestId,
    /// The message with a `: detail` after it (true), or with every colon
    /// taken out (false).
    MessageColon(bool),
    /// A signature mismatch with the string the mock signed after the
    /// provider's separator (Alibaba's `server string to sign is:`), or
    /// without ([`crate::protocol::StringToSignEcho`]).
    SignatureSuffix(bool),
    /// Another `Content-Type` for the same JSON.
    ContentType(&'static str),
    /// An unknown field added and every object's fields in reverse order.
    Reordered,
    /// An unknown field of a mebibyte in the envelope.
    HugeBody,
    /// No body at all, with this status.
    EmptyBody(u16),
    /// A proxy's HTML page with this status (502, 504).
    Html(u16),
}

/// What the mock answers to every request of one SDK call.
#[derive(Debug, Clone)]
pub struct AnswerPlan {
    /// The variation's name, for the journal and the findings
    /// (`InvalidParameter status=500`).
    pub name: String,
    /// The documented error answered; `None` for an HTML page or an empty
    /// body, which carry no code.
    pub error: Option<ErrorSpec>,
    pub presentation: Presentation,
    /// The HTTP status sent: the documented one (the provider's usual where
    /// the documents give none: Tencent 200, the others 400), or the
    /// presentation's.
    pub http_status: u16,
    /// A `Retry-After` header (seconds).
    pub retry_after: Option<u32>,
}

/// The answer the mock sends.
pub struct Planned {
    pub answer: Answer,
    /// The code the answer carries, if any.
    pub code: Option<String>,
    /// Extra headers (`Retry-After`).
    pub headers: Vec<(&'static str, String)>,
}

/// Bytes of the unknown field of [`Presentation::HugeBody`].
pub const HUGE: usize = 1 << 20;

impl AnswerPlan {
    /// Whether the answer carries a request id.
    pub fn sends_request_id(&self) -> bool {
        self.error.is_some() && self.presentation != Presentation::NoRequestId
    }

    /// A plan for `error` (`None`: an HTML page or empty body) presented
    /// so, for `provider`.
    pub fn new(
        name: String,
        provider: ProviderId,
        error: Option<&ErrorSpec>,
        presentation: Presentation,
    ) -> AnswerPlan {
        let documented = error.and_then(|e| e.http_status).unwrap_or(
            crate::protocol::provider_for(provider)
                .error_signal()
                .undocumented_status(),
        );
        let http_status = match presentation {
            Presentation::Status(s) | Presentation::EmptyBody(s) | Presentation::Html(s) => s,
            _ => documented,
        };
        AnswerPlan {
            name,
            error: error.cloned(),
            presentation,
            http_status,
            retry_after: None,
        }
    }

    /// Builds the answer to one request of the call. `server_string_to_sign`
    /// is what the mock signed (Alibaba's v1 suffix), if known.
    pub fn answer(
        &self,
        provider: ProviderId,
        wire: &dyn Wire,
        request_id: &str,
        server_string_to_sign: Option<&str>,
    ) -> Planned {
        let echo = crate::protocol::provider_for(provider).string_to_sign_echo();
        let headers = self
            .retry_after
            .map(|s| vec![("Retry-After", s.to_string())])
            .unwrap_or_default();
        let Some(error) = &self.error else {
            return Planned {
                answer: self.gateway_answer(),
                code: None,
                headers,
            };
        };
        let message = match &self.presentation {
            Presentation::MessageColon(true) => format!("{}: imgconform detail", error.message),
            Presentation::MessageColon(false) => error.message.replace([':', '：'], " -"),
            Presentation::SignatureSuffix(true) => echo.map_or_else(
                || error.message.clone(),
                |echo| echo.with_string(server_string_to_sign.unwrap_or_default()),
            ),
            Presentation::SignatureSuffix(false) => {
                echo.map_or_else(|| error.message.clone(), |echo| echo.message.to_string())
            }
            _ => error.message.clone(),
        };
        let mut answer = wire.error(Some(self.http_status), &error.code, &message, request_id);
        // Tencent's envelope goes with HTTP 200 whatever is asked.
        answer.http_status = self.http_status;
        self.present(&mut answer);
        Planned {
            answer,
            code: Some(error.code.clone()),
            headers,
        }
    }

    /// A gateway's answer, where the call fails before the service (no error of its own).
    fn gateway_answer(&self) -> Answer {
        let status = self.http_status;
        let (content_type, body) = match self.presentation {
            Presentation::Html(_) => (
                "text/html",
                format!(
                    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                    reason = if status == 504 { "Gateway Time-out" } else { "Bad Gateway" }
                )
                .into_bytes(),
            ),
            _ => ("application/json", Vec::new()),
        };
        Answer {
            http_status: status,
            content_type,
            body,
        }
    }

    /// The error answer as the plan presents it: without its request id, under another
    /// content type, reordered, or huge.
    fn present(&self, answer: &mut Answer) {
        match self.presentation {
            Presentation::NoRequestId => edit_body(answer, &|body| {
                body.remove("RequestId");
                body.remove("requestId");
                if let Some(Value::Object(inner)) = body.get_mut("Response") {
                    inner.remove("RequestId");
                }
            }),
            Presentation::ContentType(ct) => answer.content_type = ct,
            Presentation::Reordered => {
                edit_body(answer, &|body| {
                    if let Some(inner) = super::variation::innermost(body) {
                        inner.insert(
                            super::variation::UNKNOWN_FIELD.into(),
                            Value::String("a field added later".into()),
                        );
                    }
                });
                if let Ok(mut body) = serde_json::from_slice::<Value>(&answer.body) {
                    super::variation::reverse(&mut body);
                    answer.body = serde_json::to_vec(&body).unwrap_or_default();
                }
            }
            Presentation::HugeBody => edit_body(answer, &|body| {
                if let Some(inner) = super::variation::innermost(body) {
                    inner.insert(
                        super::variation::UNKNOWN_FIELD.into(),
                        Value::String("x".repeat(HUGE)),
                    );
                }
            }),
            _ => {}
        }
    }
}

/// Applies `f` to the answer's body, where it is a JSON object.
fn edit_body(answer: &mut Answer, f: &dyn Fn(&mut Map<String, Value>)) {
    if let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&answer.body) {
        f(&mut body);
        answer.body = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wire_for;
    use crate::spec::Specs;

    fn plan(specs: &Specs, api: &str, presentation: Presentation) -> (AnswerPlan, ProviderId) {
        let api = specs.api(api).unwrap();
        let mut plan = AnswerPlan::new(
            "test".into(),
            api.provider(),
            Some(&api.errors[0]),
            presentation,
        );
        plan.retry_after = Some(1);
        (plan, api.provider())
    }

    #[test]
    fn each_presentation_changes_only_what_it_says() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let wire = wire_for(api.raw.protocol);
        let body = |p: &Planned| serde_json::from_slice::<Value>(&p.answer.body).unwrap();
        let (documented, provider) = plan(&specs, "tencent/ExportImages", Presentation::Documented);
        let d = documented.answer(provider, wire, "rid", None);
        assert_eq!(d.answer.http_status, 200);
        assert_eq!(body(&d)["Response"]["RequestId"], "rid");
        assert_eq!(d.headers, [("Retry-After", "1".to_string())]);
        let (p, _) = plan(&specs, "tencent/ExportImages", Presentation::Status(500));
        let s = p.answer(provider, wire, "rid", None);
        assert_eq!(s.answer.http_status, 500);
        assert_eq!(body(&s)["Response"]["Error"], body(&d)["Response"]["Error"]);
        let (p, _) = plan(&specs, "tencent/ExportImages", Presentation::NoRequestId);
        assert!(!p.sends_request_id());
        let n = p.answer(provider, wire, "rid", None);
        assert!(body(&n)["Response"].get("RequestId").is_none());
        assert_eq!(n.code, d.code);
        let (p, _) = plan(&specs, "tencent/ExportImages", Presentation::HugeBody);
        assert!(p.answer(provider, wire, "rid", None).answer.body.len() > HUGE);
        let (p, _) = plan(
            &specs,
            "tencent/ExportImages",
            Presentation::MessageColon(true),
        );
        let m = body(&p.answer(provider, wire, "rid", None))["Response"]["Error"]["Message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(m.ends_with(": imgconform detail"), "{m}");
        let html = AnswerPlan::new("html-502".into(), provider, None, Presentation::Html(502));
        let h = html.answer(provider, wire, "rid", None);
        assert_eq!(
            (h.answer.http_status, h.answer.content_type),
            (502, "text/html")
        );
        assert!(h.code.is_none() && !html.sends_request_id());
        // Alibaba's suffix carries the string the mock signed.
        let (p, provider) = plan(
            &specs,
            "aliyun/ExportImage",
            Presentation::SignatureSuffix(true),
        );
        let aliyun = wire_for(specs.api("aliyun/ExportImage").unwrap().raw.protocol);
        let a = p.answer(provider, aliyun, "rid", Some("GET&%2F&x"));
        assert!(body(&a)["Message"]
            .as_str()
            .unwrap()
            .ends_with("server string to sign is:GET&%2F&x"));
    }

    #[test]
    fn the_mock_sends_the_plan_to_every_request_until_told_otherwise() {
        use std::io::{Read, Write};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mock = runtime.block_on(crate::mock::MockProvider::start());
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let throttled = specs
            .provider_of(api)
            .errors
            .iter()
            .find(|e| e.code == "RequestLimitExceeded")
            .unwrap();
        let mut plan = AnswerPlan::new(
            "RequestLimitExceeded throttled retry-after=1".into(),
            ProviderId::Tencent,
            Some(throttled),
            Presentation::Documented,
        );
        plan.retry_after = Some(1);
        let send = || {
            let mut stream = std::net::TcpStream::connect(mock.address()).unwrap();
            write!(
                stream,
                "POST / HTTP/1.1\r\nHost: x\r\nX-TC-Action: ExportImages\r\nX-TC-Version: 2017-03-12\r\n\
                 Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            )
            .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer.to_lowercase()
        };
        mock.service().answer_with(Some(plan));
        for _ in 0..2 {
            let answer = send();
            assert!(answer.contains("retry-after: 1"), "{answer}");
            assert!(answer.contains("requestlimitexceeded"), "{answer}");
        }
        mock.service().answer_with(None);
        let usual = send();
        assert!(
            !usual.contains("retry-after") && !usual.contains("requestlimitexceeded"),
            "{usual}"
        );
        let journal = mock.journal();
        let named: Vec<Option<&str>> = journal
            .entries
            .iter()
            .map(|e| e.answer_plan.as_deref())
            .collect();
        assert_eq!(
            named,
            [
                Some("RequestLimitExceeded throttled retry-after=1"),
                Some("RequestLimitExceeded throttled retry-after=1"),
                None
            ]
        );
    }
}
