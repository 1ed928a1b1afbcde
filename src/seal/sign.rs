//! OpenSSH signatures (SSHSIG, Ed25519) over `SHA256SUMS` and the log checkpoint, with the
//! `ssh-key` crate, checkable with `ssh-keygen -Y verify` (`INTEGRITY.md` §3).
//!
//! Only Ed25519: its signatures are deterministic, so a rebuild of the same version is
//! byte-identical, signature included. The hash inside SSHSIG is SHA-512, as `ssh-keygen` uses.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::config::Config;

/// The suffix of the checkpoint's namespace: a manifest signature cannot be replayed as a
/// checkpoint signature, nor the reverse.
pub const CHECKPOINT_SUFFIX: &str = "-checkpoint";

/// A loaded signing key with what the site says about it.
pub struct Signer {
    key: PrivateKey,
    pub identity: String,
    pub namespace: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// `ssh-ed25519 AAAA…` (no comment).
    pub public: String,
}

impl Signer {
    /// The signer of `[signing]`, or `None` when the config has none.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Signer>> {
        let Some(s) = &config.signing else {
            return Ok(None);
        };
        let path = config.dir.join(&s.key);
        let passphrase = match &s.passphrase_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "`[signing] passphrase_env = \"{var}\"` in `{}`, but the environment variable `{var}` is not set: set it to the key's passphrase",
                    config.path.display()
                )
            })?),
            None => None,
        };
        Signer::load(&path, passphrase.as_deref(), &s.identity, &s.namespace).map(Some)
    }

    pub fn load(
        path: &Path,
        passphrase: Option<&str>,
        identity: &str,
        namespace: &str,
    ) -> anyhow::Result<Signer> {
        let shown = path.display();
        let text = std::fs::read(path).with_context(|| {
            format!(
                "cannot read the signing key `{shown}` (`[signing] key`); create one with `ssh-keygen -t ed25519 -f {shown}`"
            )
        })?;
        let mut key = match PrivateKey::from_openssh(&text) {
            Ok(k) => k,
            Err(e) if text.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----") => bail!(
                "cannot use the signing key `{shown}` ({e}): trailbook signs with Ed25519 only (deterministic signatures keep rebuilds byte-identical): `ssh-keygen -t ed25519 -f {shown}`"
            ),
            Err(_) => bail!(
                "`{shown}` is not an OpenSSH private key (`ssh-keygen -t ed25519 -f {shown}` writes one)"
            ),
        };
        if key.is_encrypted() {
            let Some(pass) = passphrase else {
                bail!(
                    "the signing key `{shown}` is encrypted: name the environment variable holding its passphrase with `[signing] passphrase_env`"
                );
            };
            key = key.decrypt(pass).map_err(|_| {
                anyhow::anyhow!("cannot decrypt the signing key `{shown}`: wrong passphrase")
            })?;
        }
        if key.algorithm() != Algorithm::Ed25519 {
            bail!(
                "the signing key `{shown}` is {}, but trailbook signs with Ed25519 only (deterministic signatures keep rebuilds byte-identical): `ssh-keygen -t ed25519 -f {shown}`",
                key.algorithm()
            );
        }
        let public = PublicKey::from(key.public_key().key_data().clone());
        Ok(Signer {
            fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
            public: public
                .to_openssh()
                .context("cannot encode the public key")?,
            key,
            identity: identity.to_string(),
            namespace: namespace.to_string(),
        })
    }

    /// An SSHSIG armoured signature of `msg` in `namespace`, LF line endings.
    pub fn sign(&self, namespace: &str, msg: &[u8]) -> anyhow::Result<String> {
        let sig = self
            .key
            .sign(namespace, HashAlg::Sha512, msg)
            .context("cannot sign")?;
        let mut pem = sig
            .to_pem(LineEnding::LF)
            .context("cannot encode the signature")?;
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        Ok(pem)
    }

    /// The line of an `allowed_signers` file that accepts this key in its namespaces.
    pub fn allowed_signers_line(&self) -> String {
        format!(
            "{} namespaces=\"{},{}{CHECKPOINT_SUFFIX}\" {}",
            self.identity, self.namespace, self.namespace, self.public
        )
    }
}

/// A signature that verified, and by which key.
#[derive(Clone, Debug)]
pub struct Verified {
    pub fingerprint: String,
    pub public: PublicKey,
}

/// Checks an armoured SSHSIG over `msg` in `namespace`, by the key embedded in it.
pub fn verify(namespace: &str, msg: &[u8], armoured: &str) -> Result<Verified, String> {
    let (ns, verified) = verify_any(armoured, msg)?;
    if ns != namespace {
        return Err(format!(
            "signed in namespace `{ns}`, expected `{namespace}`"
        ));
    }
    Ok(verified)
}

/// Checks an armoured SSHSIG over `msg` in whatever namespace it names; returns that namespace.
pub fn verify_any(armoured: &str, msg: &[u8]) -> Result<(String, Verified), String> {
    let sig = SshSig::from_pem(armoured).map_err(|e| format!("not an SSH signature: {e}"))?;
    let ns = sig.namespace().to_string();
    let public = PublicKey::from(sig.public_key().clone());
    public
        .verify(&ns, msg, &sig)
        .map_err(|_| "the signature does not match the signed file".to_string())?;
    let verified = Verified {
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        public,
    };
    Ok((ns, verified))
}

/// One key of an `allowed_signers` file (`ssh-keygen(1)`, "ALLOWED SIGNERS").
#[derive(Clone, Debug)]
pub struct Allowed {
    pub principals: Vec<String>,
    /// `namespaces="…"`, when restricted.
    pub namespaces: Option<Vec<String>>,
    pub key: PublicKey,
    pub line: usize,
}

/// Reads an `allowed_signers` file. Certificate authorities are not supported (an error).
pub fn read_allowed_signers(path: &PathBuf) -> anyhow::Result<Vec<Allowed>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read allowed signers `{}`", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (principals, rest) = t.split_once(char::is_whitespace).with_context(|| {
            format!(
                "{}:{line_no}: expected `PRINCIPALS [OPTIONS] KEYTYPE KEY`",
                path.display()
            )
        })?;
        let mut rest = rest.trim_start();
        let mut namespaces = None;
        // Options come before the key type, which always starts with `ssh-`, `ecdsa-` or `sk-`.
        while !rest.starts_with("ssh-") && !rest.starts_with("ecdsa-") && !rest.starts_with("sk-") {
            let (opts, after) = split_options(rest).with_context(|| {
                format!("{}:{line_no}: cannot read the options", path.display())
            })?;
            for opt in opts {
                if let Some(v) = opt.strip_prefix("namespaces=") {
                    let v = v.trim_matches('"');
                    namespaces = Some(v.split(',').map(str::to_string).collect());
                } else if opt.eq_ignore_ascii_case("cert-authority") {
                    bail!(
                        "{}:{line_no}: certificate authorities are not supported; list the signing key itself",
                        path.display()
                    );
                }
                // valid-after / valid-before: signatures carry no time, nothing to compare.
            }
            rest = after.trim_start();
            if rest.is_empty() {
                bail!("{}:{line_no}: no key after the options", path.display());
            }
        }
        let key = PublicKey::from_openssh(rest)
            .with_context(|| format!("{}:{line_no}: not a public key", path.display()))?;
        out.push(Allowed {
            principals: principals
                .trim_matches('"')
                .split(',')
                .map(str::to_string)
                .collect(),
            namespaces,
            key,
            line: line_no,
        });
    }
    Ok(out)
}

/// Splits the comma-separated options field (quotes may hold commas and spaces) from the rest.
fn split_options(s: &str) -> Option<(Vec<String>, &str)> {
    let mut opts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => opts.push(std::mem::take(&mut cur)),
            c if c.is_whitespace() && !quoted => {
                opts.push(cur);
                return Some((opts, &s[i..]));
            }
            c => cur.push(c),
        }
    }
    None
}

/// The principals of `allowed` that accept `key` in `namespace`.
pub fn allowed_principals(allowed: &[Allowed], key: &PublicKey, namespace: &str) -> Vec<String> {
    allowed
        .iter()
        .filter(|a| a.key.key_data() == key.key_data())
        .filter(|a| {
            a.namespaces
                .as_ref()
                .is_none_or(|ns| ns.iter().any(|n| glob_match(n, namespace)))
        })
        .flat_map(|a| a.principals.clone())
        .collect()
}

/// `ssh-keygen`'s pattern match: `*` and `?` wildcards.
fn glob_match(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_KEY: &str = include_str!("../../tests/fixtures/keys/test_ed25519");

    #[test]
    fn signatures_are_deterministic_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, TEST_KEY).unwrap();
        let s = Signer::load(&path, None, "evidence@bank.example", "trailbook").unwrap();
        let a = s.sign("trailbook", b"hello\n").unwrap();
        assert_eq!(
            a,
            s.sign("trailbook", b"hello\n").unwrap(),
            "Ed25519 is deterministic"
        );
        assert!(a.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        let v = verify("trailbook", b"hello\n", &a).unwrap();
        assert_eq!(v.fingerprint, s.fingerprint);
        assert!(verify("trailbook", b"hellO\n", &a).is_err(), "other bytes");
        assert!(
            verify("other", b"hello\n", &a)
                .unwrap_err()
                .contains("namespace")
        );
        assert!(s.allowed_signers_line().starts_with(
            "evidence@bank.example namespaces=\"trailbook,trailbook-checkpoint\" ssh-ed25519 "
        ));
    }

    #[test]
    fn allowed_signers_lines_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, TEST_KEY).unwrap();
        let s = Signer::load(&key, None, "a@b", "trailbook").unwrap();
        let file = dir.path().join("allowed");
        std::fs::write(
            &file,
            format!(
                "# comment\n{}\nother@x {}\n",
                s.allowed_signers_line(),
                s.public
            ),
        )
        .unwrap();
        let allowed = read_allowed_signers(&file).unwrap();
        assert_eq!(allowed.len(), 2);
        let pk = PublicKey::from_openssh(&s.public).unwrap();
        assert_eq!(
            allowed_principals(&allowed, &pk, "trailbook"),
            ["a@b", "other@x"]
        );
        assert_eq!(allowed_principals(&allowed, &pk, "elsewhere"), ["other@x"]);
        std::fs::write(&file, format!("x cert-authority {}\n", s.public)).unwrap();
        assert!(read_allowed_signers(&file).is_err());
    }

    #[test]
    fn encrypted_keys_need_their_passphrase_and_only_ed25519_signs() {
        let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
        let enc = keys.join("test_ed25519_encrypted");
        let e = Signer::load(&enc, None, "a", "t")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("passphrase_env"), "{e}");
        let e = Signer::load(&enc, Some("wrong"), "a", "t")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("wrong passphrase"), "{e}");
        let s = Signer::load(&enc, Some("correct horse"), "a", "t").unwrap();
        assert!(verify("t", b"x", &s.sign("t", b"x").unwrap()).is_ok());
        let e = Signer::load(&keys.join("test_ecdsa"), None, "a", "t")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("Ed25519 only"), "{e}");
        let e = Signer::load(&keys.join("test_ed25519.pub"), None, "a", "t")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not an OpenSSH private key"), "{e}");
    }

    #[test]
    fn a_missing_key_says_how_to_make_one() {
        let e = Signer::load(Path::new("/nonexistent/k"), None, "a", "t")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("ssh-keygen -t ed25519"), "{e}");
    }
}
