//! Hand-written SVG charts for the HTML report: scales, "nice" axis ticks, escaping, a
//! colour-blind-safe palette, and three chart kinds (lines with bands, grouped bars with
//! error bars, a diverging heat map). Pure functions from data to SVG text; no I/O.
//!
//! Every chart is an `<svg class="chart">` with a `<title>` (for screen readers and tooltips),
//! a visible title, labelled axes with units, tick labels and a legend.

use std::fmt::Write;

/// The Okabe–Ito palette (colour-blind safe), without its yellow (too faint on white).
/// Series beyond seven reuse the colours with dashes (see [`dash`]).
pub(crate) const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
];

/// The colour of series `k`.
pub(crate) fn colour(k: usize) -> &'static str {
    PALETTE[k % PALETTE.len()]
}

/// The dash pattern of series `k` (solid for the first seven, then dashed, then dotted).
pub(crate) fn dash(k: usize) -> &'static str {
    match (k / PALETTE.len()) % 3 {
        0 => "",
        1 => "6 3",
        _ => "2 2",
    }
}

/// Escape text for SVG and HTML (element content and attribute values).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Shorten `s` to at most `max` characters, with an ellipsis.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A linear map from the data interval `[d0, d1]` to the pixel interval `[r0, r1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    pub(crate) fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        Scale {
            d0: domain.0,
            d1: domain.1,
            r0: range.0,
            r1: range.1,
        }
    }
    /// The pixel position of `v` (the middle of the range for a degenerate domain).
    pub(crate) fn map(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            (self.r0 + self.r1) / 2.0
        } else {
            self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
        }
    }
}

/// The "nice" step (1, 2, 2.5 or 5 times a power of ten) that splits `span` into at most
/// `max_ticks` intervals.
pub(crate) fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span / max_ticks.max(1) as f64;
    if !(raw > 0.0) || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Axis ticks for data in `[lo, hi]`: multiples of a nice step covering the data, at most
/// about `max_ticks + 1` of them. A degenerate or empty interval is widened around its value.
/// Returns the ticks; the first and last are the axis limits.
pub(crate) fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-12 * lo.abs().max(1.0) {
        let w = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= w;
        hi += w;
    }
    let step = nice_step(hi - lo, max_ticks);
    // A tolerance so that data exactly on a multiple of the step does not add a tick.
    let start = (lo / step + 1e-9).floor();
    let end = (hi / step - 1e-9).ceil();
    let n = ((end - start) as usize).min(100);
    (0..=n)
        .map(|k| {
            let v = (start + k as f64) * step;
            // Remove floating noise such as 0.30000000000000004 and -0.
            let p = 10f64.powi(decimals_for(step) as i32);
            let r = (v * p).round() / p;
            if r.abs() < step * 1e-9 {
                0.0
            } else {
                r
            }
        })
        .collect()
}

/// Integer ticks (years) inside `[lo, hi]`: multiples of a step of 1, 2, 5, 10, 20, 25, 50 or
/// 100 years, at most about `max_ticks` of them. A single year gets a tick on each side.
pub(crate) fn year_ticks(lo: i32, hi: i32, max_ticks: usize) -> Vec<i32> {
    let (lo, hi) = if lo == hi {
        (lo - 1, hi + 1)
    } else {
        (lo.min(hi), lo.max(hi))
    };
    let span = hi - lo;
    let max = max_ticks.clamp(1, 1000) as i32;
    let step: i32 = [1, 2, 5, 10, 20, 25, 50, 100]
        .into_iter()
        .find(|&s| span / s < max)
        .unwrap_or((span / max / 100 + 1) * 100);
    let first = lo + (step - lo.rem_euclid(step)) % step;
    (0..)
        .map(|k| first + k * step)
        .take_while(|&t| t <= hi)
        .collect()
}

/// Number of decimals that distinguishes ticks `step` apart.
pub(crate) fn decimals_for(step: f64) -> usize {
    if !(step > 0.0) || step >= 1.0 {
        if (step - step.round()).abs() < 1e-9 || !(step > 0.0) {
            0
        } else {
            1
        }
    } else {
        let d = (-step.log10()).ceil() as usize;
        // 0.25 needs two decimals, 0.5 one.
        if ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-9 {
            d + 1
        } else {
            d
        }
    }
}

/// Format a number with `decimals`, with a true minus sign and no "-0".
pub(crate) fn fmt_num(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "n/a".into()
        } else if v > 0.0 {
            "+∞".into()
        } else {
            "−∞".into()
        };
    }
    let s = format!("{:.*}", decimals, v);
    let zero = s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.');
    if zero {
        s.trim_start_matches('-').to_string()
    } else if let Some(rest) = s.strip_prefix('-') {
        format!("−{rest}")
    } else {
        s
    }
}

/// A line series: points `(x, y)` (x is usually a year) and an optional band `(x, lo, hi)`.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// The line's points `(x, y)`, in the order drawn; non-finite values are left out.
    pub points: Vec<(f64, f64)>,
    /// A shaded band `(x, lo, hi)` around the line (e.g. the 5th and 95th percentiles over a
    /// batch's draws); empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw thicker (an aggregate line).
    pub emphasis: bool,
    /// Draw dashed whatever its position (to tell apart lines that may overlap).
    pub dashed: bool,
}

/// A line chart over years.
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    /// The chart's title, shown above it and as the SVG's `<title>` (its accessible name).
    pub title: String,
    /// The label of the x axis (e.g. "year").
    pub x_label: String,
    /// The label of the y axis, with its unit (e.g. "% change against the base year").
    pub y_label: String,
    /// The lines, drawn in order with the report's palette and dashes.
    pub series: Vec<Series>,
    /// Draw a line at y = 0.
    pub zero_line: bool,
    /// Text under the legend (e.g. "bands: 5th–95th percentile").
    pub legend_note: Option<String>,
}

const W: f64 = 840.0;
const H: f64 = 360.0;
const ML: f64 = 72.0;
const MR: f64 = 240.0;
const MT: f64 = 44.0;
const MB: f64 = 56.0;

fn open_svg(out: &mut String, w: f64, h: f64, title: &str, kind: &str) {
    let _ = write!(
        out,
        r##"<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title><rect class="bg" x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/><text class="title" x="{tx}" y="22" font-size="15" font-weight="600">{tt}</text>"##,
        t = esc(title),
        tt = esc(&truncate(title, 95)),
        tx = 10
    );
}

fn axis_labels(out: &mut String, x_label: &str, y_label: &str, w: f64, h: f64) {
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x}" y="{y}" text-anchor="middle" font-size="12">{l}</text>"#,
        x = ML + (w - ML - MR) / 2.0,
        y = h - 12.0,
        l = esc(x_label)
    );
    let cy = MT + (h - MT - MB) / 2.0;
    let _ = write!(
        out,
        r#"<text class="axis-label" x="16" y="{cy}" text-anchor="middle" font-size="12" transform="rotate(-90 16 {cy})">{l}</text>"#,
        l = esc(y_label)
    );
}

/// Y axis with grid lines; returns the scale.
fn y_axis(out: &mut String, ticks: &[f64], w: f64, h: f64) -> Scale {
    let lo = ticks.first().copied().unwrap_or(0.0);
    let hi = ticks.last().copied().unwrap_or(1.0);
    let ys = Scale::new((lo, hi), (h - MB, MT));
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let d = decimals_for(step);
    out.push_str(r#"<g class="y-axis">"#);
    for &t in ticks {
        let y = ys.map(t);
        let _ = write!(
            out,
            r##"<line x1="{ML}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e0e0e0" stroke-width="1"/><text x="{tx}" y="{ty:.1}" text-anchor="end" font-size="11">{l}</text>"##,
            x2 = w - MR,
            tx = ML - 6.0,
            ty = y + 4.0,
            l = fmt_num(t, d)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{ML}" x2="{ML}" y1="{MT}" y2="{y2}" stroke="#444" stroke-width="1"/></g>"##,
        y2 = h - MB
    );
    ys
}

fn legend(out: &mut String, entries: &[(String, usize, bool)], note: Option<&str>, w: f64) {
    let x = w - MR + 14.0;
    out.push_str(r#"<g class="legend">"#);
    let max = ((H - MT - 30.0) / 18.0) as usize;
    for (k, (name, style, emphasis)) in entries.iter().enumerate().take(max) {
        let y = MT + 8.0 + 18.0 * k as f64;
        let _ = write!(
            out,
            r#"<line x1="{x}" x2="{x2}" y1="{y}" y2="{y}" stroke="{c}" stroke-width="{sw}" stroke-dasharray="{d}"/><circle cx="{cx}" cy="{y}" r="3" fill="{c}"/><text x="{tx}" y="{ty}" font-size="12"><title>{full}</title>{n}</text>"#,
            x2 = x + 22.0,
            cx = x + 11.0,
            c = colour(*style),
            d = dash(*style),
            sw = if *emphasis { 3.5 } else { 2.0 },
            tx = x + 28.0,
            ty = y + 4.0,
            full = esc(name),
            n = esc(&truncate(name, 27))
        );
    }
    if entries.len() > max {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}" font-size="11" font-style="italic">… {m} more (see the table)</text>"#,
            y = MT + 8.0 + 18.0 * max as f64,
            m = entries.len() - max
        );
    }
    if let Some(n) = note {
        let y = MT + 8.0 + 18.0 * entries.len().min(max + 1) as f64 + 6.0;
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" font-size="11" fill="#555">{n}</text>"##,
            n = esc(&truncate(n, 32))
        );
    }
    out.push_str("</g>");
}

/// A line chart with markers, optional bands and a legend. X values are years.
pub fn line_chart(c: &LineChart) -> String {
    let mut out = String::new();
    open_svg(&mut out, W, H, &c.title, "line-chart");
    let xs: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|v| v.is_finite())
        .collect();
    let mut ys: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .filter(|v| v.is_finite())
        .collect();
    if c.zero_line {
        ys.push(0.0);
    }
    let (xlo, xhi) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (xlo, xhi) = if xlo.is_finite() {
        (xlo.round() as i32, xhi.round() as i32)
    } else {
        (0, 1)
    };
    let xt = year_ticks(xlo, xhi, 12);
    // The axis spans the data (a year either side of a single year).
    let (xlo, xhi) = if xlo == xhi {
        (xlo - 1, xhi + 1)
    } else {
        (xlo, xhi)
    };
    let (ylo, yhi) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let yt = nice_ticks(ylo, yhi, 6);
    let y = y_axis(&mut out, &yt, W, H);
    // With one year, keep the point in the middle with a year either side.
    let x = Scale::new((xlo as f64, xhi as f64), (ML + 12.0, W - MR - 12.0));
    out.push_str(r#"<g class="x-axis">"#);
    let label_every = (xt.len() / 12).max(1);
    for (k, &t) in xt.iter().enumerate() {
        let px = x.map(t as f64);
        let _ = write!(
            out,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{y0}" y2="{y1}" stroke="#444"/>"##,
            y0 = H - MB,
            y1 = H - MB + 5.0
        );
        if k % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{px:.1}" y="{ty}" text-anchor="middle" font-size="11">{t}</text>"#,
                ty = H - MB + 18.0
            );
        }
    }
    let _ = write!(
        out,
        r##"<line x1="{ML}" x2="{x2}" y1="{y0}" y2="{y0}" stroke="#444"/></g>"##,
        x2 = W - MR,
        y0 = H - MB
    );
    if c.zero_line && yt.first().is_some_and(|&v| v < 0.0) {
        let _ = write!(
            out,
            r##"<line class="zero" x1="{ML}" x2="{x2}" y1="{y0:.1}" y2="{y0:.1}" stroke="#222" stroke-width="1.2"/>"##,
            x2 = W - MR,
            y0 = y.map(0.0)
        );
    }
    axis_labels(&mut out, &c.x_label, &c.y_label, W, H);
    // Bands first, then lines on top.
    for (k, s) in c.series.iter().enumerate() {
        let band: Vec<&(f64, f64, f64)> = s
            .band
            .iter()
            .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
            .collect();
        if band.is_empty() {
            continue;
        }
        let mut d = String::new();
        for (m, b) in band.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if m == 0 { "M" } else { " L" },
                x.map(b.0),
                y.map(b.2)
            );
        }
        for b in band.iter().rev() {
            let _ = write!(d, " L{:.1},{:.1}", x.map(b.0), y.map(b.1));
        }
        // A single year: a vertical bar for the band.
        if band.len() == 1 {
            let b = band[0];
            let _ = write!(
                out,
                r#"<rect class="band" x="{bx:.1}" y="{by:.1}" width="8" height="{bh:.1}" fill="{c}" fill-opacity="0.25"><title>{n}: {lo}–{hi}</title></rect>"#,
                bx = x.map(b.0) - 4.0,
                by = y.map(b.2),
                bh = (y.map(b.1) - y.map(b.2)).max(1.0),
                c = colour(k),
                n = esc(&s.name),
                lo = fmt_num(b.1, 2),
                hi = fmt_num(b.2, 2)
            );
        } else {
            let _ = write!(
                out,
                r#"<path class="band" d="{d} Z" fill="{c}" fill-opacity="0.18" stroke="none"/>"#,
                c = colour(k)
            );
        }
    }
    for (k, s) in c.series.iter().enumerate() {
        let pts: Vec<&(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if pts.is_empty() {
            continue;
        }
        let mut d = String::new();
        for (m, p) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if m == 0 { "M" } else { " L" },
                x.map(p.0),
                y.map(p.1)
            );
        }
        let _ = write!(
            out,
            r#"<path class="series" d="{d}" fill="none" stroke="{c}" stroke-width="{sw}" stroke-dasharray="{da}"><title>{n}</title></path>"#,
            c = colour(k),
            sw = if s.emphasis { 3.5 } else { 2.0 },
            da = if s.dashed { "6 3" } else { dash(k) },
            n = esc(&s.name)
        );
        if pts.len() <= 40 {
            for p in &pts {
                let _ = write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"><title>{n}, {yr}: {v}</title></circle>"#,
                    x.map(p.0),
                    y.map(p.1),
                    c = colour(k),
                    n = esc(&s.name),
                    yr = p.0,
                    v = fmt_num(p.1, 3)
                );
            }
        }
    }
    let entries: Vec<(String, usize, bool)> = c
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            // A dashed series shows dashed in the legend: same colour, the dashed style.
            let style = if s.dashed && k < PALETTE.len() {
                k + PALETTE.len()
            } else {
                k
            };
            (s.name.clone(), style, s.emphasis)
        })
        .collect();
    legend(&mut out, &entries, c.legend_note.as_deref(), W);
    out.push_str("</svg>");
    out
}

/// One bar of a grouped bar chart: value and optional interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bar {
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

/// A grouped bar chart: for every group (an economy), one bar per series (an option).
#[derive(Debug, Clone, Default)]
pub(crate) struct BarChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub groups: Vec<String>,
    pub series: Vec<String>,
    /// `values[series][group]`; `None` draws nothing (no result).
    pub values: Vec<Vec<Option<Bar>>>,
    pub legend_note: Option<String>,
}

/// A grouped bar chart with error bars (intervals) and a legend.
pub(crate) fn bar_chart(c: &BarChart) -> String {
    let mut out = String::new();
    let groups = c.groups.len().max(1);
    let per = c.series.len().max(1);
    let w = (ML + MR + (groups * (per * 14 + 18)) as f64).clamp(W, 1300.0);
    open_svg(&mut out, w, H, &c.title, "bar-chart");
    let mut vals: Vec<f64> = vec![0.0];
    for s in &c.values {
        for b in s.iter().flatten() {
            vals.push(b.value);
            if let Some((lo, hi)) = b.interval {
                vals.push(lo);
                vals.push(hi);
            }
        }
    }
    vals.retain(|v| v.is_finite());
    let yt = nice_ticks(
        vals.iter().copied().fold(f64::INFINITY, f64::min),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        6,
    );
    let y = y_axis(&mut out, &yt, w, H);
    let plot_w = w - ML - MR;
    let gw = plot_w / groups as f64;
    let bw = ((gw - 10.0) / per as f64).clamp(2.0, 40.0);
    let y0 = y.map(0.0);
    for (g, name) in c.groups.iter().enumerate() {
        let gx = ML + gw * g as f64 + (gw - bw * per as f64) / 2.0;
        for (s, series) in c.values.iter().enumerate() {
            let Some(Some(b)) = series.get(g) else {
                continue;
            };
            if !b.value.is_finite() {
                continue;
            }
            let bx = gx + bw * s as f64;
            let yv = y.map(b.value);
            let (top, h) = if yv < y0 {
                (yv, y0 - yv)
            } else {
                (y0, yv - y0)
            };
            let sname = c.series.get(s).map(String::as_str).unwrap_or("");
            let _ = write!(
                out,
                r#"<rect class="bar" x="{bx:.1}" y="{top:.1}" width="{bw1:.1}" height="{h:.1}" fill="{col}"><title>{sn}, {gn}: {v}{iv}</title></rect>"#,
                bw1 = (bw - 1.0).max(1.0),
                h = h.max(0.5),
                col = colour(s),
                sn = esc(sname),
                gn = esc(name),
                v = fmt_num(b.value, 3),
                iv = b
                    .interval
                    .map(|(lo, hi)| format!(" ({}–{})", fmt_num(lo, 3), fmt_num(hi, 3)))
                    .unwrap_or_default()
            );
            if let Some((lo, hi)) = b.interval {
                if lo.is_finite() && hi.is_finite() {
                    let cx = bx + (bw - 1.0) / 2.0;
                    let _ = write!(
                        out,
                        r##"<path class="interval" d="M{cx:.1},{a:.1} L{cx:.1},{b:.1} M{l:.1},{a:.1} L{r:.1},{a:.1} M{l:.1},{b:.1} L{r:.1},{b:.1}" stroke="#222" stroke-width="1.2" fill="none"/>"##,
                        a = y.map(hi),
                        b = y.map(lo),
                        l = cx - (bw / 4.0).min(4.0),
                        r = cx + (bw / 4.0).min(4.0)
                    );
                }
            }
        }
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{ty}" text-anchor="middle" font-size="11"><title>{full}</title>{n}</text>"#,
            x = ML + gw * (g as f64 + 0.5),
            ty = H - MB + 18.0,
            full = esc(name),
            n = esc(&truncate(name, ((gw / 7.0) as usize).max(3)))
        );
    }
    let _ = write!(
        out,
        r##"<line class="zero" x1="{ML}" x2="{x2}" y1="{y0:.1}" y2="{y0:.1}" stroke="#222" stroke-width="1.2"/>"##,
        x2 = w - MR
    );
    axis_labels(&mut out, &c.x_label, &c.y_label, w, H);
    let entries: Vec<(String, usize, bool)> = c
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.clone(), k, false))
        .collect();
    // Bars are filled: draw legend swatches as squares.
    legend_bars(&mut out, &entries, c.legend_note.as_deref(), w);
    out.push_str("</svg>");
    out
}

fn legend_bars(out: &mut String, entries: &[(String, usize, bool)], note: Option<&str>, w: f64) {
    let x = w - MR + 14.0;
    out.push_str(r#"<g class="legend">"#);
    let max = ((H - MT - 30.0) / 18.0) as usize;
    for (k, (name, style, _)) in entries.iter().enumerate().take(max) {
        let y = MT + 8.0 + 18.0 * k as f64;
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{ry}" width="14" height="12" fill="{c}"/><text x="{tx}" y="{ty}" font-size="12"><title>{full}</title>{n}</text>"#,
            ry = y - 6.0,
            c = colour(*style),
            tx = x + 20.0,
            ty = y + 4.0,
            full = esc(name),
            n = esc(&truncate(name, 27))
        );
    }
    if let Some(n) = note {
        let y = MT + 8.0 + 18.0 * entries.len().min(max) as f64 + 6.0;
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" font-size="11" fill="#555">{n}</text>"##,
            n = esc(&truncate(n, 32))
        );
    }
    out.push_str("</g>");
}

/// A heat map of percentage changes: rows × columns, diverging colours around zero.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeatMap {
    pub title: String,
    /// What the rows are (e.g. "exporter").
    pub row_label: String,
    /// What the columns are (e.g. "importer").
    pub col_label: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    /// `values[row][col]`; `None` is drawn grey (no trade).
    pub values: Vec<Vec<Option<f64>>>,
    /// The unit shown on the colour legend (e.g. "% change").
    pub unit: String,
}

/// The diverging colour for `t` in [-1, 1]: blue (negative) – white – orange-brown (positive),
/// the PuOr-like scheme that stays distinguishable with the common colour-vision deficiencies.
pub(crate) fn diverging(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let white = (247.0, 247.0, 247.0);
    let neg = (33.0, 102.0, 172.0); // #2166ac
    let pos = (179.0, 88.0, 6.0); // #b35806
    let (a, b, f) = if t < 0.0 {
        (white, neg, -t)
    } else {
        (white, pos, t)
    };
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// A heat map with a cell label per value and a colour legend.
pub(crate) fn heat_map(c: &HeatMap) -> String {
    let mut out = String::new();
    let (nr, nc) = (c.rows.len().max(1), c.cols.len().max(1));
    let cell = (560.0 / nc.max(nr) as f64).clamp(18.0, 52.0);
    let left = 110.0;
    // Narrow columns get vertical labels.
    let rotate = cell < 30.0;
    let longest = c
        .cols
        .iter()
        .map(|x| x.chars().count().min(14))
        .max()
        .unwrap_or(3) as f64;
    let top = if rotate { 60.0 + 6.5 * longest } else { 78.0 };
    let w = (left + cell * nc as f64 + 150.0).max(520.0);
    let h = top + cell * nr as f64 + 60.0;
    open_svg(&mut out, w, h, &c.title, "heat-map");
    let finite: Vec<f64> = c
        .values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let max_abs = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    // The colour scale ends at a round number above the 95th percentile of |v|, so that a few
    // outliers do not wash out every other cell; larger values take the end colour.
    let mut mags: Vec<f64> = finite.iter().map(|v| v.abs()).collect();
    mags.sort_by(f64::total_cmp);
    let p95 = mags
        .get(((mags.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    let clipped = max_abs > p95 * 1.0001 && p95 > 0.0;
    let lim = nice_ticks(-p95, p95, 4)
        .last()
        .copied()
        .unwrap_or(1.0)
        .max(1e-9);
    let show_text = cell >= 30.0;
    let dec = if max_abs >= 10.0 { 0 } else { 1 };
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x:.1}" y="42" text-anchor="middle" font-size="12">{l} →</text>"#,
        x = left + cell * nc as f64 / 2.0,
        l = esc(&c.col_label)
    );
    let _ = write!(
        out,
        r#"<text class="axis-label" x="14" y="{y:.1}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {y:.1})">{l} →</text>"#,
        y = top + cell * nr as f64 / 2.0,
        l = esc(&c.row_label)
    );
    for (k, col) in c.cols.iter().enumerate() {
        let x = left + cell * (k as f64 + 0.5);
        if rotate {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y}" text-anchor="start" font-size="11" transform="rotate(-90 {x:.1} {y})" dy="4"><title>{full}</title>{n}</text>"#,
                y = top - 6.0,
                full = esc(col),
                n = esc(&truncate(col, 14))
            );
        } else {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y}" text-anchor="middle" font-size="11"><title>{full}</title>{n}</text>"#,
                y = top - 8.0,
                full = esc(col),
                n = esc(&truncate(col, ((cell / 6.5) as usize).max(3)))
            );
        }
    }
    for (r, row) in c.rows.iter().enumerate() {
        let y = top + cell * r as f64;
        let _ = write!(
            out,
            r#"<text x="{x}" y="{ty:.1}" text-anchor="end" font-size="11"><title>{full}</title>{n}</text>"#,
            x = left - 6.0,
            ty = y + cell / 2.0 + 4.0,
            full = esc(row),
            n = esc(&truncate(row, 14))
        );
        for (k, col) in c.cols.iter().enumerate() {
            let v = c.values.get(r).and_then(|x| x.get(k)).copied().flatten();
            let x = left + cell * k as f64;
            let (fill, label) = match v {
                Some(v) if v.is_finite() => (diverging(v / lim), fmt_num(v, dec)),
                Some(v) => ("#bdbdbd".to_string(), fmt_num(v, dec)),
                None => ("#e8e8e8".to_string(), String::new()),
            };
            let _ = write!(
                out,
                r##"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{c1:.1}" height="{c1:.1}" fill="{fill}" stroke="#ffffff" stroke-width="1"><title>{rl} {rn} → {cl} {cn}: {tl}</title></rect>"##,
                c1 = cell,
                rl = esc(&c.row_label),
                rn = esc(row),
                cl = esc(&c.col_label),
                cn = esc(col),
                tl = if label.is_empty() {
                    "no trade".to_string()
                } else {
                    format!("{label} {}", esc(&c.unit))
                }
            );
            if show_text && !label.is_empty() {
                let dark = v.is_some_and(|v| (v / lim).abs() > 0.55);
                let _ = write!(
                    out,
                    r#"<text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" font-size="10" fill="{tc}">{label}</text>"#,
                    tx = x + cell / 2.0,
                    ty = y + cell / 2.0 + 3.5,
                    tc = if dark { "#ffffff" } else { "#111111" }
                );
            }
        }
    }
    // Colour legend.
    let lx = left + cell * nc as f64 + 30.0;
    let lh = (cell * nr as f64).clamp(120.0, 260.0);
    let steps = 20;
    for s in 0..steps {
        let t = 1.0 - 2.0 * (s as f64 + 0.5) / steps as f64;
        let _ = write!(
            out,
            r#"<rect x="{lx}" y="{y:.1}" width="16" height="{hh:.2}" fill="{f}"/>"#,
            y = top + lh * s as f64 / steps as f64,
            hh = lh / steps as f64 + 0.5,
            f = diverging(t)
        );
    }
    let ld = decimals_for(lim / 2.0);
    for (t, label) in [
        (
            1.0,
            format!("{}+{}", if clipped { "≥ " } else { "" }, fmt_num(lim, ld)),
        ),
        (0.5, format!("+{}", fmt_num(lim / 2.0, ld))),
        (0.0, "0".to_string()),
        (-0.5, fmt_num(-lim / 2.0, ld)),
        (
            -1.0,
            format!("{}{}", if clipped { "≤ " } else { "" }, fmt_num(-lim, ld)),
        ),
    ] {
        let y = top + lh * (1.0 - t) / 2.0;
        let _ = write!(
            out,
            r##"<line x1="{a}" x2="{b}" y1="{y:.1}" y2="{y:.1}" stroke="#444"/><text x="{tx}" y="{ty:.1}" font-size="11">{label}</text>"##,
            a = lx + 16.0,
            b = lx + 20.0,
            tx = lx + 23.0,
            ty = y + 4.0
        );
    }
    let _ = write!(
        out,
        r#"<text x="{lx}" y="{y:.1}" font-size="11">{u}</text>"#,
        y = top - 8.0,
        u = esc(&c.unit)
    );
    let _ = write!(
        out,
        r##"<rect x="{lx}" y="{y:.1}" width="16" height="12" fill="#e8e8e8"/><text x="{tx}" y="{ty:.1}" font-size="11">no trade</text>"##,
        y = top + lh + 12.0,
        tx = lx + 23.0,
        ty = top + lh + 22.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_data_with_round_steps() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let t = nice_ticks(-0.37, 1.42, 6);
        assert_eq!(t.first(), Some(&-0.5));
        assert_eq!(t.last(), Some(&1.5));
        assert!(t.len() <= 8);
        let t = nice_ticks(-3.2, -0.4, 5);
        assert!(t[0] <= -3.2 && *t.last().unwrap() >= -0.4);
        assert!(t.iter().all(|v| *v <= 0.0), "{t:?}");
        // No floating noise.
        assert!(nice_ticks(0.0, 0.3, 3)
            .iter()
            .all(|v| format!("{v}").len() <= 4));
    }

    #[test]
    fn degenerate_and_non_finite_intervals_are_widened() {
        let t = nice_ticks(2.0, 2.0, 5);
        assert!(t[0] < 2.0 && *t.last().unwrap() > 2.0);
        let t = nice_ticks(0.0, 0.0, 5);
        assert!(t[0] < 0.0 && *t.last().unwrap() > 0.0);
        let t = nice_ticks(f64::INFINITY, f64::NEG_INFINITY, 5);
        assert!(t.len() >= 2);
        assert!(t.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn year_ticks_are_integers_covering_the_years() {
        assert_eq!(
            year_ticks(2015, 2019, 10),
            vec![2015, 2016, 2017, 2018, 2019]
        );
        assert_eq!(year_ticks(2005, 2005, 10), vec![2004, 2005, 2006]);
        assert_eq!(
            year_ticks(2014, 2035, 12),
            vec![2014, 2016, 2018, 2020, 2022, 2024, 2026, 2028, 2030, 2032, 2034]
        );
        assert_eq!(
            year_ticks(2014, 2040, 6),
            vec![2015, 2020, 2025, 2030, 2035, 2040]
        );
        assert_eq!(year_ticks(1993, 2005, 3), vec![1995, 2000, 2005]);
    }

    #[test]
    fn scales_map_linearly_and_degenerate_domains_to_the_middle() {
        let s = Scale::new((0.0, 10.0), (100.0, 0.0));
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(10.0), 0.0);
        assert_eq!(s.map(2.5), 75.0);
        assert_eq!(Scale::new((3.0, 3.0), (0.0, 50.0)).map(3.0), 25.0);
    }

    #[test]
    fn numbers_use_a_true_minus_and_no_negative_zero() {
        assert_eq!(fmt_num(-1.25, 1), "−1.2");
        assert_eq!(fmt_num(-0.0001, 2), "0.00");
        assert_eq!(fmt_num(3.0, 0), "3");
        assert_eq!(fmt_num(f64::NAN, 2), "n/a");
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(0.5), 1);
        assert_eq!(decimals_for(2.0), 0);
        assert_eq!(decimals_for(2.5), 1);
    }

    #[test]
    fn names_are_escaped_in_svg_text_and_attributes() {
        assert_eq!(
            esc(r#"<b>"A&B's"</b>"#),
            "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;"
        );
        let c = LineChart {
            title: "Tariffs <of> \"A&B\"".into(),
            x_label: "year".into(),
            y_label: "%".into(),
            series: vec![Series {
                name: "<script>alert(1)</script>".into(),
                points: vec![(2015.0, 1.0), (2016.0, 2.0)],
                ..Default::default()
            }],
            ..Default::default()
        };
        let svg = line_chart(&c);
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<of>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("Tariffs &lt;of&gt; &quot;A&amp;B&quot;"));
        let h = heat_map(&HeatMap {
            title: "t".into(),
            rows: vec!["<x>".into()],
            cols: vec!["y&z".into()],
            values: vec![vec![Some(1.0)]],
            ..Default::default()
        });
        assert!(!h.contains("<x>") && h.contains("&lt;x&gt;") && h.contains("y&amp;z"));
    }

    #[test]
    fn charts_survive_empty_and_non_finite_data() {
        let svg = line_chart(&LineChart {
            title: "empty".into(),
            series: vec![Series {
                name: "inf".into(),
                points: vec![(2015.0, f64::INFINITY), (2016.0, f64::NAN)],
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf\""));
        let b = bar_chart(&BarChart {
            title: "b".into(),
            groups: vec!["AAA".into()],
            series: vec!["s".into()],
            values: vec![vec![Some(Bar {
                value: -2.0,
                interval: Some((-3.0, -1.0)),
            })]],
            ..Default::default()
        });
        assert!(b.contains(r#"class="bar""#) && b.contains(r#"class="interval""#));
    }

    #[test]
    fn diverging_colours_are_white_at_zero_and_saturate() {
        assert_eq!(diverging(0.0), "#f7f7f7");
        assert_eq!(diverging(-1.0), "#2166ac");
        assert_eq!(diverging(5.0), "#b35806");
        assert_eq!(diverging(f64::NAN), "#f7f7f7");
    }
}
