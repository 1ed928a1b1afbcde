//! The Merkle tree hash of RFC 6962 §2.1, by hand (`STYLE.md`: ~100 lines, easier to audit than a
//! dependency), tested against the RFC's test vectors as published with Certificate Transparency.
//!
//! MTH({}) = SHA-256(""); MTH({d}) = SHA-256(0x00 ‖ d); for n > 1, with k the largest power of two
//! below n, MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])).
//!
//! [`Tree`] computes the root incrementally in O(log n) memory, so the root over the lines of a
//! multi-gigabyte log needs no list of its lines.

use sha2::{Digest, Sha256};

/// SHA-256(0x00 ‖ data): the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// An append-only tree: push leaves, read the root at any time.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Roots of the complete subtrees, left to right, with their sizes (strictly decreasing
    /// powers of two: the binary digits of `len`).
    stack: Vec<(u64, [u8; 32])>,
    len: u64,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a leaf by its data.
    pub fn push(&mut self, data: &[u8]) {
        self.push_hash(leaf_hash(data));
    }

    /// Appends a leaf by its leaf hash.
    pub fn push_hash(&mut self, mut hash: [u8; 32]) {
        let mut size = 1u64;
        // Merge equal-sized complete subtrees, as a binary counter carries.
        while let Some(&(top, left)) = self.stack.last() {
            if top != size {
                break;
            }
            self.stack.pop();
            hash = node_hash(&left, &hash);
            size *= 2;
        }
        self.stack.push((size, hash));
        self.len += 1;
    }

    /// MTH of the leaves so far. The complete subtrees are joined right to left, which is the
    /// RFC's split at the largest power of two.
    pub fn root(&self) -> [u8; 32] {
        let mut iter = self.stack.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return Sha256::digest(b"").into();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// MTH of `leaves`.
pub fn root<T: AsRef<[u8]>>(leaves: &[T]) -> [u8; 32] {
    let mut t = Tree::new();
    for l in leaves {
        t.push(l.as_ref());
    }
    t.root()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves and roots of the RFC 6962 test vectors (Certificate Transparency's
    /// `merkle_tree_test`).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn rfc6962_test_vectors() {
        let leaves: Vec<Vec<u8>> = LEAVES.iter().map(|l| hex::decode(l).unwrap()).collect();
        assert_eq!(
            hex::encode(root::<Vec<u8>>(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        for n in 1..=8 {
            assert_eq!(
                hex::encode(root(&leaves[..n])),
                ROOTS[n - 1],
                "tree of {n} leaves"
            );
        }
    }

    /// The incremental tree agrees with the RFC's recursive definition at every size.
    #[test]
    fn incremental_matches_the_recursive_definition() {
        fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
            match leaves.len() {
                0 => Sha256::digest(b"").into(),
                1 => leaf_hash(&leaves[0]),
                n => {
                    // The largest power of two smaller than n.
                    let mut k = 1;
                    while k * 2 < n {
                        k *= 2;
                    }
                    node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
                }
            }
        }
        let leaves: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut t = Tree::new();
        for (i, l) in leaves.iter().enumerate() {
            t.push(l);
            assert_eq!(t.len(), i as u64 + 1);
            assert_eq!(t.root(), mth(&leaves[..=i]), "size {}", i + 1);
        }
    }
}
