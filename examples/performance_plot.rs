//! Draws docs/performance-scaling.svg, how cost grows with size, in the report's SVG style
//! (`report::svg::line_chart`, Okabe–Ito colours) from a CSV of measurements
//! `series,size,seconds` (docs/performance-scaling.csv): both axes are log10, so a straight
//! line of slope 1 is linear growth and slope 2 quadratic.
//!
//! `cargo run --release --example performance_plot -- docs/performance-scaling.csv docs/performance-scaling.svg`

use tradesim::report::svg::{line_chart, LineChart, Series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: performance_plot MEASUREMENTS.csv OUT.svg");
        std::process::exit(2);
    }
    let mut series: Vec<Series> = Vec::new();
    let mut rdr = csv::Reader::from_path(&args[1])?;
    for rec in rdr.records() {
        let rec = rec?;
        let (name, size, secs): (String, f64, f64) = (
            rec[0].to_string(),
            rec[1].trim().parse()?,
            rec[2].trim().parse()?,
        );
        let point = (size.log10(), secs.log10());
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                name,
                points: vec![point],
                band: Vec::new(),
                emphasis: false,
                dashed: false,
            }),
        }
    }
    let chart = LineChart {
        title: "How cost grows with size (CPU seconds, whole process)".into(),
        x_label: "log10 size (observations; economies² × sectors; economies²)".into(),
        y_label: "log10 CPU seconds".into(),
        series,
        zero_line: true,
        legend_note: Some("2 cores, one series".into()),
    };
    std::fs::write(&args[2], line_chart(&chart))?;
    Ok(())
}
