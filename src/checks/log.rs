//! LOG — event log integrity (baseline): LOG-01 … LOG-07 (LOG-08 is in `waivers`).

use super::Rule;

pub static RULES: &[&dyn Rule] = &[];
