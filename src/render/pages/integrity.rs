//! `integrity.html` (`SITE.md`, `INTEGRITY.md` §3): how to verify this version with `trailbook
//! verify` and with standard tools alone, where the digest of this version's manifest is (not on
//! this page: the manifest covers the page), the chain head of every source, the SHA-256 of every
//! input file, and the previous version's manifest digest.
//!
//! What the page says about signing comes from the key of `[signing]` (`Cx::signing`).

use serde::Serialize;

use crate::config::ChainMode;
use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    version: u32,
    /// The signing key, when the manifest is signed (`SHA256SUMS.sig`).
    signing: Option<crate::render::SigningInfo>,
    previous: Option<Prev>,
    sources: Vec<Head>,
    files: Vec<InputFile>,
}

#[derive(Serialize)]
struct Prev {
    version: u32,
    as_of: String,
    sums_sha256: Option<String>,
}

#[derive(Serialize)]
struct Head {
    name: String,
    chain_mode: String,
    /// `pass`, `fail` or `not applicable` for `m.status`.
    status: String,
    issues: usize,
    lines: u64,
    chained_lines: u64,
    head: Option<String>,
    last_seq: Option<u64>,
}

#[derive(Serialize)]
struct InputFile {
    source: String,
    path: String,
    sha256: String,
    bytes: u64,
    lines: u64,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let ingest = cx.input.ingest;
    let sources = ingest
        .sources
        .iter()
        .map(|s| {
            let unchained = match s.chain_mode {
                ChainMode::None => true,
                ChainMode::Optional => s.chain.chained_lines == 0,
                ChainMode::Required => false,
            };
            Head {
                name: s.name.clone(),
                chain_mode: s.chain_mode.as_str().to_string(),
                status: if unchained {
                    "not applicable"
                } else if s.chain.issues.is_empty() {
                    "pass"
                } else {
                    "fail"
                }
                .to_string(),
                issues: s.chain.issues.len(),
                lines: s.lines,
                chained_lines: s.chain.chained_lines,
                head: s.chain.head.clone(),
                last_seq: s.chain.last_seq,
            }
        })
        .collect();
    let files = ingest
        .sources
        .iter()
        .flat_map(|s| s.files.iter().map(move |&f| (s, &ingest.files[f as usize])))
        .map(|(s, f)| InputFile {
            source: s.name.clone(),
            path: f.path.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
            lines: f.lines,
        })
        .collect();
    let page = Page {
        version: cx.version,
        signing: cx.signing.clone(),
        previous: cx.previous.as_ref().map(|p| Prev {
            version: p.version,
            as_of: p.as_of.clone(),
            sums_sha256: p.sums_sha256.clone(),
        }),
        sources,
        files,
    };
    pages.add(
        "integrity.html",
        cx.render("integrity.html", "integrity.html", "Integrity", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::render::{Previous, render};
    use crate::testing::{check_events, ev, page};

    #[test]
    fn integrity_page_gives_commands_heads_and_file_digests() {
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit"}),
            )],
            "",
        );
        let html = page(&case.site(), "integrity.html");
        assert!(html.contains("sha256sum -c --strict SHA256SUMS"));
        assert!(html.contains("trailbook verify"));
        assert!(html.contains("unsigned"), "no [signing]: {html}");
        assert!(html.contains("no signing key is configured"));
        assert!(html.contains("versions.json"));
        let source = &case.loaded.ingest.sources[0];
        assert!(html.contains(source.chain.head.as_deref().unwrap()));
        assert!(html.contains(&case.loaded.ingest.files[0].sha256));
        assert!(html.contains("first version"));
    }

    #[test]
    fn integrity_page_names_the_previous_manifest_digest() {
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit"}),
            )],
            "",
        );
        let previous = Previous {
            version: 4,
            as_of: "2025-12-31T00:00:00Z".into(),
            sums_sha256: Some("ab".repeat(32)),
            ..Previous::default()
        };
        let html = case.with_cx(5, "internal", Some(previous), |cx| {
            page(&render(cx).unwrap(), "integrity.html")
        });
        assert!(html.contains(&"ab".repeat(32)), "{html}");
        assert!(html.contains("../v4/SHA256SUMS"));
    }

    #[test]
    fn a_signed_version_names_its_key_and_the_commands_to_check_it() {
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit"}),
            )],
            "",
        );
        let html = case.with_cx(1, "internal", None, |cx| {
            cx.signing = Some(crate::render::SigningInfo {
                identity: "evidence@bank.example".into(),
                namespace: "trailbook".into(),
                checkpoint_namespace: "trailbook-checkpoint".into(),
                fingerprint: "SHA256:abcdef".into(),
                allowed_signers: "evidence@bank.example namespaces=\"trailbook,trailbook-checkpoint\" ssh-ed25519 AAAAC3".into(),
                origin: "trailbook/bank/credit/internal".into(),
            });
            page(&render(cx).unwrap(), "integrity.html")
        });
        assert!(!html.contains("unsigned"), "{html}");
        assert!(html.contains("SHA256:abcdef"));
        assert!(html.contains(
            "ssh-keygen -Y verify -f allowed_signers -I evidence@bank.example -n trailbook -s SHA256SUMS.sig &lt; SHA256SUMS"
        ));
        assert!(
            html.contains(
                "namespaces=&quot;trailbook,trailbook-checkpoint&quot; ssh-ed25519 AAAAC3"
            ),
            "escaped allowed_signers line"
        );
        assert!(html.contains("trailbook-checkpoint"));
        assert!(html.contains("--allowed-signers allowed_signers"));
    }
}
