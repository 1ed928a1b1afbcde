//! `check --format sarif`: SARIF 2.1.0.

use super::Report;

pub fn render(report: &Report<'_>) -> String {
    let _ = report;
    String::new()
}
