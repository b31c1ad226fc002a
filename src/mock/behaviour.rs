//! The mock's choices on the points the documents leave open, as named
//! behaviours a user picks (`imgconform serve --behaviour unknown=ignored`).
//! The documents are the oracle and the mock one reading of them: where
//! they are silent, each reading below is as conforming as the other, and
//! `imgconform run` passes the mock under every combination.
//!
//! | behaviour | values | what it decides |
//! |---|---|---|
//! | `unknown` | `refused`, `ignored` | a parameter the API does not have |
//! | `keys` | `case-sensitive`, `case-insensitive` | `OssPrefix` for `ossPrefix` |
//! | `null` | `absent`, `value` | a `null` sent for a parameter |
//! | `empty` | `missing`, `value` | `""` sent for a required string |
//! | `order` | `document-order`, `reverse` | which of several violations the answer names |
//!
//! Unset, each takes the provider's default, today's reading
//! ([`ValidationOptions::of`]): `unknown=refused`, `null=absent`,
//! `order=document-order` everywhere; `keys=case-insensitive` for JD Cloud
//! and `case-sensitive` for the others; `empty=missing` for Alibaba Cloud
//! and `value` for the others.
//!
//! ```
//! use imgconform::mock::Behaviours;
//! use imgconform::ProviderId;
//!
//! let mut b = Behaviours::default();
//! b.set("unknown=ignored").unwrap();
//! b.set("keys=case-sensitive").unwrap();
//! assert_eq!(
//!     b.describe(ProviderId::Jdcloud),
//!     "unknown=ignored keys=case-sensitive null=absent empty=value order=document-order"
//! );
//! let err = b.set("keys=upper").unwrap_err();
//! assert_eq!(err.to_string(), "keys is case-sensitive or case-insensitive, not \"upper\"");
//! ```

use crate::spec::raw::Protocol;
use crate::spec::ProviderId;
use crate::validate::{EmptyString, KeyCase, NullValue, UnknownParams, ValidationOptions};

/// Which violation the mock's answer names when a request breaks several
/// rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckOrder {
    /// The first in the spec's order (parameters as the document lists
    /// them, then its cross-field rules).
    DocumentOrder,
    /// The last in that order.
    Reverse,
}

impl CheckOrder {
    /// Both orders, document order first.
    pub const ALL: [CheckOrder; 2] = [CheckOrder::DocumentOrder, CheckOrder::Reverse];

    /// The order in the user's words.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckOrder::DocumentOrder => "document-order",
            CheckOrder::Reverse => "reverse",
        }
    }
}

/// One open point: its name on the command line, its two values in the
/// user's words, and what it decides.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// The behaviour's name, as `--behaviour NAME=VALUE` takes it.
    pub name: &'static str,
    /// The two values it can take, the default first.
    pub values: [&'static str; 2],
    /// What it changes, in a sentence.
    pub about: &'static str,
}

/// Every behaviour, in the order `--behaviour` lists them.
pub const BEHAVIOURS: [Behaviour; 5] = [
    Behaviour {
        name: "unknown",
        values: [
            UnknownParams::ALL[0].as_str(),
            UnknownParams::ALL[1].as_str(),
        ],
        about: "a parameter the API does not have: refused with the provider's error, or ignored",
    },
    Behaviour {
        name: "keys",
        values: [KeyCase::ALL[0].as_str(), KeyCase::ALL[1].as_str()],
        about: "whether a key that differs only in case (OssPrefix) is the parameter (ossPrefix)",
    },
    Behaviour {
        name: "null",
        values: [NullValue::ALL[0].as_str(), NullValue::ALL[1].as_str()],
        about: "a null: not sent, or a value (of the wrong type)",
    },
    Behaviour {
        name: "empty",
        values: [EmptyString::ALL[0].as_str(), EmptyString::ALL[1].as_str()],
        about: "\"\" for a required string: missing, or a value checked like any other",
    },
    Behaviour {
        name: "order",
        values: [CheckOrder::ALL[0].as_str(), CheckOrder::ALL[1].as_str()],
        about: "which of several violations the answer names: the first in the document's order, or the last",
    },
];

/// The mock's behaviours on the documents' open points; `None` is the
/// provider's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Behaviours {
    /// How unknown parameters are met (`unknown=`); `None`: the mock's default.
    pub unknown: Option<UnknownParams>,
    /// How parameter-name case is read (`keys=`).
    pub keys: Option<KeyCase>,
    /// How a `null` value is read (`null=`).
    pub null: Option<NullValue>,
    /// How an empty string is read (`empty=`).
    pub empty: Option<EmptyString>,
    /// In what order the checks run (`order=`).
    pub order: Option<CheckOrder>,
}

/// A `--behaviour` value that sets no behaviour, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BehaviourError {
    /// The value has no `=`.
    #[error("\"{assignment}\" is not NAME=VALUE (names: {names})")]
    NotAnAssignment {
        /// The value as given.
        assignment: String,
        /// Every behaviour's name, comma-separated.
        names: String,
    },
    /// The name before `=` names no behaviour.
    #[error("no behaviour \"{name}\"; the behaviours are {names}")]
    UnknownName {
        /// The name as given.
        name: String,
        /// Every behaviour's name, comma-separated.
        names: String,
    },
    /// The value after `=` is not one of the behaviour's values.
    #[error("{name} is {accepted}, not \"{value}\"")]
    UnknownValue {
        /// The behaviour's name.
        name: String,
        /// The value as given.
        value: String,
        /// The behaviour's values, joined with "or".
        accepted: String,
    },
}

impl Behaviours {
    /// Sets one behaviour from `NAME=VALUE` in the user's words
    /// (`unknown=ignored`); the error names the accepted names or values.
    pub fn set(&mut self, assignment: &str) -> Result<(), BehaviourError> {
        let names = || {
            BEHAVIOURS
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((name, value)) = assignment.split_once('=') else {
            return Err(BehaviourError::NotAnAssignment {
                assignment: assignment.to_string(),
                names: names(),
            });
        };
        let (name, value) = (name.trim(), value.trim());
        let Some(behaviour) = BEHAVIOURS.iter().find(|b| b.name == name) else {
            return Err(BehaviourError::UnknownName {
                name: name.to_string(),
                names: names(),
            });
        };
        let Some(index) = behaviour.values.iter().position(|v| *v == value) else {
            return Err(BehaviourError::UnknownValue {
                name: name.to_string(),
                value: value.to_string(),
                accepted: behaviour.values.join(" or "),
            });
        };
        match name {
            "unknown" => self.unknown = Some(UnknownParams::ALL[index]),
            "keys" => self.keys = Some(KeyCase::ALL[index]),
            "null" => self.null = Some(NullValue::ALL[index]),
            "empty" => self.empty = Some(EmptyString::ALL[index]),
            _ => self.order = Some(CheckOrder::ALL[index]),
        }
        Ok(())
    }

    /// The behaviours `assignments` set (`["unknown=ignored", …]`), the
    /// rest left to the providers' defaults.
    pub fn parse<S: AsRef<str>>(assignments: &[S]) -> Result<Behaviours, BehaviourError> {
        let mut out = Behaviours::default();
        for a in assignments {
            out.set(a.as_ref())?;
        }
        Ok(out)
    }

    /// How the mock validates `provider`'s requests.
    pub fn validation(&self, provider: ProviderId) -> ValidationOptions {
        let default = ValidationOptions::of(protocol_of(provider));
        ValidationOptions {
            unknown: self.unknown.unwrap_or(default.unknown),
            keys: self.keys.unwrap_or(default.keys),
            null: self.null.unwrap_or(default.null),
            empty: self.empty.unwrap_or(default.empty),
        }
    }

    /// Which violation the mock's answer names.
    pub fn order(&self) -> CheckOrder {
        self.order.unwrap_or(CheckOrder::DocumentOrder)
    }

    /// The values in effect for `provider`, as `--behaviour` takes them:
    /// `unknown=refused keys=case-insensitive …`.
    pub fn describe(&self, provider: ProviderId) -> String {
        let v = self.validation(provider);
        let chosen = [
            v.unknown.as_str(),
            v.keys.as_str(),
            v.null.as_str(),
            v.empty.as_str(),
            self.order().as_str(),
        ];
        BEHAVIOURS
            .iter()
            .zip(chosen)
            .map(|(b, value)| format!("{}={value}", b.name))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Every combination of every behaviour's values, each set for every
    /// provider (2⁵ = 32).
    pub fn every_combination() -> Vec<Behaviours> {
        (0..1u32 << BEHAVIOURS.len())
            .map(|bits| {
                let mut b = Behaviours::default();
                for (i, behaviour) in BEHAVIOURS.iter().enumerate() {
                    let value = behaviour.values[usize::from(bits & (1 << i) != 0)];
                    // Names and values come from the table itself.
                    let _ = b.set(&format!("{}={value}", behaviour.name));
                }
                b
            })
            .collect()
    }
}

/// The wire protocol a provider's APIs speak.
fn protocol_of(provider: ProviderId) -> Protocol {
    crate::protocol::provider_for(provider).protocol()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_validators_readings_per_provider() {
        let b = Behaviours::default();
        assert_eq!(
            b.describe(ProviderId::Jdcloud),
            "unknown=refused keys=case-insensitive null=absent empty=value order=document-order"
        );
        assert_eq!(
            b.describe(ProviderId::Aliyun),
            "unknown=refused keys=case-sensitive null=absent empty=missing order=document-order"
        );
        assert_eq!(
            b.describe(ProviderId::Tencent),
            "unknown=refused keys=case-sensitive null=absent empty=value order=document-order"
        );
    }

    #[test]
    fn every_value_is_accepted_and_a_bad_one_names_the_accepted_ones() {
        for behaviour in BEHAVIOURS {
            for value in behaviour.values {
                let b = Behaviours::parse(&[format!("{}={value}", behaviour.name)]).unwrap();
                let described = b.describe(ProviderId::Tencent);
                assert!(
                    described.contains(&format!("{}={value}", behaviour.name)),
                    "{described}"
                );
            }
            let err = Behaviours::parse(&[format!("{}=maybe", behaviour.name)])
                .unwrap_err()
                .to_string();
            assert!(err.contains(&behaviour.values.join(" or ")), "{err}");
            assert!(err.contains("\"maybe\""), "{err}");
        }
        let err = Behaviours::parse(&["colour=red"]).unwrap_err().to_string();
        assert!(
            err.contains("unknown, keys, null, empty, order") && err.contains("\"colour\""),
            "{err}"
        );
        let err = Behaviours::parse(&["unknown"]).unwrap_err().to_string();
        assert!(err.contains("NAME=VALUE"), "{err}");
        // Nothing a user types is a Rust name.
        assert!(
            !err.contains("Behaviour") && !err.contains("Option"),
            "{err}"
        );
    }

    #[test]
    fn every_combination_is_there_once() {
        let all = Behaviours::every_combination();
        assert_eq!(all.len(), 32);
        let described: std::collections::BTreeSet<String> = all
            .iter()
            .map(|b| b.describe(ProviderId::Tencent))
            .collect();
        assert_eq!(described.len(), 32);
        for b in &all {
            assert!(b.unknown.is_some() && b.keys.is_some() && b.null.is_some());
            assert!(b.empty.is_some() && b.order.is_some());
        }
    }
}
