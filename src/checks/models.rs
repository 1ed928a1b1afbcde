//! MOD — model version metadata: MOD-01 … MOD-03.

use super::Rule;

pub static RULES: &[&dyn Rule] = &[];
