//! LINK — graph consistency (baseline): LINK-01 … LINK-05.

use super::Rule;

pub static RULES: &[&dyn Rule] = &[];
