//! Stage `seal` (`INTEGRITY.md`): what makes a published version provably complete and unaltered.
//!
//! So far: the RFC 6962 Merkle tree hash ([`merkle`]) that the version log checkpoint and
//! `inputs.lock` use. The version manifest `SHA256SUMS` is written by
//! [`crate::render::publish::sha256sums`].

pub mod checkpoint;
pub mod lock;
pub mod merkle;
pub mod provenance;
pub mod sign;
pub mod verify;
