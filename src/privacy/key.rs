//! The pseudonym key and the tokens it makes.
//!
//! A pseudonym is `hmac:KEY_ID:HEX`: the first 16 hex digits (64 bits) of HMAC-SHA256 over the
//! value's UTF-8 bytes, keyed with the secret of `[privacy] key_env` or `key_file`. The same value
//! gives the same token under the same key, in every build and every field (so a pseudonymised
//! actor can still be followed across pages), and an unrelated token under another key. The form
//! is the one `RULES.md` PRV-02 expects of pseudonymous references, so PRV-05 recognises it.
//!
//! The secret is read once, kept in memory only, and never written or printed: [`Key`]'s `Debug`
//! shows the id alone, and errors name the variable or file, never its content.

use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::privacy::Privacy;

/// The shortest secret accepted: a short key can be found by trying every key, which undoes the
/// pseudonyms.
pub const MIN_KEY_BYTES: usize = 16;

/// Hex digits of a token.
const TOKEN_HEX: usize = 16;

/// A loaded pseudonym key.
#[derive(Clone)]
pub struct Key {
    id: String,
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    /// A key from its secret bytes (any length; [`load`] enforces [`MIN_KEY_BYTES`]).
    pub fn new(id: &str, secret: &[u8]) -> Key {
        Key {
            id: id.to_string(),
            mac: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The full HMAC-SHA256 of `value`, as lowercase hex.
    pub fn hmac_hex(&self, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The pseudonym of `value`: `hmac:KEY_ID:` and 16 hex digits.
    pub fn token(&self, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("hmac:{}:{}", self.id, hex::encode(&digest[..TOKEN_HEX / 2]))
    }
}

/// Loads the key `[privacy]` names, if it names one. A missing variable or file, or a secret
/// shorter than [`MIN_KEY_BYTES`], is an error: there is no fallback to an unkeyed hash.
/// Trailing line breaks of a key file are not part of the secret.
pub fn load(privacy: &Privacy, config_dir: &Path) -> anyhow::Result<Option<Key>> {
    let Some(id) = privacy.key_id.as_deref() else {
        return Ok(None);
    };
    let (secret, from) = if let Some(name) = &privacy.key_env {
        let value = std::env::var_os(name).with_context(|| {
            format!(
                "the pseudonym key is read from the environment variable `{name}` (`[privacy] key_env`), which is not set; set it to a secret of at least {MIN_KEY_BYTES} bytes"
            )
        })?;
        (
            value.into_encoded_bytes(),
            format!("environment variable `{name}`"),
        )
    } else if let Some(file) = &privacy.key_file {
        let path = config_dir.join(file);
        let mut bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read the pseudonym key file `{}` (`[privacy] key_file`)",
                path.display()
            )
        })?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        (bytes, format!("key file `{}`", path.display()))
    } else {
        return Ok(None);
    };
    if secret.len() < MIN_KEY_BYTES {
        bail!(
            "the pseudonym key in the {from} is {} bytes long; at least {MIN_KEY_BYTES} are needed (a short key can be guessed, which undoes the pseudonyms)",
            secret.len()
        );
    }
    Ok(Some(Key::new(id, &secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        let key = Key::new("k1", b"Jefe");
        assert_eq!(
            key.hmac_hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            key.token("what do ya want for nothing?"),
            "hmac:k1:5bdcc146bf60754e"
        );
    }

    #[test]
    fn tokens_are_stable_per_key_and_differ_across_keys_and_values() {
        let a = Key::new("k1", b"0123456789abcdef-one");
        let again = Key::new("k1", b"0123456789abcdef-one");
        let b = Key::new("k1", b"0123456789abcdef-two");
        assert_eq!(a.token("dana@example.com"), again.token("dana@example.com"));
        assert_ne!(a.token("dana@example.com"), b.token("dana@example.com"));
        assert_ne!(a.token("dana@example.com"), a.token("dana@example.org"));
        let t = a.token("x");
        let re = regex::Regex::new(r"^hmac:[A-Za-z0-9._-]+:[0-9a-f]{16,}$").unwrap();
        assert!(re.is_match(&t), "PRV-02's pattern: {t}");
        assert_eq!(format!("{a:?}"), "Key(k1)", "Debug never shows the secret");
    }

    #[test]
    fn a_missing_or_short_secret_is_an_error_naming_its_source_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = |env: Option<&str>, file: Option<&str>| Privacy {
            key_env: env.map(str::to_string),
            key_file: file.map(str::to_string),
            key_id: Some("k1".into()),
            ..Privacy::default()
        };
        let err = load(
            &privacy(Some("TRAILBOOK_TEST_KEY_THAT_IS_NEVER_SET"), None),
            dir.path(),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("`TRAILBOOK_TEST_KEY_THAT_IS_NEVER_SET`"),
            "{err:#}"
        );
        let err = load(&privacy(None, Some("missing.key")), dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("missing.key"), "{err:#}");
        std::fs::write(dir.path().join("short.key"), "tiny-secret\n").unwrap();
        let err = load(&privacy(None, Some("short.key")), dir.path()).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("11 bytes") && !text.contains("tiny"),
            "{text}"
        );
        std::fs::write(dir.path().join("good.key"), "0123456789abcdef-one\n").unwrap();
        let key = load(&privacy(None, Some("good.key")), dir.path())
            .unwrap()
            .unwrap();
        assert_eq!(
            key.token("v"),
            Key::new("k1", b"0123456789abcdef-one").token("v"),
            "the trailing line break is not part of the secret"
        );
        assert!(load(&Privacy::default(), dir.path()).unwrap().is_none());
    }
}
