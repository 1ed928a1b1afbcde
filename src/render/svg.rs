//! SVG generated at build time: the lineage graph (a layered left-to-right layout) and charts
//! (monitoring lines against thresholds, decision volume bars). Every text and attribute value is
//! escaped with [`super::esc`]; every chart has `role="img"`, a `<title>` and a `<desc>` named by
//! `aria-labelledby`, and its numbers are also given in a table by the page that shows it. Output
//! depends only on the inputs: no clock, no hash-map iteration, ties broken by node id, and
//! coordinates written as integers or with one decimal.
//!
//! Meaning is never carried by colour alone: node boxes name their type in text, unresolved nodes
//! are dashed and say so, summary boxes are drawn doubled, edges that are not plain lineage have
//! their own dash pattern (explained in a legend), chart series differ by dash pattern and point
//! shape, bar segments by fill pattern, and every chart has a text legend.
//!
//! The lineage layout is a hand-written Sugiyama-style layering (the pure-Rust crates on crates.io
//! either lack stage constraints or are young single-author ports; this needs only a few hundred
//! lines): columns by stage with longest-path layering on top (data → runs → model versions →
//! deployments → decisions → incidents), cycles broken by a depth-first search in (stage, id)
//! order, long edges routed through dummy points, barycenter crossing reduction over several
//! sweeps keeping the ordering with the fewest crossings (ties by node id), and vertical placement
//! by isotonic regression towards the neighbours' mean. Many decisions of one parent, and any
//! nodes beyond a per-layer cap, are collapsed into one "N more …" box per parent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use jiff::Timestamp;
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use sha2::{Digest, Sha256};

use super::{esc, links};
use crate::event::EntityType;
use crate::graph::{LineageGraph, Rel};

/// One line of a line chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub points: Vec<(Timestamp, f64)>,
}

/// A stacked bar: its label (x axis) and its segments (name, count).
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<(String, u64)>,
}

/// Colours of chart series and bar segments (distinguishable in greyscale by their patterns).
const PALETTE: [&str; 6] = [
    "#0a4fa8", "#c2410c", "#116329", "#5a32a3", "#a40e26", "#57606a",
];
/// Dash patterns of chart series, in series order (cycled).
const DASHES: [&str; 4] = ["", "6 3", "2 3", "9 3 2 3"];
const FONT: &str = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif";
/// Points per series drawn with a marker; beyond this only the line is drawn.
const MAX_MARKERS: usize = 500;

/// A coordinate: an integer, or one decimal when needed (deterministic, no `-0`).
fn px(v: f64) -> String {
    let t = (v * 10.0).round() as i64;
    let (sign, a) = if t < 0 { ("-", -t) } else { ("", t) };
    if a % 10 == 0 {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// A number as a chart states it in titles: an integer when it is one, else the shortest form
/// that reads back as the same `f64`.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A stable id for the elements of one SVG (its title, description, markers, patterns), so that
/// several SVGs on one page never share ids.
fn uid(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("{prefix}-{}", &hex::encode(h.finalize())[..10])
}

/// Opens an SVG. Charts are one image (`role="img"`); a drawing whose nodes are links is a
/// `group`, because an image may not contain interactive elements (axe `nested-interactive`).
fn open_svg(out: &mut String, id: &str, w: f64, h: f64, title: &str, desc: &str, role: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"{role}\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"{FONT}\" font-size=\"12\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc),
        w = px(w),
        h = px(h),
    );
}

/// A "nice" step (1, 2 or 5 × 10^k) of at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let f = raw / base;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * base
}

/// A tick value with as many decimals as its step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(9)
    };
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// A marker shape of series `k` centred on (x, y): circle, square, triangle, diamond.
fn marker(out: &mut String, k: usize, x: f64, y: f64, colour: &str, title: &str) {
    let t = if title.is_empty() {
        String::new()
    } else {
        format!("<title>{}</title>", esc(title))
    };
    let close = if t.is_empty() {
        "/>".to_string()
    } else {
        format!(">{t}")
    };
    let end = |tag: &str| {
        if t.is_empty() {
            String::new()
        } else {
            format!("</{tag}>")
        }
    };
    match k % 4 {
        0 => {
            let _ = write!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{colour}\"{close}{}",
                px(x),
                px(y),
                end("circle")
            );
        }
        1 => {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{colour}\"{close}{}",
                px(x - 3.5),
                px(y - 3.5),
                end("rect")
            );
        }
        2 => {
            let _ = write!(
                out,
                "<path d=\"M{} {}L{} {}L{} {}Z\" fill=\"{colour}\"{close}{}",
                px(x),
                px(y - 4.5),
                px(x + 4.5),
                px(y + 3.5),
                px(x - 4.5),
                px(y + 3.5),
                end("path")
            );
        }
        _ => {
            let _ = write!(
                out,
                "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{colour}\"{close}{}",
                px(x),
                px(y - 4.5),
                px(x + 4.5),
                px(y),
                px(x),
                px(y + 4.5),
                px(x - 4.5),
                px(y),
                end("path")
            );
        }
    }
}

/// Legend entries laid out in rows of two below a chart; returns the height used.
fn legend_rows(count: usize) -> f64 {
    count.div_ceil(2) as f64 * 18.0
}

// ---------------------------------------------------------------------------------------------
// Line chart
// ---------------------------------------------------------------------------------------------

const DAY_MS: i64 = 86_400_000;

/// A line chart of `series` over time with optional horizontal threshold lines at `min` and
/// `max`. Points are drawn with a marker per series shape (up to 500 per series) whose `<title>`
/// gives the time and value; dates on the time axis read `YYYY-MM-DD`. Non-finite values are
/// left out.
pub fn line_chart(title: &str, series: &[Series], min: Option<f64>, max: Option<f64>) -> String {
    let (w, left, right, top) = (640.0, 64.0, 560.0, 14.0);
    let bottom = top + 200.0;
    let min = min.filter(|v| v.is_finite());
    let max = max.filter(|v| v.is_finite());
    let mut clean: Vec<Vec<(i64, f64)>> = series
        .iter()
        .map(|s| {
            let mut p: Vec<(i64, f64)> = s
                .points
                .iter()
                .filter(|(_, v)| v.is_finite())
                .map(|(t, v)| (t.as_millisecond(), *v))
                .collect();
            p.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            p
        })
        .collect();
    let all: Vec<(i64, f64)> = clean.iter().flatten().copied().collect();
    let legend_count = series.len() + usize::from(min.is_some() || max.is_some());
    let h = bottom + 40.0 + legend_rows(legend_count) + 6.0;
    let id = {
        let mut parts = vec![title.to_string()];
        for (s, p) in series.iter().zip(&clean) {
            parts.push(s.label.clone());
            parts.push(p.len().to_string());
            if let (Some(a), Some(b)) = (p.first(), p.last()) {
                parts.push(format!("{} {} {} {}", a.0, num(a.1), b.0, num(b.1)));
            }
        }
        parts.push(format!("{min:?} {max:?}"));
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        uid("lc", &refs)
    };
    let fmt_ms = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(crate::time::fmt)
            .unwrap_or_else(|_| ms.to_string())
    };
    let day_ms = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(crate::time::utc_day)
            .unwrap_or_else(|_| ms.to_string())
    };
    let mut desc = format!(
        "{} series, {} point{}",
        series.len(),
        all.len(),
        if all.len() == 1 { "" } else { "s" }
    );
    let tmin = all.iter().map(|p| p.0).min();
    let tmax = all.iter().map(|p| p.0).max();
    if let (Some(a), Some(b)) = (tmin, tmax) {
        let _ = write!(desc, " from {} to {}", day_ms(a), day_ms(b));
    }
    if let Some(v) = min {
        let _ = write!(desc, "; minimum threshold {}", num(v));
    }
    if let Some(v) = max {
        let _ = write!(desc, "; maximum threshold {}", num(v));
    }
    for (s, p) in series.iter().zip(&clean) {
        if let (Some(lo), Some(hi)) = (
            p.iter().map(|x| x.1).min_by(f64::total_cmp),
            p.iter().map(|x| x.1).max_by(f64::total_cmp),
        ) {
            let _ = write!(
                desc,
                "; {}: {} point{}, values {} to {}",
                s.label,
                p.len(),
                if p.len() == 1 { "" } else { "s" },
                num(lo),
                num(hi)
            );
        }
    }
    desc.push('.');
    let mut out = String::new();
    open_svg(&mut out, &id, w, h, title, &desc, "img");
    // Plot frame.
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#d0d7de\"/>",
        px(left),
        px(top),
        px(right - left),
        px(bottom - top)
    );
    if all.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">No data points</text>",
            px((left + right) / 2.0),
            px((top + bottom) / 2.0)
        );
    } else {
        let (mut t0, mut t1) = (tmin.unwrap_or(0), tmax.unwrap_or(0));
        if t0 == t1 {
            t0 -= DAY_MS;
            t1 += DAY_MS;
        }
        let mut lo = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let mut hi = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        for v in [min, max].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo == hi {
            let pad = (lo.abs() * 0.1).max(1.0);
            lo -= pad;
            hi += pad;
        }
        let step = nice_step((hi - lo) / 5.0);
        let y0 = (lo / step).floor() * step;
        let y1 = (hi / step).ceil() * step;
        let xs = |t: i64| left + (t - t0) as f64 / (t1 - t0) as f64 * (right - left);
        let ys = |v: f64| bottom - (v - y0) / (y1 - y0) * (bottom - top);
        // Y ticks and grid.
        let n = ((y1 - y0) / step).round() as i64;
        out.push_str("<g font-size=\"11\" fill=\"#57606a\">");
        for i in 0..=n.min(20) {
            let v = y0 + i as f64 * step;
            let y = ys(v);
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#eef1f4\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                px(left),
                px(right),
                px(left - 6.0),
                px(y + 4.0),
                esc(&tick_label(v, step)),
                y = px(y),
            );
        }
        // X ticks: midnights UTC at a step in days, or the two ends for spans under a day.
        let span = t1 - t0;
        let mut xticks: Vec<(i64, String)> = Vec::new();
        if span < DAY_MS {
            for t in [t0, t1] {
                let label = Timestamp::from_millisecond(t)
                    .map(|ts| ts.strftime("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                xticks.push((t, label));
            }
        } else {
            let days = span / DAY_MS;
            let step_days = [1, 2, 7, 14, 28, 56, 91, 182, 365, 730, 1461, 3652]
                .into_iter()
                .find(|s| days / s <= 5)
                .unwrap_or(days / 5 + 1);
            let mut t = t0.div_euclid(DAY_MS) * DAY_MS;
            if t < t0 {
                t += DAY_MS;
            }
            while t <= t1 && xticks.len() < 12 {
                xticks.push((t, day_ms(t)));
                t += step_days * DAY_MS;
            }
        }
        for (t, label) in &xticks {
            let x = xs(*t);
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#57606a\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px(bottom),
                px(bottom + 4.0),
                px(bottom + 17.0),
                esc(label),
                x = px(x),
            );
        }
        out.push_str("</g>");
        // Thresholds.
        for (name, v) in [("min", min), ("max", max)] {
            let Some(v) = v else { continue };
            let y = px(ys(v));
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#a40e26\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"><title>{name} threshold {}</title></line><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#a40e26\">{name} {}</text>",
                px(left),
                px(right),
                esc(&num(v)),
                px(right + 4.0),
                px(ys(v) + 4.0),
                esc(&num(v)),
            );
        }
        // Series.
        for (k, (s, points)) in series.iter().zip(clean.iter_mut()).enumerate() {
            if points.is_empty() {
                continue;
            }
            let colour = PALETTE[k % PALETTE.len()];
            let dash = DASHES[k % DASHES.len()];
            let mut d = String::new();
            for (i, (t, v)) in points.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{} {}",
                    if i == 0 { "M" } else { "L" },
                    px(xs(*t)),
                    px(ys(*v))
                );
            }
            let _ = write!(
                out,
                "<g><title>{}</title><path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"{}/>",
                esc(&s.label),
                if dash.is_empty() {
                    String::new()
                } else {
                    format!(" stroke-dasharray=\"{dash}\"")
                }
            );
            if points.len() <= MAX_MARKERS {
                for (t, v) in points.iter() {
                    let tip = format!("{}: {} at {}", s.label, num(*v), fmt_ms(*t));
                    marker(&mut out, k, xs(*t), ys(*v), colour, &tip);
                }
            }
            out.push_str("</g>");
        }
    }
    // Legend.
    let ly = bottom + 36.0;
    out.push_str("<g font-size=\"11\">");
    let slot = |entry: usize| {
        (
            left + (entry % 2) as f64 * 260.0,
            ly + (entry / 2) as f64 * 18.0,
        )
    };
    for (k, s) in series.iter().enumerate() {
        let (x, y) = slot(k);
        let colour = PALETTE[k % PALETTE.len()];
        let dash = DASHES[k % DASHES.len()];
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"1.8\"{}/>",
            px(x),
            px(y),
            px(x + 28.0),
            px(y),
            if dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{dash}\"")
            }
        );
        marker(&mut out, k, x + 14.0, y, colour, "");
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            px(x + 34.0),
            px(y + 4.0),
            esc(&crate::time::clip(&s.label, 36))
        );
    }
    if min.is_some() || max.is_some() {
        let (x, y) = slot(series.len());
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#a40e26\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/><text x=\"{}\" y=\"{}\">threshold (min / max)</text>",
            px(x),
            px(y),
            px(x + 28.0),
            px(y),
            px(x + 34.0),
            px(y + 4.0)
        );
    }
    out.push_str("</g></svg>");
    out
}

// ---------------------------------------------------------------------------------------------
// Bar chart
// ---------------------------------------------------------------------------------------------

/// A stacked bar chart: one bar per entry of `bars` (in the given order), segments stacked
/// bottom-up in legend order (first appearance). Segments differ by colour and fill pattern and
/// each has a `<title>` with its count; with many bars the bars get thin and only every k-th
/// label is written.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let (w, left, right, top) = (640.0, 64.0, 624.0, 14.0);
    let bottom = top + 200.0;
    // Segment names in order of first appearance.
    let mut names: Vec<&str> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for b in bars {
        for (n, _) in &b.segments {
            if seen.insert(n.as_str()) {
                names.push(n.as_str());
            }
        }
    }
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let totals: Vec<u64> = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.1).sum())
        .collect();
    let sum: u64 = totals.iter().sum();
    let peak = totals.iter().copied().max().unwrap_or(0);
    let h = bottom + 40.0 + legend_rows(names.len()) + 6.0;
    let id = {
        let mut parts = vec![title.to_string(), bars.len().to_string(), sum.to_string()];
        parts.extend(names.iter().map(|n| n.to_string()));
        if let (Some(a), Some(b)) = (bars.first(), bars.last()) {
            parts.push(a.label.clone());
            parts.push(b.label.clone());
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        uid("bc", &refs)
    };
    let mut desc = format!(
        "{} bar{}, {} in total",
        bars.len(),
        if bars.len() == 1 { "" } else { "s" },
        sum
    );
    if let Some((i, _)) = totals
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
    {
        let _ = write!(desc, "; largest: {} with {}", bars[i].label, totals[i]);
    }
    if !names.is_empty() {
        let _ = write!(desc, "; segments: {}", names.join(", "));
    }
    desc.push('.');
    let mut out = String::new();
    open_svg(&mut out, &id, w, h, title, &desc, "img");
    // Fill patterns: solid, diagonal hatch, dots, horizontal lines (cycled), each over its colour.
    let fill = |k: usize| -> String {
        if k.is_multiple_of(4) {
            PALETTE[k % PALETTE.len()].to_string()
        } else {
            format!("url(#{id}-p{k})")
        }
    };
    if names.len() > 1 {
        out.push_str("<defs>");
        for k in 1..names.len() {
            if k % 4 == 0 {
                continue;
            }
            let colour = PALETTE[k % PALETTE.len()];
            let mark = match k % 4 {
                1 => {
                    "<path d=\"M0 6L6 0M-1 1L1 -1M5 7L7 5\" stroke=\"#fff\" stroke-width=\"1.5\"/>"
                }
                2 => "<circle cx=\"3\" cy=\"3\" r=\"1.3\" fill=\"#fff\"/>",
                _ => "<path d=\"M0 3H6\" stroke=\"#fff\" stroke-width=\"1.5\"/>",
            };
            let _ = write!(
                out,
                "<pattern id=\"{id}-p{k}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\"><rect width=\"6\" height=\"6\" fill=\"{colour}\"/>{mark}</pattern>"
            );
        }
        out.push_str("</defs>");
    }
    let top_v = if peak == 0 {
        1.0
    } else {
        let step = nice_step(peak as f64 / 5.0).max(1.0);
        (peak as f64 / step).ceil() * step
    };
    let step = nice_step(top_v / 5.0).max(1.0);
    let ys = |v: f64| bottom - v / top_v * (bottom - top);
    out.push_str("<g font-size=\"11\" fill=\"#57606a\">");
    let n = (top_v / step).round() as i64;
    for i in 0..=n.min(20) {
        let v = i as f64 * step;
        let y = px(ys(v));
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#eef1f4\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            px(left),
            px(right),
            px(left - 6.0),
            px(ys(v) + 4.0),
            esc(&links::thousands(v as i64)),
        );
    }
    out.push_str("</g>");
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#57606a\"/>",
        px(left),
        px(bottom),
        px(right),
        px(bottom)
    );
    if bars.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">No data</text>",
            px((left + right) / 2.0),
            px((top + bottom) / 2.0)
        );
    } else {
        let slot = (right - left) / bars.len() as f64;
        let bw = (slot * 0.8).max(0.2);
        let every = bars.len().div_ceil(8).max(1);
        let max_chars = ((slot * every as f64) / 6.5).floor().clamp(3.0, 16.0) as usize;
        for (i, b) in bars.iter().enumerate() {
            let x = left + i as f64 * slot + (slot - bw) / 2.0;
            let mut acc = 0u64;
            let _ = write!(out, "<g><title>{}: {}</title>", esc(&b.label), totals[i]);
            for (name, count) in &b.segments {
                if *count == 0 {
                    continue;
                }
                let k = index[name.as_str()];
                let y_hi = ys((acc + count) as f64);
                let y_lo = ys(acc as f64);
                acc += count;
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                    px(x),
                    px(y_hi),
                    px(bw),
                    px(y_lo - y_hi),
                    fill(k),
                    esc(&b.label),
                    esc(name),
                    count
                );
            }
            out.push_str("</g>");
            if i % every == 0 {
                let _ = write!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{}</text>",
                    px(left + (i as f64 + 0.5) * slot),
                    px(bottom + 16.0),
                    esc(&crate::time::clip(&b.label, max_chars))
                );
            }
        }
    }
    let ly = bottom + 36.0;
    out.push_str("<g font-size=\"11\">");
    for (k, name) in names.iter().enumerate() {
        let (x, y) = (left + (k % 2) as f64 * 260.0, ly + (k / 2) as f64 * 18.0);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\" stroke=\"#57606a\" stroke-width=\"0.5\"/><text x=\"{}\" y=\"{}\">{}</text>",
            px(x),
            px(y - 6.0),
            fill(k),
            px(x + 20.0),
            px(y + 4.0),
            esc(&crate::time::clip(name, 40))
        );
    }
    out.push_str("</g></svg>");
    out
}

// ---------------------------------------------------------------------------------------------
// Lineage
// ---------------------------------------------------------------------------------------------

/// Real nodes kept per layer by [`lineage`]; the rest of a layer is summarised per parent.
pub const LAYER_CAP: usize = 60;
/// A parent with more decisions than this has them drawn as one summary box.
pub const DECISIONS_SHOWN: usize = 3;

/// Summary boxes per layer that name their parent; further overflow shares one box.
const PARENT_GROUPS: usize = 8;

/// Options of [`lineage_with`].
#[derive(Clone, Debug)]
pub struct LineageOptions<'a> {
    /// The SVG's `<title>`; default "Lineage graph" or "Lineage of FOCUS".
    pub title: Option<&'a str>,
    /// Real nodes kept per layer before the rest is summarised (at least 1).
    pub layer_cap: usize,
}

impl Default for LineageOptions<'_> {
    fn default() -> Self {
        LineageOptions {
            title: None,
            layer_cap: LAYER_CAP,
        }
    }
}

const NODE_W: f64 = 184.0;
const NODE_H: f64 = 36.0;
const GAP_X: f64 = 76.0;
const MARGIN: f64 = 16.0;
const LEGEND_H: f64 = 44.0;
/// Characters of a label in a box; longer labels keep their start and end (ids differ at both).
const LABEL_CHARS: usize = 26;

/// `s` shortened to `max` characters with `…` in the middle.
fn clip_mid(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head = (max - 1) * 2 / 5;
    let tail = max - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

#[derive(Clone, Debug)]
enum VKind {
    Real(NodeIndex),
    /// A summary box: `count` entities of type `ty` (`"node"` when mixed) whose parent is
    /// `parent` (a node id, for the title).
    Group {
        ty: String,
        count: usize,
        parent: Option<String>,
        decisions: bool,
        more: bool,
    },
    Dummy,
}

#[derive(Clone, Debug)]
struct VNode {
    kind: VKind,
    key: String,
    floor: usize,
    layer: usize,
}

/// The column a type starts in (stage order, left to right).
fn floor_of(ty: Option<EntityType>) -> usize {
    match ty {
        Some(EntityType::Dataset | EntityType::Feature) => 0,
        Some(EntityType::Job | EntityType::Run) => 1,
        Some(EntityType::Model | EntityType::ModelVersion) => 2,
        Some(EntityType::Deployment) => 3,
        Some(EntityType::Decision) => 4,
        Some(EntityType::Incident) => 5,
        Some(EntityType::System | EntityType::Document | EntityType::Resource) | None => 0,
    }
}

/// Types placed next to what they relate to rather than in a stage column of their own.
fn floats(ty: Option<EntityType>) -> bool {
    matches!(
        ty,
        Some(EntityType::System | EntityType::Document | EntityType::Resource) | None
    )
}

fn colours(ty: Option<EntityType>) -> (&'static str, &'static str) {
    match ty {
        Some(EntityType::Dataset | EntityType::Feature) => ("#e8f1fb", "#0a4fa8"),
        Some(EntityType::Job | EntityType::Run) => ("#eaf6ec", "#116329"),
        Some(EntityType::Model | EntityType::ModelVersion) => ("#f1eaff", "#5a32a3"),
        Some(EntityType::Deployment) => ("#fff1c5", "#7a4a00"),
        Some(EntityType::Decision) => ("#eef1f4", "#57606a"),
        Some(EntityType::Incident) => ("#ffebe9", "#a40e26"),
        _ => ("#f6f8fa", "#57606a"),
    }
}

fn plural(ty: &str, n: usize) -> String {
    let t = ty.replace('_', " ");
    if n == 1 { t } else { format!("{t}s") }
}

/// The lineage of `nodes` laid out in layers by stage, left to right; `base` prefixes node links
/// (the page's way back to the version root); `focus` is drawn emphasised.
pub fn lineage(
    graph: &LineageGraph,
    nodes: &BTreeSet<NodeIndex>,
    focus: Option<NodeIndex>,
    base: &str,
) -> String {
    lineage_with(graph, nodes, focus, base, &LineageOptions::default())
}

/// Inversions of `v` (pairs i < j with v[i] > v[j]) with a Fenwick tree over values < `n`.
fn inversions(v: &[usize], n: usize) -> u64 {
    let mut tree = vec![0u64; n + 1];
    let mut count = 0u64;
    for (seen, &x) in v.iter().enumerate() {
        // How many of the earlier values are ≤ x.
        let mut i = x + 1;
        let mut le = 0u64;
        while i > 0 {
            le += tree[i];
            i &= i - 1;
        }
        count += seen as u64 - le;
        let mut i = x + 1;
        while i <= n {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    count
}

/// Least-squares placement of ordered items towards `want` with gaps of at least `gap[i]`
/// between item i-1 and i (isotonic regression by pooling adjacent violators).
fn place(want: &[f64], gap: &[f64]) -> Vec<f64> {
    let n = want.len();
    let mut offset = vec![0.0; n];
    for i in 1..n {
        offset[i] = offset[i - 1] + gap[i];
    }
    // Blocks of (sum, count) over targets want - offset, kept non-decreasing.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        blocks.push((want[i] - offset[i], 1.0, 1));
        while blocks.len() > 1 {
            let (s1, c1, l1) = blocks[blocks.len() - 1];
            let (s0, c0, l0) = blocks[blocks.len() - 2];
            if s0 / c0 > s1 / c1 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s0 + s1, c0 + c1, l0 + l1);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for (s, c, l) in blocks {
        for _ in 0..l {
            let i = out.len();
            out.push(s / c + offset[i]);
        }
    }
    out
}

/// [`lineage`] with a title and a per-layer cap of its own.
pub fn lineage_with(
    graph: &LineageGraph,
    nodes: &BTreeSet<NodeIndex>,
    focus: Option<NodeIndex>,
    base: &str,
    opts: &LineageOptions<'_>,
) -> String {
    let g = &graph.graph;
    let cap = opts.layer_cap.max(1);
    let mut real: Vec<NodeIndex> = nodes
        .iter()
        .copied()
        .filter(|&n| g.node_weight(n).is_some())
        .collect();
    real.sort_by(|a, b| g[*a].id.cmp(&g[*b].id));
    let focus = focus.filter(|f| nodes.contains(f) && g.node_weight(*f).is_some());
    let visible = |n: NodeIndex| nodes.contains(&n) && g.node_weight(n).is_some();
    let ty = |n: NodeIndex| g[n].id.entity_type();
    let title = match (opts.title, focus) {
        (Some(t), _) => t.to_string(),
        (None, Some(f)) => format!("Lineage of {}", g[f].id),
        (None, None) => "Lineage graph".to_string(),
    };
    let id = {
        let mut h = Sha256::new();
        h.update(title.as_bytes());
        for &n in &real {
            h.update([0u8]);
            h.update(g[n].id.as_str().as_bytes());
        }
        if let Some(f) = focus {
            h.update([1u8]);
            h.update(g[f].id.as_str().as_bytes());
        }
        format!("lg-{}", &hex::encode(h.finalize())[..10])
    };

    // 1. Decisions: a parent's many decisions become one summary box.
    let mut vnodes: Vec<VNode> = Vec::new();
    let mut vid: HashMap<NodeIndex, usize> = HashMap::with_capacity(real.len());
    let mut groups: BTreeMap<String, (Option<NodeIndex>, Vec<NodeIndex>)> = BTreeMap::new();
    let mut keep: Vec<NodeIndex> = Vec::new();
    for &n in &real {
        if ty(n) != Some(EntityType::Decision) || Some(n) == focus {
            keep.push(n);
            continue;
        }
        let affected = g
            .edges_directed(n, Direction::Outgoing)
            .any(|e| e.weight().rel == Rel::Affects && visible(e.target()));
        if affected {
            keep.push(n);
            continue;
        }
        let parent = g
            .edges_directed(n, Direction::Incoming)
            .filter(|e| visible(e.source()))
            .map(|e| e.source())
            .min_by(|a, b| {
                let rank = |x: NodeIndex| u8::from(ty(x) != Some(EntityType::Deployment));
                rank(*a)
                    .cmp(&rank(*b))
                    .then_with(|| g[*a].id.cmp(&g[*b].id))
            });
        let key = parent.map_or(String::new(), |p| g[p].id.0.to_string());
        groups
            .entry(key)
            .or_insert_with(|| (parent, Vec::new()))
            .1
            .push(n);
    }
    let mut collapsed: Vec<(Option<NodeIndex>, Vec<NodeIndex>)> = Vec::new();
    for (_, (parent, members)) in groups {
        if members.len() <= DECISIONS_SHOWN {
            keep.extend(members);
        } else {
            collapsed.push((parent, members));
        }
    }
    keep.sort_by(|a, b| g[*a].id.cmp(&g[*b].id));
    for &n in &keep {
        vid.insert(n, vnodes.len());
        vnodes.push(VNode {
            kind: VKind::Real(n),
            key: g[n].id.0.to_string(),
            floor: floor_of(ty(n)),
            layer: 0,
        });
    }
    for (parent, members) in &collapsed {
        let v = vnodes.len();
        let pid = parent.map(|p| g[p].id.0.to_string());
        vnodes.push(VNode {
            kind: VKind::Group {
                ty: "decision".into(),
                count: members.len(),
                parent: pid.clone(),
                decisions: true,
                more: false,
            },
            key: format!("{}\u{10ffff}decision", pid.unwrap_or_default()),
            floor: floor_of(Some(EntityType::Decision)),
            layer: 0,
        });
        for &m in members {
            vid.insert(m, v);
        }
    }
    let real_edges: usize = real
        .iter()
        .map(|&n| {
            g.edges_directed(n, Direction::Outgoing)
                .filter(|e| visible(e.target()))
                .count()
        })
        .sum();
    // Visual edges (from, to, rel) → count, merged where ends were collapsed.
    let mut vedges: BTreeMap<(usize, usize, Rel), usize> = BTreeMap::new();
    for &n in &real {
        for e in g.edges_directed(n, Direction::Outgoing) {
            if !visible(e.target()) {
                continue;
            }
            let (a, b) = (vid[&n], vid[&e.target()]);
            if a != b {
                *vedges.entry((a, b, e.weight().rel)).or_default() += 1;
            }
        }
    }

    // 2. Layers: break cycles by a depth-first search in (stage, id) order, then longest path
    // from each type's stage column.
    let n = vnodes.len();
    let edge_list: Vec<(usize, usize)> = vedges.keys().map(|&(a, b, _)| (a, b)).collect();
    let mut out_e: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, &(a, _)) in edge_list.iter().enumerate() {
        out_e[a].push(i);
    }
    let mut reversed = vec![false; edge_list.len()];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (vnodes[a].floor, &vnodes[a].key).cmp(&(vnodes[b].floor, &vnodes[b].key))
    });
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut post: Vec<usize> = Vec::with_capacity(n);
    for &s in &order {
        if state[s] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(s, 0)];
        state[s] = 1;
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if next < out_e[v].len() {
                let ei = out_e[v][next];
                top.1 += 1;
                let w = edge_list[ei].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[ei] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                post.push(v);
                stack.pop();
            }
        }
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, &(a, b)) in edge_list.iter().enumerate() {
        let (a, b) = if reversed[i] { (b, a) } else { (a, b) };
        preds[b].push(a);
        succs[a].push(b);
    }
    for &v in post.iter().rev() {
        let l = preds[v]
            .iter()
            .map(|&p| vnodes[p].layer + 1)
            .max()
            .unwrap_or(0)
            .max(vnodes[v].floor);
        vnodes[v].layer = l;
    }
    for v in 0..n {
        let floating = match &vnodes[v].kind {
            VKind::Real(x) => floats(ty(*x)),
            _ => false,
        };
        if floating && preds[v].is_empty() && !succs[v].is_empty() {
            let m = succs[v].iter().map(|&s| vnodes[s].layer).min().unwrap_or(1);
            vnodes[v].layer = vnodes[v].floor.max(m.saturating_sub(1));
        }
    }

    // 3. Per-layer cap: beyond `cap` boxes, the rest of a layer is summarised per parent.
    let mut rep: Vec<usize> = (0..n).collect();
    let max_layer = vnodes.iter().map(|v| v.layer).max().unwrap_or(0);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); max_layer + 1];
    for v in 0..n {
        by_layer[vnodes[v].layer].push(v);
    }
    let weight = |v: &VNode| match &v.kind {
        VKind::Group { count, .. } => *count,
        _ => 1,
    };
    for layer in by_layer.iter() {
        if layer.len() <= cap {
            continue;
        }
        let mut ranked = layer.clone();
        let degree = |v: usize| preds[v].len() + succs[v].len();
        ranked.sort_by(|&a, &b| {
            let fa = matches!(vnodes[a].kind, VKind::Real(x) if Some(x) == focus);
            let fb = matches!(vnodes[b].kind, VKind::Real(x) if Some(x) == focus);
            fb.cmp(&fa)
                .then(degree(b).cmp(&degree(a)))
                .then_with(|| vnodes[a].key.cmp(&vnodes[b].key))
        });
        let mut more: BTreeMap<String, (Option<usize>, Vec<usize>)> = BTreeMap::new();
        for &v in &ranked[cap..] {
            let parent = preds[v]
                .iter()
                .map(|&p| rep[p])
                .min_by(|&a, &b| vnodes[a].key.cmp(&vnodes[b].key));
            let key = parent.map_or(String::new(), |p| vnodes[p].key.clone());
            more.entry(key)
                .or_insert_with(|| (parent, Vec::new()))
                .1
                .push(v);
        }
        // The largest groups keep their parent; the rest of the overflow shares one box.
        let mut grouped: Vec<(Option<usize>, Vec<usize>)> = more.into_values().collect();
        grouped.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        let mut final_groups: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for (i, (parent, members)) in grouped.into_iter().enumerate() {
            if i < PARENT_GROUPS && members.len() > 1 {
                final_groups.push((parent, members));
            } else {
                rest.extend(members);
            }
        }
        if rest.len() > 1 {
            rest.sort_by(|&a, &b| vnodes[a].key.cmp(&vnodes[b].key));
            final_groups.push((None, rest));
        }
        for (parent, members) in final_groups {
            let types: BTreeSet<String> = members
                .iter()
                .map(|&m| match &vnodes[m].kind {
                    VKind::Real(x) => ty(*x).map_or("node", EntityType::as_str).to_string(),
                    VKind::Group { ty, .. } => ty.clone(),
                    VKind::Dummy => "node".to_string(),
                })
                .collect();
            let gty = if types.len() == 1 {
                types.into_iter().next().unwrap_or_default()
            } else {
                "node".to_string()
            };
            let count = members.iter().map(|&m| weight(&vnodes[m])).sum();
            let decisions = gty == "decision";
            let pid = parent.map(|p| match &vnodes[p].kind {
                VKind::Real(x) => g[*x].id.0.to_string(),
                _ => vnodes[p].key.clone(),
            });
            let v = vnodes.len();
            let layer_no = vnodes[members[0]].layer;
            vnodes.push(VNode {
                kind: VKind::Group {
                    ty: gty,
                    count,
                    parent: pid,
                    decisions,
                    more: true,
                },
                key: format!(
                    "{}\u{10ffff}more",
                    parent.map_or(String::new(), |p| vnodes[p].key.clone())
                ),
                floor: layer_no,
                layer: layer_no,
            });
            rep.push(v);
            for m in members {
                rep[m] = v;
            }
        }
    }
    let fin = |v: usize| {
        let mut v = v;
        while rep[v] != v {
            v = rep[v];
        }
        v
    };
    let mut edges: BTreeMap<(usize, usize, Rel), usize> = BTreeMap::new();
    for (&(a, b, rel), &c) in &vedges {
        let (a, b) = (fin(a), fin(b));
        if a != b {
            *edges.entry((a, b, rel)).or_default() += c;
        }
    }
    let live: Vec<usize> = (0..vnodes.len()).filter(|&v| rep[v] == v).collect();
    let summarised: usize = live
        .iter()
        .filter_map(|&v| match &vnodes[v].kind {
            VKind::Group { count, .. } => Some(*count),
            _ => None,
        })
        .sum();
    let boxes = live.len();

    // 4. Long edges get one dummy point per layer they pass.
    let max_layer = live.iter().map(|&v| vnodes[v].layer).max().unwrap_or(0);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); max_layer + 1];
    for &v in &live {
        layers[vnodes[v].layer].push(v);
    }
    // Each drawn edge: its chain from the left end to the right end, and whether it points left.
    let mut chains: Vec<(Vec<usize>, bool, Rel, usize, usize, usize)> = Vec::new();
    for (&(a, b, rel), &count) in &edges {
        let back = vnodes[a].layer > vnodes[b].layer;
        let (l, r) = if back { (b, a) } else { (a, b) };
        let mut chain = vec![l];
        let (from_layer, to_layer) = (vnodes[l].layer, vnodes[r].layer);
        for (layer, slot) in layers
            .iter_mut()
            .enumerate()
            .take(to_layer)
            .skip(from_layer + 1)
        {
            let d = vnodes.len();
            vnodes.push(VNode {
                kind: VKind::Dummy,
                key: format!("\u{10ffff}{}\u{0}{}", vnodes[a].key, vnodes[b].key),
                floor: layer,
                layer,
            });
            slot.push(d);
            chain.push(d);
        }
        chain.push(r);
        chains.push((chain, back, rel, count, a, b));
    }
    let total = vnodes.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (chain, ..) in &chains {
        for w in chain.windows(2) {
            down[w[0]].push(w[1]);
            up[w[1]].push(w[0]);
        }
    }

    // 5. Crossing reduction: barycenter sweeps, keeping the best ordering.
    for layer in layers.iter_mut() {
        layer.sort_by(|&a, &b| vnodes[a].key.cmp(&vnodes[b].key));
    }
    let mut pos = vec![0usize; total];
    let set_pos = |layers: &Vec<Vec<usize>>, pos: &mut Vec<usize>| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    set_pos(&layers, &mut pos);
    let crossings = |layers: &Vec<Vec<usize>>, pos: &Vec<usize>| -> u64 {
        let mut total = 0u64;
        for l in 0..layers.len().saturating_sub(1) {
            let mut segs: Vec<(usize, usize)> = Vec::new();
            for &v in &layers[l] {
                for &w in &down[v] {
                    segs.push((pos[v], pos[w]));
                }
            }
            segs.sort_unstable();
            let seq: Vec<usize> = segs.iter().map(|s| s.1).collect();
            total += inversions(&seq, layers[l + 1].len());
        }
        total
    };
    let mut best = layers.clone();
    let mut best_x = crossings(&layers, &pos);
    for sweep in 0..8 {
        if best_x == 0 {
            break;
        }
        let downward = sweep % 2 == 0;
        let range: Vec<usize> = if downward {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nb = if downward { &up } else { &down };
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&v| {
                    let list = &nb[v];
                    let b = if list.is_empty() {
                        pos[v] as f64
                    } else {
                        list.iter().map(|&w| pos[w] as f64).sum::<f64>() / list.len() as f64
                    };
                    (b, v)
                })
                .collect();
            keyed.sort_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then_with(|| vnodes[a.1].key.cmp(&vnodes[b.1].key))
            });
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layers[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let x = crossings(&layers, &pos);
        if x < best_x {
            best_x = x;
            best = layers.clone();
        }
    }
    let layers = best;
    set_pos(&layers, &mut pos);

    // 6. Vertical placement: centres pulled towards their neighbours' mean, order kept.
    let height = |v: usize| match vnodes[v].kind {
        VKind::Dummy => 0.0,
        _ => NODE_H,
    };
    let gap = |a: usize, b: usize| {
        let sep =
            if matches!(vnodes[a].kind, VKind::Dummy) || matches!(vnodes[b].kind, VKind::Dummy) {
                8.0
            } else {
                12.0
            };
        (height(a) + height(b)) / 2.0 + sep
    };
    let mut cy = vec![0.0f64; total];
    for layer in &layers {
        let mut y = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                y += gap(layer[i - 1], v);
            }
            cy[v] = y;
        }
    }
    for pass in 0..6 {
        let downward = pass % 2 == 0;
        let range: Vec<usize> = if downward {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nb = if downward { &up } else { &down };
            let layer = &layers[l];
            let want: Vec<f64> = layer
                .iter()
                .map(|&v| {
                    let list = &nb[v];
                    if list.is_empty() {
                        cy[v]
                    } else {
                        list.iter().map(|&w| cy[w]).sum::<f64>() / list.len() as f64
                    }
                })
                .collect();
            let gaps: Vec<f64> = (0..layer.len())
                .map(|i| {
                    if i == 0 {
                        0.0
                    } else {
                        gap(layer[i - 1], layer[i])
                    }
                })
                .collect();
            for (&v, y) in layer.iter().zip(place(&want, &gaps)) {
                cy[v] = y.round();
            }
        }
    }
    let top = layers
        .iter()
        .flatten()
        .map(|&v| cy[v] - height(v) / 2.0)
        .fold(f64::INFINITY, f64::min);
    let top = if top.is_finite() { top } else { 0.0 };
    let y0 = MARGIN + LEGEND_H - top;
    for y in cy.iter_mut() {
        *y += y0;
    }
    let bottom = layers
        .iter()
        .flatten()
        .map(|&v| cy[v] + height(v) / 2.0)
        .fold(MARGIN + LEGEND_H, f64::max);
    let x_of = |v: usize| MARGIN + vnodes[v].layer as f64 * (NODE_W + GAP_X);
    let width = (MARGIN * 2.0 + layers.len() as f64 * (NODE_W + GAP_X) - GAP_X).max(680.0);
    let height_total = if boxes == 0 {
        MARGIN + LEGEND_H + 40.0
    } else {
        bottom + MARGIN
    };

    // 7. Drawing.
    let mut desc = format!(
        "{} node{} and {} edge{}",
        real.len(),
        if real.len() == 1 { "" } else { "s" },
        real_edges,
        if real_edges == 1 { "" } else { "s" },
    );
    if summarised > 0 {
        let _ = write!(
            desc,
            "; {boxes} boxes drawn, {summarised} node{} counted in summary boxes",
            if summarised == 1 { "" } else { "s" }
        );
    }
    if let Some(f) = focus {
        let _ = write!(desc, "; focus {}", g[f].id);
    }
    desc.push_str(". Columns run left to right by stage: data, runs, model versions, deployments, decisions, incidents; arrows point downstream.");
    let mut out = String::with_capacity(512 + boxes * 360 + chains.len() * 200);
    open_svg(&mut out, &id, width, height_total, &title, &desc, "group");
    let _ = write!(
        out,
        "<defs><marker id=\"{id}-a\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#57606a\"/></marker><marker id=\"{id}-r\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#a40e26\"/></marker></defs>"
    );
    // Legend.
    let _ = write!(
        out,
        "<g font-size=\"11\" fill=\"#57606a\"><text x=\"{m}\" y=\"{y1}\">Left to right: data → runs → model versions → deployments → decisions → incidents. Arrows point downstream.</text><text x=\"{m}\" y=\"{y2}\">Dashed box: unresolved (referenced, never registered) · thick box: focus · double box: summary of several nodes</text><line x1=\"{m}\" y1=\"{l3}\" x2=\"{m28}\" y2=\"{l3}\" stroke=\"#57606a\" stroke-width=\"1.3\"/><text x=\"{t1}\" y=\"{y3}\">lineage</text><line x1=\"{a1}\" y1=\"{l3}\" x2=\"{a2}\" y2=\"{l3}\" stroke=\"#a40e26\" stroke-width=\"1.3\" stroke-dasharray=\"2 3\"/><text x=\"{t2}\" y=\"{y3}\">affects (to an incident)</text><line x1=\"{d1}\" y1=\"{l3}\" x2=\"{d2}\" y2=\"{l3}\" stroke=\"#8c959f\" stroke-width=\"1.3\" stroke-dasharray=\"6 4\"/><text x=\"{t3}\" y=\"{y3}\">describes (document)</text></g>",
        m = px(MARGIN),
        m28 = px(MARGIN + 28.0),
        y1 = px(MARGIN + 4.0),
        y2 = px(MARGIN + 18.0),
        y3 = px(MARGIN + 32.0),
        l3 = px(MARGIN + 28.0),
        t1 = px(MARGIN + 34.0),
        a1 = px(MARGIN + 90.0),
        a2 = px(MARGIN + 118.0),
        t2 = px(MARGIN + 124.0),
        d1 = px(MARGIN + 270.0),
        d2 = px(MARGIN + 298.0),
        t3 = px(MARGIN + 304.0),
    );
    if boxes == 0 {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#57606a\">No lineage recorded.</text></svg>",
            px(MARGIN),
            px(MARGIN + LEGEND_H + 20.0)
        );
        return out;
    }
    let name_of = |v: usize| -> String {
        match &vnodes[v].kind {
            VKind::Real(x) => g[*x].id.0.to_string(),
            VKind::Group {
                ty,
                count,
                parent,
                more,
                ..
            } => {
                let what = if *more {
                    format!("{count} more {}", plural(ty, *count))
                } else {
                    format!("{count} {}", plural(ty, *count))
                };
                match parent {
                    Some(p) => format!("{what} of {p}"),
                    None => what,
                }
            }
            VKind::Dummy => String::new(),
        }
    };
    out.push_str("<g fill=\"none\" stroke=\"#57606a\" stroke-width=\"1.3\">");
    for (chain, back, rel, count, a, b) in &chains {
        let mut d = String::new();
        let first = chain[0];
        let _ = write!(d, "M{} {}", px(x_of(first) + NODE_W), px(cy[first]));
        let mut x_prev = x_of(first) + NODE_W;
        let mut y_prev = cy[first];
        for (i, &c) in chain.iter().enumerate().skip(1) {
            let (xe, ye) = (x_of(c), cy[c]);
            let mid = (xe - x_prev) / 2.0;
            let _ = write!(
                d,
                "C{} {} {} {} {} {}",
                px(x_prev + mid),
                px(y_prev),
                px(xe - mid),
                px(ye),
                px(xe),
                px(ye)
            );
            if i + 1 < chain.len() {
                let _ = write!(d, "L{} {}", px(xe + NODE_W), px(ye));
                x_prev = xe + NODE_W;
                y_prev = ye;
            }
        }
        let (stroke, dash, mk) = match rel {
            Rel::Affects => (" stroke=\"#a40e26\"", " stroke-dasharray=\"2 3\"", "r"),
            Rel::Describes => (" stroke=\"#8c959f\"", " stroke-dasharray=\"6 4\"", "a"),
            _ => ("", "", "a"),
        };
        let end = if *back { "start" } else { "end" };
        let times = if *count > 1 {
            format!(" ({count} edges)")
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<path d=\"{d}\"{stroke}{dash} marker-{end}=\"url(#{id}-{mk})\"><title>{} {} {}{}</title></path>",
            esc(&name_of(*a)),
            rel.as_str(),
            esc(&name_of(*b)),
            times
        );
    }
    out.push_str("</g>");
    for layer in &layers {
        for &v in layer {
            let (x, y) = (x_of(v), cy[v] - NODE_H / 2.0);
            match &vnodes[v].kind {
                VKind::Dummy => {}
                VKind::Real(node) => {
                    let nd = &g[*node];
                    let t = nd.id.entity_type();
                    let (fill, stroke) = colours(t);
                    let is_focus = Some(*node) == focus;
                    let href = links::href(&nd.id);
                    let mut tip = nd.id.0.to_string();
                    if nd.label() != nd.id.id() {
                        let _ = write!(tip, " ({})", nd.label());
                    }
                    if nd.unresolved {
                        tip.push_str(" · unresolved: referenced but never registered");
                    }
                    if is_focus {
                        tip.push_str(" · focus");
                    }
                    let mut kind_line = t.map_or("unknown", EntityType::as_str).to_string();
                    if nd.unresolved {
                        kind_line.push_str(" · unresolved");
                    }
                    if is_focus {
                        kind_line.push_str(" · focus");
                    }
                    if let Some(h) = &href {
                        let _ = write!(out, "<a href=\"{}{}\">", esc(base), esc(h));
                    }
                    let _ = write!(
                        out,
                        "<g><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"{}/><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#57606a\">{}</text><text x=\"{}\" y=\"{}\" fill=\"#1b1f24\"{}>{}</text></g>",
                        esc(&tip),
                        px(x),
                        px(y),
                        px(NODE_W),
                        px(NODE_H),
                        if is_focus {
                            "#fff8c5"
                        } else if nd.unresolved {
                            "#ffffff"
                        } else {
                            fill
                        },
                        if is_focus { "3" } else { "1.2" },
                        if nd.unresolved {
                            " stroke-dasharray=\"5 3\""
                        } else {
                            ""
                        },
                        px(x + 6.0),
                        px(y + 13.0),
                        esc(&kind_line),
                        px(x + 6.0),
                        px(y + 29.0),
                        if is_focus { " font-weight=\"700\"" } else { "" },
                        esc(&clip_mid(nd.label(), LABEL_CHARS)),
                    );
                    if href.is_some() {
                        out.push_str("</a>");
                    }
                }
                VKind::Group {
                    ty,
                    count,
                    decisions,
                    more,
                    ..
                } => {
                    let (fill, stroke) = colours(EntityType::parse(ty));
                    let label = if *more {
                        format!("{count} more {}", plural(ty, *count))
                    } else {
                        format!("{count} {}", plural(ty, *count))
                    };
                    if *decisions {
                        let _ = write!(out, "<a href=\"{}decisions.html\">", esc(base));
                    }
                    let _ = write!(
                        out,
                        "<g><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"/><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"none\" stroke=\"{stroke}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#57606a\">summary</text><text x=\"{}\" y=\"{}\" fill=\"#1b1f24\">{}</text></g>",
                        esc(&name_of(v)),
                        px(x),
                        px(y),
                        px(NODE_W),
                        px(NODE_H),
                        px(x + 2.5),
                        px(y + 2.5),
                        px(NODE_W - 5.0),
                        px(NODE_H - 5.0),
                        px(x + 6.0),
                        px(y + 14.0),
                        px(x + 6.0),
                        px(y + 29.0),
                        esc(&clip_mid(&label, LABEL_CHARS)),
                    );
                    if *decisions {
                        out.push_str("</a>");
                    }
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::NodeId;
    use crate::testing::{Case, check_events, ev};

    fn pipeline() -> Vec<Value> {
        vec![
            ev(
                "d1",
                "2026-01-01T00:00:00Z",
                "dataset.registered",
                "dataset:loans@1",
                json!({"name": "loans", "version": "1"}),
            ),
            ev(
                "r1",
                "2026-01-02T00:00:00Z",
                "run.completed",
                "run:train-1",
                json!({"job": "train", "status": "completed", "inputs": ["dataset:loans@1"]}),
            ),
            ev(
                "m1",
                "2026-01-03T00:00:00Z",
                "model.registered",
                "model_version:risk@1.0",
                json!({"model": "risk", "version": "1.0", "training_run": "train-1", "datasets": [{"id": "loans@1", "role": "train"}]}),
            ),
            ev(
                "p1",
                "2026-01-04T00:00:00Z",
                "deployment.started",
                "deployment:prod",
                json!({"model_version": "risk@1.0"}),
            ),
        ]
    }

    fn all(case: &Case) -> BTreeSet<NodeIndex> {
        case.loaded.graph.select(None, None).unwrap()
    }

    fn node(case: &Case, id: &str) -> NodeIndex {
        case.loaded
            .graph
            .node(&NodeId::parse(id).unwrap())
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    /// The x of the box whose `<title>` starts with `id`.
    fn box_x(svg: &str, id: &str) -> f64 {
        let at = svg
            .find(&format!("<g><title>{}", esc(id)))
            .unwrap_or_else(|| panic!("no box for {id} in {svg}"));
        let rest = &svg[at..];
        let x = rest.find("<rect x=\"").unwrap() + 9;
        let end = rest[x..].find('"').unwrap();
        rest[x..x + end].parse().unwrap()
    }

    #[test]
    fn layers_run_from_data_to_deployment() {
        let case = check_events(&pipeline(), "");
        let svg = lineage(&case.loaded.graph, &all(&case), None, "../");
        let d = box_x(&svg, "dataset:loans@1");
        let r = box_x(&svg, "run:train-1");
        let m = box_x(&svg, "model_version:risk@1.0");
        let p = box_x(&svg, "deployment:prod");
        assert!(d < r && r < m && m < p, "{d} {r} {m} {p}");
        assert!(svg.contains("role=\"group\""));
        assert!(svg.contains("aria-labelledby=\"lg-"));
        assert!(svg.contains("<title id=\"lg-"));
        assert!(svg.contains("<desc id=\"lg-"));
        assert!(svg.contains("4 nodes and 4 edges"), "{svg}");
        assert!(
            svg.contains("<a href=\"../models/risk/1.0.html\">"),
            "{svg}"
        );
        let ds = links::href(&NodeId::parse("dataset:loans@1").unwrap()).unwrap();
        assert!(svg.contains(&format!("<a href=\"../{ds}\">")), "{svg}");
        assert!(svg.contains("<a href=\"../lineage.html#run-train-1\">"));
        assert!(svg.contains("<title>dataset:loans@1 consumes run:train-1</title>"));
        // A dataset trained on directly spans two layers: drawn through a dummy point.
        assert!(svg.contains("<title>dataset:loans@1 trained_on model_version:risk@1.0</title>"));
    }

    #[test]
    fn output_is_deterministic() {
        let a = check_events(&pipeline(), "");
        let b = check_events(&pipeline(), "");
        let f = Some(node(&a, "model_version:risk@1.0"));
        let one = lineage(&a.loaded.graph, &all(&a), f, "");
        assert_eq!(one, lineage(&a.loaded.graph, &all(&a), f, ""));
        assert_eq!(one, lineage(&b.loaded.graph, &all(&b), f, ""));
        let s = vec![Series {
            label: "auc".into(),
            points: vec![
                (Timestamp::from_second(1_767_225_600).unwrap(), 0.81),
                (Timestamp::from_second(1_767_312_000).unwrap(), 0.79),
            ],
        }];
        assert_eq!(
            line_chart("AUC", &s, Some(0.75), None),
            line_chart("AUC", &s, Some(0.75), None)
        );
    }

    #[test]
    fn focus_and_unresolved_are_marked_in_text() {
        let mut events = pipeline();
        events.push(ev(
            "p2",
            "2026-01-05T00:00:00Z",
            "deployment.started",
            "deployment:shadow",
            json!({"model_version": "risk@9.9"}),
        ));
        let case = check_events(&events, "");
        let f = node(&case, "model_version:risk@1.0");
        let svg = lineage(&case.loaded.graph, &all(&case), Some(f), "");
        assert!(svg.contains("model_version · unresolved"), "{svg}");
        assert!(svg.contains("stroke-dasharray=\"5 3\""));
        assert!(svg.contains("model_version · focus"));
        assert!(svg.contains("stroke-width=\"3\""));
        assert!(
            svg.contains("<title id=\"lg-")
                && svg.contains(">Lineage of model_version:risk@1.0</title>")
        );
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let bad = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
        let case = check_events(
            &[
                ev(
                    "d1",
                    "2026-01-01T00:00:00Z",
                    "dataset.registered",
                    &format!("dataset:{bad}"),
                    json!({"name": "x", "version": "1"}),
                ),
                ev(
                    "r1",
                    "2026-01-02T00:00:00Z",
                    "run.completed",
                    "run:r",
                    json!({"job": "j", "status": "completed", "inputs": [format!("dataset:{bad}")]}),
                ),
            ],
            "",
        );
        let svg = lineage(&case.loaded.graph, &all(&case), None, "\"><b>");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<img"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        let line = line_chart(
            bad,
            &[Series {
                label: bad.into(),
                points: vec![(Timestamp::UNIX_EPOCH, 1.0)],
            }],
            None,
            Some(2.0),
        );
        assert!(
            !line.contains("<script") && !line.contains("<img"),
            "{line}"
        );
        assert!(line.contains("&lt;script&gt;"));
        let bars = bar_chart(
            bad,
            &[Bar {
                label: bad.into(),
                segments: vec![(bad.into(), 3)],
            }],
        );
        assert!(
            !bars.contains("<script") && !bars.contains("<img"),
            "{bars}"
        );
        assert!(bars.contains("&lt;script&gt;"));
    }

    #[test]
    fn empty_inputs_still_give_titled_svg() {
        let case = check_events(&pipeline(), "");
        let svg = lineage(&case.loaded.graph, &BTreeSet::new(), None, "");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("0 nodes and 0 edges"));
        assert!(svg.contains("No lineage recorded."));
        let line = line_chart("Empty", &[], None, None);
        assert!(line.contains(">Empty</title>") && line.contains("No data points"));
        let line = line_chart(
            "No points",
            &[Series {
                label: "a".into(),
                points: vec![(Timestamp::UNIX_EPOCH, f64::NAN)],
            }],
            Some(1.0),
            None,
        );
        assert!(line.contains("No data points"), "{line}");
        let bars = bar_chart("None", &[]);
        assert!(bars.contains(">None</title>") && bars.contains("No data"));
        assert!(bars.contains("0 bars, 0 in total"));
    }

    fn big_case() -> Case {
        let mut events = Vec::new();
        let mut t = 0u32;
        let mut ts = || {
            t += 1;
            format!(
                "2026-01-{:02}T{:02}:{:02}:00Z",
                1 + t / 1440,
                (t / 60) % 24,
                t % 60
            )
        };
        for i in 0..120 {
            events.push(ev(
                &format!("d{i}"),
                &ts(),
                "dataset.registered",
                &format!("dataset:raw-{i:03}@1"),
                json!({"name": format!("raw-{i:03}"), "version": "1"}),
            ));
        }
        for i in 0..120 {
            events.push(ev(
                &format!("r{i}"),
                &ts(),
                "run.completed",
                &format!("run:build-{i:03}"),
                json!({"job": "build", "status": "completed",
                       "inputs": [format!("dataset:raw-{i:03}@1"), format!("dataset:raw-{:03}@1", (i * 7) % 120)],
                       "outputs": [format!("dataset:clean-{i:03}@1")]}),
            ));
        }
        for i in 0..40 {
            events.push(ev(
                &format!("m{i}"),
                &ts(),
                "model.registered",
                &format!("model_version:m{i:02}@1.0"),
                json!({"model": format!("m{i:02}"), "version": "1.0",
                       "datasets": [{"id": format!("clean-{:03}@1", i * 3), "role": "train"}, {"id": format!("clean-{:03}@1", i * 3 + 1), "role": "test"}]}),
            ));
            events.push(ev(
                &format!("p{i}"),
                &ts(),
                "deployment.started",
                &format!("deployment:dep-{i:02}"),
                json!({"model_version": format!("m{i:02}@1.0")}),
            ));
        }
        for i in 0..100 {
            let m = i % 5;
            events.push(ev(
                &format!("x{i}"),
                &ts(),
                "decision.made",
                &format!("decision:x{i:04}"),
                json!({"deployment": format!("dep-{m:02}"), "model_version": format!("m{m:02}@1.0")}),
            ));
        }
        check_events(&events, "")
    }

    #[test]
    fn a_500_node_graph_stays_small_and_collapses_decisions() {
        let case = big_case();
        let nodes = all(&case);
        assert!(nodes.len() >= 500, "{}", nodes.len());
        let svg = lineage(&case.loaded.graph, &nodes, None, "../");
        assert!(svg.len() < 600_000, "{} bytes", svg.len());
        assert!(
            svg.contains("20 decisions"),
            "decisions collapsed per parent"
        );
        assert!(!svg.contains("decision:x0001"));
        assert!(svg.contains("href=\"../decisions.html\""));
        assert!(
            svg.contains("more datasets"),
            "the per-layer cap summarises"
        );
        // Layers never hold more boxes than the cap plus one summary per parent.
        let capped = lineage_with(
            &case.loaded.graph,
            &nodes,
            None,
            "",
            &LineageOptions {
                title: Some("Capped"),
                layer_cap: 10,
            },
        );
        assert!(capped.len() < svg.len());
        assert!(capped.contains(">Capped</title>"));
    }

    #[test]
    fn cycles_are_drawn_without_looping() {
        let case = check_events(
            &[
                ev(
                    "d1",
                    "2026-01-01T00:00:00Z",
                    "dataset.registered",
                    "dataset:a@1",
                    json!({"name": "a", "version": "1"}),
                ),
                ev(
                    "d2",
                    "2026-01-01T00:00:00Z",
                    "dataset.registered",
                    "dataset:b@1",
                    json!({"name": "b", "version": "1"}),
                ),
                ev(
                    "r1",
                    "2026-01-02T00:00:00Z",
                    "run.completed",
                    "run:r1",
                    json!({"job": "j", "status": "completed", "inputs": ["dataset:a@1"], "outputs": ["dataset:b@1"]}),
                ),
                ev(
                    "r2",
                    "2026-01-03T00:00:00Z",
                    "run.completed",
                    "run:r2",
                    json!({"job": "j", "status": "completed", "inputs": ["dataset:b@1"], "outputs": ["dataset:a@1"]}),
                ),
            ],
            "",
        );
        let svg = lineage(&case.loaded.graph, &all(&case), None, "");
        assert!(svg.contains("4 nodes and 4 edges"), "{svg}");
        assert!(
            svg.contains("marker-start="),
            "an edge against the flow points back"
        );
    }

    #[test]
    fn line_chart_has_axes_thresholds_and_legend() {
        let day = |d: i64| Timestamp::from_second(1_767_225_600 + d * 86_400).unwrap();
        let s = vec![
            Series {
                label: "psi prod".into(),
                points: (0..30).map(|d| (day(d), 0.1 + d as f64 / 100.0)).collect(),
            },
            Series {
                label: "psi shadow".into(),
                points: vec![(day(3), 0.05)],
            },
        ];
        let svg = line_chart("PSI", &s, Some(0.0), Some(0.25));
        assert!(svg.contains(">2026-01-01<"), "{svg}");
        assert!(svg.contains("max 0.25") && svg.contains("min 0"));
        assert!(svg.contains("stroke-dasharray=\"5 4\""));
        assert!(svg.contains(">psi prod</text>") && svg.contains(">psi shadow</text>"));
        assert!(svg.contains("threshold (min / max)"));
        assert!(svg.contains("psi shadow: 0.05 at 2026-01-04T00:00:00Z"));
        assert!(
            svg.contains("stroke-dasharray=\"6 3\""),
            "second series dashed"
        );
        assert!(svg.contains("2 series, 31 points from 2026-01-01 to 2026-01-30"));
    }

    #[test]
    fn bar_chart_thins_labels_for_hundreds_of_bars() {
        let bars: Vec<Bar> = (0..400)
            .map(|i| Bar {
                label: format!("day-{i:03}"),
                segments: vec![
                    ("automated".into(), 10 + i % 7),
                    ("overridden".into(), i % 3),
                ],
            })
            .collect();
        let svg = bar_chart("Decisions per day", &bars);
        let labels = svg
            .matches("text-anchor=\"middle\" font-size=\"11\"")
            .count();
        assert!((5..=9).contains(&labels), "{labels}");
        assert!(svg.contains(">automated</text>") && svg.contains(">overridden</text>"));
        assert!(
            svg.contains("<pattern"),
            "second segment has a fill pattern"
        );
        assert!(svg.contains("day-005 · overridden: 2"));
        assert!(svg.len() < 400_000, "{}", svg.len());
        let one = bar_chart(
            "One",
            &[Bar {
                label: "2026-01-01".into(),
                segments: vec![("automated".into(), 0)],
            }],
        );
        assert!(one.contains(">2026-01-01</text>"));
    }

    #[test]
    fn coordinates_are_integers_or_one_decimal() {
        assert_eq!(px(1.0), "1");
        assert_eq!(px(-0.04), "0");
        assert_eq!(px(2.25), "2.3");
        assert_eq!(px(-1.5), "-1.5");
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(nice_step(0.23), 0.5);
        assert_eq!(inversions(&[2, 1, 0], 3), 3);
        assert_eq!(place(&[5.0, 5.0], &[0.0, 10.0]), vec![0.0, 10.0]);
        assert_eq!(
            clip_mid("risk/credit-holdout@2026-01", 20),
            "risk/cr…dout@2026-01"
        );
        assert_eq!(clip_mid("short", 20), "short");
    }
}
