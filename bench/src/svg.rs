//! `summary.svg`, drawn by hand: throughput over time (top) and latency
//! over time (bottom, p99 solid and p50 dashed), one colour per operation,
//! with labelled axes and a legend. Plain SVG 1.1 that any browser opens.
//!
//! Only the time series goes in; the numbers come from `crate::stats`.

use std::fmt::Write as _;

use crate::args::Op;
use crate::stats::TimePoint;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 720.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const PANEL_H: f64 = 240.0;
const TOP_PANEL_Y: f64 = 100.0;
const BOTTOM_PANEL_Y: f64 = 420.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// About five round tick values from 0 to at least `max`.
fn ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let n = (max / step).ceil() as usize;
    (0..=n.max(1)).map(|i| i as f64 * step).collect()
}

/// Short labels: 1500 → `1.5k`, 2000000 → `2M`.
fn label(v: f64) -> String {
    let (v, suffix) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One panel's coordinate system.
struct Panel {
    top: f64,
    x_max: f64,
    y_max: f64,
}

impl Panel {
    fn x(&self, v: f64) -> f64 {
        LEFT + v / self.x_max * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        self.top + PANEL_H - v / self.y_max * PANEL_H
    }

    /// Frame, grid, tick labels and axis titles.
    fn axes(&self, out: &mut String, x_ticks: &[f64], y_ticks: &[f64], title: &str, y_label: &str) {
        let (left, right) = (LEFT, WIDTH - RIGHT);
        let bottom = self.top + PANEL_H;
        let _ = writeln!(
            out,
            r##"<text x="{left}" y="{:.1}" font-size="15" font-weight="bold">{}</text>"##,
            self.top - 12.0,
            escape(title)
        );
        for &t in y_ticks {
            let y = self.y(t);
            let _ = writeln!(
                out,
                r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
                left - 6.0,
                y + 4.0,
                label(t)
            );
        }
        for &t in x_ticks {
            let x = self.x(t);
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#555"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
                bottom + 5.0,
                bottom + 18.0,
                label(t)
            );
        }
        let _ = writeln!(
            out,
            r##"<rect x="{left}" y="{:.1}" width="{:.1}" height="{PANEL_H}" fill="none" stroke="#555"/>"##,
            self.top,
            right - left
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">elapsed time (s)</text>"##,
            (left + right) / 2.0,
            bottom + 36.0
        );
        let cy = self.top + PANEL_H / 2.0;
        let _ = writeln!(
            out,
            r##"<text x="22" y="{cy:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 22 {cy:.1})">{}</text>"##,
            escape(y_label)
        );
    }

    /// A line through `points`, broken where a point is `None`.
    fn line(&self, out: &mut String, points: &[(f64, Option<f64>)], color: &str, dashed: bool) {
        let dash = if dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        for run in points.split(|(_, y)| y.is_none()) {
            if run.is_empty() {
                continue;
            }
            let coords: Vec<String> = run
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", self.x(*x), self.y(y.unwrap_or(0.0))))
                .collect();
            if coords.len() == 1 {
                let (x, y) = (self.x(run[0].0), self.y(run[0].1.unwrap_or(0.0)));
                let _ = writeln!(
                    out,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{color}"/>"#
                );
            } else {
                let _ = writeln!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>"#,
                    coords.join(" ")
                );
            }
        }
    }
}

/// The whole plot as an SVG document.
pub fn plot(series: &[TimePoint], ops: &[Op], title: &str) -> String {
    let x_max_raw = series.iter().map(|p| p.elapsed_s).fold(0.0, f64::max);
    // A window ends a few ms past the whole second; do not add a tick for it.
    let x_ticks = ticks((x_max_raw - 0.05).max(1.0));
    let x_max = *x_ticks.last().unwrap_or(&1.0);
    let rate_ticks = ticks(
        series
            .iter()
            .map(TimePoint::ops_per_sec)
            .fold(0.0, f64::max),
    );
    let lat_ticks = ticks(
        series
            .iter()
            .map(|p| p.p99_us.max(p.p50_us) as f64)
            .fold(0.0, f64::max),
    );
    let top = Panel {
        top: TOP_PANEL_Y,
        x_max,
        y_max: *rate_ticks.last().unwrap_or(&1.0),
    };
    let bottom = Panel {
        top: BOTTOM_PANEL_Y,
        x_max,
        y_max: *lat_ticks.last().unwrap_or(&1.0),
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="30" font-size="17" font-weight="bold">{}</text>"#,
        escape(title)
    );

    // Legend: one entry per operation, then the line styles.
    let mut x = LEFT;
    for (i, op) in ops.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            out,
            r#"<line x1="{x:.1}" y1="52" x2="{:.1}" y2="52" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="56" font-size="12">{}</text>"#,
            x + 24.0,
            x + 30.0,
            op
        );
        x += 40.0 + 8.0 * op.name().len() as f64;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x:.1}" y1="52" x2="{:.1}" y2="52" stroke="#333" stroke-width="1.8"/><text x="{:.1}" y="56" font-size="12">p99</text><line x1="{:.1}" y1="52" x2="{:.1}" y2="52" stroke="#333" stroke-width="1.8" stroke-dasharray="6 4"/><text x="{:.1}" y="56" font-size="12">p50 (latency panel)</text>"##,
        x + 24.0,
        x + 30.0,
        x + 70.0,
        x + 94.0,
        x + 100.0
    );

    top.axes(
        &mut out,
        &x_ticks,
        &rate_ticks,
        "Throughput",
        "operations per second",
    );
    bottom.axes(&mut out, &x_ticks, &lat_ticks, "Latency", "latency (µs)");
    if series.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">no data</text>"#,
            WIDTH / 2.0,
            TOP_PANEL_Y + PANEL_H / 2.0
        );
    }
    for (i, op) in ops.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<&TimePoint> = series.iter().filter(|p| p.op == *op).collect();
        let rate: Vec<(f64, Option<f64>)> = points
            .iter()
            .map(|p| (p.elapsed_s, Some(p.ops_per_sec())))
            .collect();
        top.line(&mut out, &rate, color, false);
        let lat = |f: fn(&TimePoint) -> u64| -> Vec<(f64, Option<f64>)> {
            points
                .iter()
                .map(|p| (p.elapsed_s, (p.ops > 0).then(|| f(p) as f64)))
                .collect()
        };
        bottom.line(&mut out, &lat(|p| p.p99_us), color, false);
        bottom.line(&mut out, &lat(|p| p.p50_us), color, true);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64, op: Op, ops: u64, p50: u64, p99: u64) -> TimePoint {
        TimePoint {
            elapsed_s: t,
            window_s: 1.0,
            op,
            ops,
            errors: 0,
            p50_us: p50,
            p99_us: p99,
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(7300.0), vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0]);
        let unit = ticks(0.0);
        assert_eq!(unit.len(), 6);
        assert!((unit[5] - 1.0).abs() < 1e-9);
        assert_eq!(label(2500.0), "2.5k");
        assert_eq!(label(3_000_000.0), "3M");
        assert_eq!(label(40.0), "40");
    }

    #[test]
    fn plot_draws_a_line_per_operation_and_a_legend() {
        let series = vec![
            point(1.0, Op::Get, 100, 50, 90),
            point(1.0, Op::Put, 80, 70, 200),
            point(2.0, Op::Get, 120, 55, 95),
            point(2.0, Op::Put, 0, 0, 0),
            point(3.0, Op::Get, 110, 52, 99),
            point(3.0, Op::Put, 90, 75, 210),
        ];
        let svg = plot(&series, &[Op::Get, Op::Put], "a <b> & c");
        assert!(svg.starts_with("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.contains(">get</text>") && svg.contains(">put</text>"));
        assert!(svg.contains("elapsed time (s)"));
        assert!(svg.contains("operations per second"));
        // Throughput: one line each; latency for get: p99 + p50 lines;
        // put's latency breaks at the empty window into single points.
        assert_eq!(svg.matches("<polyline").count(), 2 + 2);
        assert_eq!(svg.matches("<circle").count(), 4);
        // Dashed: the legend sample and get's p50 line (put's are points).
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
    }

    #[test]
    fn empty_series_still_makes_a_document() {
        let svg = plot(&[], &[Op::Get], "t");
        assert!(svg.contains("no data"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
