//! Finding a secret in text that should never hold it — logs, reports,
//! answers — in every form that would betray it: as is, in hex (either
//! case), in base64 (standard and url-safe), or any eight of its characters
//! in a row (a secret cut short still shows too much). And masking it, so
//! that the report of a leak never repeats the secret.
//!
//! Used by the SDK target (an adapter's stdout, stderr and log files) and
//! by `tests/secrets.rs` (imgconform's own outputs).

use base64::Engine as _;

/// The shortest run of a secret's characters that counts as a leak.
pub const WINDOW: usize = 8;

/// One place a secret shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// How it shows: `as is`, `in hex`, `in HEX`, `in base64`, `in
    /// url-safe base64`, or `8 characters of it`.
    pub how: &'static str,
    /// The byte offset in the text.
    pub at: usize,
}

/// The whole of `secret` in each encoding, with how it is written.
fn encodings(secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("as is", secret.to_string()),
        ("in hex", hex::encode(secret)),
        ("in HEX", hex::encode_upper(secret)),
        (
            "in base64",
            base64::engine::general_purpose::STANDARD.encode(secret),
        ),
        (
            "in url-safe base64",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        ),
    ]
}

/// The forms of `secret` searched for, each with how it is written.
fn needles(secret: &str) -> Vec<(&'static str, String)> {
    let mut out = encodings(secret);
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(WINDOW) {
        out.push(("8 characters of it", window.iter().collect()));
    }
    out
}

/// The first form of `secret` found in `text`, if any. An empty secret
/// is found nowhere.
pub fn find(text: &str, secret: &str) -> Option<Leak> {
    if secret.is_empty() {
        return None;
    }
    needles(secret)
        .into_iter()
        .filter_map(|(how, needle)| text.find(&needle).map(|at| Leak { how, at }))
        .min_by_key(|l| l.at)
}

/// The first encoding of the whole of `secret` found in `text`, if any:
/// [`find`] without the windows, for a secret whose parts are ordinary
/// words.
pub fn find_whole(text: &str, secret: &str) -> Option<Leak> {
    if secret.is_empty() {
        return None;
    }
    encodings(secret)
        .into_iter()
        .filter_map(|(how, needle)| text.find(&needle).map(|at| Leak { how, at }))
        .min_by_key(|l| l.at)
}

/// `text` with every form of `secret` in it replaced by `****`; if
/// anything of it still shows after that (overlapping forms), the whole
/// text is withheld.
pub fn mask(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    let mut out = text.to_string();
    // Longest first, so that a window never leaves the rest of a whole
    // secret behind.
    let mut needles = needles(secret);
    needles.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
    for (_, needle) in needles {
        out = out.replace(&needle, "****");
    }
    if find(&out, secret).is_some() {
        "(line withheld: it holds the secret in a form that cannot be masked)".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Zq8Rt2LmXw9Pk4Hs7Vb3";

    #[test]
    fn every_form_of_the_secret_is_found_and_masked() {
        let forms = [
            SECRET.to_string(),
            hex::encode(SECRET),
            hex::encode_upper(SECRET),
            base64::engine::general_purpose::STANDARD.encode(SECRET),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET),
            SECRET[5..13].to_string(),
        ];
        for form in forms {
            let line = format!("DEBUG signing key={form} done");
            let leak = find(&line, SECRET).unwrap_or_else(|| panic!("not found in {line}"));
            assert_eq!(leak.at, 18, "{line}");
            let masked = mask(&line, SECRET);
            assert!(find(&masked, SECRET).is_none(), "{masked}");
            assert!(masked.starts_with("DEBUG signing key=****"), "{masked}");
        }
        // Seven characters in a row are not a leak; nothing, nothing.
        assert!(find(&format!("x{}y", &SECRET[..7]), SECRET).is_none());
        assert!(find("Authorization: TC3-HMAC-SHA256 Signature=ab12", SECRET).is_none());
        assert!(find("anything", "").is_none());
    }
}
