//! The grow benchmark's chart: throughput per window over time, every
//! resize a shaded band, drawn with `plotters` into an SVG string.
//!
//! Owns the picture only; the numbers come from a finished `GrowReport`.
//! It never measures, and never writes a file (the caller does).

use crate::grow::GrowReport;
use plotters::prelude::*;
use std::time::Duration;

/// Size of the picture in pixels.
const SIZE: (u32, u32) = (900, 360);
/// The throughput line.
const LINE: RGBColor = RGBColor(0x1d, 0x35, 0x57);
const GROWTH: RGBColor = RGBColor(0x8c, 0xc0, 0x84);
const SHRINK: RGBColor = RGBColor(0xf4, 0xa2, 0x59);
const FORCED: RGBColor = RGBColor(0xbb, 0xbb, 0xbb);

/// The report's throughput over time as an SVG document; `window` is the
/// span each of `report.windows` counts.
pub(crate) fn throughput_svg(report: &GrowReport, window: Duration) -> Result<String, String> {
    let mut svg = String::new();
    draw(report, window, &mut svg).map_err(|e| format!("cannot draw the chart: {e}"))?;
    Ok(svg)
}

fn draw(
    report: &GrowReport,
    window: Duration,
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let window_s = window.as_secs_f64().max(1e-3);
    // Millions of operations per second, per window, at the window's middle.
    let points: Vec<(f64, f64)> = report
        .windows
        .iter()
        .enumerate()
        .map(|(i, &n)| ((i as f64 + 0.5) * window_s, n as f64 / window_s / 1e6))
        .collect();
    // Wide enough for the last window and the last resize (a shrink can
    // end after the last write).
    let end_s = report
        .resize_marks
        .iter()
        .map(|m| m.end_ms / 1e3)
        .fold(report.windows.len() as f64 * window_s, f64::max)
        .max(window_s)
        * 1.04;
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.1;

    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{} grow: {} threads, {} keys inserted then deleted; throughput per {} ms window",
                report.memtable,
                report.threads,
                report.keys,
                window.as_millis()
            ),
            ("sans-serif", 14),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..end_s, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("seconds")
        .y_desc("M ops/s")
        .draw()?;

    for (i, m) in report.resize_marks.iter().enumerate() {
        let color = match m.reason.as_str() {
            "shrink" => SHRINK,
            "forced" => FORCED,
            _ => GROWTH,
        };
        let (x0, x1) = (
            m.start_ms / 1e3,
            (m.end_ms / 1e3).max(m.start_ms / 1e3 + end_s / 900.0),
        );
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x0, 0.0), (x1, top)],
            color.mix(0.5).filled(),
        )))?;
        // Labels alternate between two rows so that short resizes side by
        // side stay readable.
        let row = top * (0.97 - 0.06 * (i % 2) as f64);
        chart.draw_series(std::iter::once(Text::new(
            format!("{}\u{2192}{}", m.from, m.to),
            (x0, row),
            ("sans-serif", 10),
        )))?;
    }
    chart.draw_series(LineSeries::new(points, LINE.stroke_width(2)))?;
    root.draw(&Text::new(
        "green: growth, orange: shrink, grey: forced with writers paused",
        (560, 338),
        ("sans-serif", 10),
    ))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grow::ResizeMark;

    #[test]
    fn draws_the_line_and_every_resize() {
        let mark = |start_ms: f64, end_ms: f64, from, to, reason: &str| ResizeMark {
            start_ms,
            end_ms,
            from,
            to,
            reason: reason.into(),
            keys_moved: 0,
        };
        let report = GrowReport {
            windows: vec![900, 1200, 400, 1100, 1000, 1300, 800, 1250],
            resize_marks: vec![
                mark(50.0, 250.0, 1, 2, "growth"),
                mark(300.0, 420.0, 2, 4, "forced"),
                mark(700.0, 700.0, 4, 2, "shrink"),
            ],
            ..GrowReport::default()
        };
        let svg = throughput_svg(&report, Duration::from_millis(100)).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains("1\u{2192}2") && svg.contains("4\u{2192}2"),
            "{svg}"
        );
        assert!(svg.contains("<polyline"), "{svg}");
        if let Ok(dir) = std::env::var("TANDEM_CHART_DIR") {
            std::fs::write(std::path::Path::new(&dir).join("grow-test.svg"), &svg).unwrap();
        }
    }
}
