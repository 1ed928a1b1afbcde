//! Where each entity's page is, and safe file names.
//!
//! Paths are version-relative and restricted to `[A-Za-z0-9._/-]` (`ARCHITECTURE.md`,
//! "Determinism"): an id that is already such a name is used as it is; any other id becomes a
//! slug plus the first 8 hex digits of its SHA-256, so two ids never share a file and the name
//! depends on the id alone.

use sha2::{Digest, Sha256};

use crate::event::{EntityType, NodeId};

/// A file-name-safe form of `id`, stable and collision-free.
pub fn file_slug(id: &str) -> String {
    let plain = !id.is_empty()
        && id.len() <= 80
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if plain {
        return id.to_string();
    }
    let mut slug = String::new();
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let digest = hex::encode(Sha256::digest(id.as_bytes()));
    format!(
        "{}{}",
        if slug.is_empty() {
            String::new()
        } else {
            format!("{}-", slug.trim_end_matches('-'))
        },
        &digest[..8]
    )
}

/// An HTML anchor id for `node` (`model_version-credit-risk-1-4-0-…`).
pub fn anchor(node: &NodeId) -> String {
    format!(
        "{}-{}",
        node.entity_type().map_or("node", EntityType::as_str),
        file_slug(node.id())
    )
}

/// The version-relative page of `node`, with a fragment where the entity lives on a shared page.
/// `None` for types without a page of their own (their events are reachable from the pages of
/// what they relate to).
pub fn href(node: &NodeId) -> Option<String> {
    let id = node.id();
    Some(match node.entity_type()? {
        EntityType::Model => format!("models/index.html#{}", anchor(node)),
        EntityType::ModelVersion => {
            let (model, version) = id.rsplit_once('@').unwrap_or((id, ""));
            format!("models/{}/{}.html", file_slug(model), file_slug(version))
        }
        EntityType::Dataset => format!("datasets/{}.html", file_slug(id)),
        EntityType::Deployment => format!("deployments.html#{}", anchor(node)),
        EntityType::Incident => format!("incidents/{}.html", file_slug(id)),
        EntityType::System => format!("index.html#{}", anchor(node)),
        EntityType::Run | EntityType::Job => format!("lineage.html#{}", anchor(node)),
        _ => return None,
    })
}

/// The drill-down page of the event at model index `i` (events are paged in model order).
pub fn event_href(i: u32) -> String {
    format!("events/{}.html#e{i}", i as usize / super::PAGE_ROWS + 1)
}

/// Whether `path` is a permitted site path.
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// `1234567` → `1 234 567` (thin groups, locale-independent).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Splits `n` rows into pages of at most `per` rows; `(page number from 1, range)`.
pub fn paginate(n: usize, per: usize) -> Vec<(usize, std::ops::Range<usize>)> {
    if n == 0 {
        return vec![(1, 0..0)];
    }
    (0..n.div_ceil(per))
        .map(|p| (p + 1, p * per..((p + 1) * per).min(n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_keep_their_name_and_others_get_a_hash() {
        assert_eq!(file_slug("credit-risk"), "credit-risk");
        assert_eq!(file_slug("1.4.0"), "1.4.0");
        let odd = file_slug("s3://bank/app data/2026?x=<script>");
        assert!(valid_path(&odd), "{odd}");
        assert!(odd.starts_with("s3-bank-app-data-2026-x-script-"), "{odd}");
        assert_ne!(file_slug("a b"), file_slug("a_b"));
        assert_ne!(file_slug("A"), file_slug("a b"));
        assert!(valid_path(&file_slug("..")));
        assert!(valid_path(&file_slug("")));
        assert!(valid_path(&file_slug(&"x".repeat(500))));
    }

    #[test]
    fn hrefs_are_valid_paths() {
        for s in [
            "model_version:credit-risk@1.4.0",
            "dataset:s3://bank/loans/2026-01",
            "incident:INC 7/<b>",
            "model:credit-risk",
        ] {
            let h = href(&NodeId::parse(s).unwrap()).unwrap();
            let path = h.split('#').next().unwrap();
            assert!(valid_path(path), "{s} → {h}");
        }
        assert_eq!(
            href(&NodeId::parse("model_version:credit-risk@1.4.0").unwrap()).unwrap(),
            "models/credit-risk/1.4.0.html"
        );
    }

    #[test]
    fn pages_split_and_numbers_group() {
        assert_eq!(paginate(0, 10), vec![(1, 0..0)]);
        assert_eq!(paginate(25, 10).len(), 3);
        assert_eq!(paginate(25, 10)[2], (3, 20..25));
        assert_eq!(thousands(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands(-999), "-999");
    }
}
