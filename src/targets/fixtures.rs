//! Fixtures: the real resources a live account supplies for the world-state
//! cases (`cases/mock/*.json`).
//!
//! Those cases name resources of a world in `cases/worlds/` —
//! `img-windows01` is a Windows image, `m-encrypt001` an encrypted one,
//! `export-1250000000` a writable bucket. Against the mock the world makes
//! them so; against a live account the user says which of their resources
//! plays each part:
//!
//! ```json
//! {
//!   "description": "test account 1, ap-guangzhou",
//!   "worlds": ["preconditions"],
//!   "ids": {
//!     "tencent": { "img-centos01": "img-8toqc6s3", "export-1250000000": "my-export-1250000000" }
//!   }
//! }
//! ```
//!
//! `worlds` lists the account-wide states the account is in (a world also
//! says things like "no export role", "quota used up"); a case in a world
//! not listed is skipped. A case that names a resource with no fixture is
//! skipped too, naming the fixture that would run it — never failed, since
//! nothing about the provider was learnt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::mock::World;
use crate::spec::ProviderId;

/// The fixtures file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    /// What the fixture is for, in a sentence.
    pub description: String,
    /// Worlds (account states) the live account is in.
    #[serde(default)]
    pub worlds: BTreeSet<String>,
    /// Per provider: world resource name → the real id or name.
    #[serde(default)]
    pub ids: BTreeMap<ProviderId, BTreeMap<String, String>>,
}

/// A fixtures file that cannot be read, or a case it cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixturesError {
    /// The file could not be read.
    #[error("cannot read fixtures {path}: {cause}")]
    Unreadable {
        /// The file, as given.
        path: String,
        /// The system's reason.
        cause: String,
    },
    /// The file is not a fixtures file: where, and what.
    #[error("{path}:{line}:{column}: {what}")]
    Malformed {
        /// The file, as given.
        path: String,
        /// The line of the problem.
        line: usize,
        /// Its column.
        column: usize,
        /// The problem, in the file's terms.
        what: String,
    },
    /// The case needs a world the account was not said to be in.
    #[error(
        "needs the account state of world \"{world}\" (cases/worlds/{world}.json); \
         list it under \"worlds\" in the fixtures file if the account is in it"
    )]
    WorldNotListed {
        /// The world's name.
        world: String,
    },
    /// A resource of the world has no fixture in the account.
    #[error(
        "no fixture for {provider} resource \"{name}\" (add it under \"ids\".\"{provider}\" in the fixtures file)"
    )]
    NoFixture {
        /// Whose resource.
        provider: ProviderId,
        /// The resource's name in the world.
        name: String,
    },
}

impl Fixtures {
    /// Reads a fixtures file; the error names the file and the place.
    pub fn load(path: &Path) -> Result<Fixtures, FixturesError> {
        let text = std::fs::read_to_string(path).map_err(|e| FixturesError::Unreadable {
            path: path.display().to_string(),
            cause: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| FixturesError::Malformed {
            path: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            what: e
                .to_string()
                .rsplit_once(" at line ")
                .map_or(e.to_string(), |(m, _)| m.to_string()),
        })
    }

    /// `request` with every resource of `world` replaced by its fixture,
    /// for a case of `provider` in the world named `world_name`; `Err`
    /// says why the case cannot run (and so is skipped).
    pub fn apply(
        &self,
        provider: ProviderId,
        world_name: &str,
        world: &World,
        request: &Value,
    ) -> Result<Value, FixturesError> {
        if !self.worlds.contains(world_name) {
            return Err(FixturesError::WorldNotListed {
                world: world_name.to_string(),
            });
        }
        let mut names: Vec<String> = world.resource_names(provider).into_iter().collect();
        // Longest first, so that a name inside another is not replaced first.
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let given = self.ids.get(&provider);
        let mut missing = BTreeSet::new();
        let replaced = substitute(request, &names, given, &mut missing);
        match missing.into_iter().next() {
            None => Ok(replaced),
            Some(name) => Err(FixturesError::NoFixture { provider, name }),
        }
    }
}

fn substitute(
    value: &Value,
    names: &[String],
    given: Option<&BTreeMap<String, String>>,
    missing: &mut BTreeSet<String>,
) -> Value {
    match value {
        Value::String(s) => {
            let mut out = s.clone();
            for name in names {
                // Whole values (ids), and names inside URLs (JD's ossUrl
                // carries the bucket).
                let inside = out == *name
                    || (name.len() >= 6 && out.contains(name.as_str()) && out.contains('/'));
                if !inside {
                    continue;
                }
                match given.and_then(|g| g.get(name)) {
                    Some(real) => out = out.replace(name.as_str(), real),
                    None => {
                        missing.insert(name.clone());
                    }
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, names, given, missing))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, names, given, missing)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn world() -> World {
        World::from_json(
            "w.json",
            r#"{"description": "d",
                "images": [{"provider": "tencent", "id": "img-win00001", "region": "ap-guangzhou", "name": "w"}],
                "buckets": [{"provider": "jdcloud", "name": "jd-export", "region": "cn-north-1"}]}"#,
        )
        .unwrap()
    }

    fn fixtures(json: Value) -> Fixtures {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn resources_are_replaced_by_their_fixtures() {
        let f =
            fixtures(json!({"worlds": ["w"], "ids": {"tencent": {"img-win00001": "img-real1"}}}));
        let out = f
            .apply(
                ProviderId::Tencent,
                "w",
                &world(),
                &json!({"ImageIds": ["img-win00001", "img-none"]}),
            )
            .unwrap();
        assert_eq!(out, json!({"ImageIds": ["img-real1", "img-none"]}));
    }

    #[test]
    fn a_bucket_inside_a_url_is_replaced() {
        let f =
            fixtures(json!({"worlds": ["w"], "ids": {"jdcloud": {"jd-export": "real-bucket"}}}));
        let out = f
            .apply(
                ProviderId::Jdcloud,
                "w",
                &world(),
                &json!({"ossUrl": "https://jd-export.s3.cn-north-1.jdcloud-oss.com/x"}),
            )
            .unwrap();
        assert_eq!(
            out,
            json!({"ossUrl": "https://real-bucket.s3.cn-north-1.jdcloud-oss.com/x"})
        );
    }

    #[test]
    fn a_missing_fixture_or_world_says_what_to_add() {
        let f = fixtures(json!({"worlds": ["w"]}));
        let e = f
            .apply(
                ProviderId::Tencent,
                "w",
                &world(),
                &json!({"ImageIds": ["img-win00001"]}),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"img-win00001\"") && e.contains("\"ids\".\"tencent\""),
            "{e}"
        );
        let e = f
            .apply(ProviderId::Tencent, "other", &world(), &json!({}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("world \"other\""), "{e}");
    }

    #[test]
    fn a_bad_file_names_its_line() {
        let dir = std::env::temp_dir().join(format!("imgconform-fixtures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.json");
        std::fs::write(&path, "{\n  \"idz\": {}\n}").unwrap();
        let e = Fixtures::load(&path).unwrap_err().to_string();
        assert!(e.contains("f.json:2:") && e.contains("idz"), "{e}");
    }
}
