//! Charts with `plotters`, each written as SVG (inlined in the HTML report)
//! and PNG. Text is drawn with DejaVu Sans, embedded in the binary
//! (`assets/fonts/`), so PNGs look the same on every machine.

use crate::error::Error;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 420);

static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        // The embedded font is a valid TTF; failing here would be a build defect.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

/// A palette that stays readable for colour-blind readers (Okabe–Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend label.
    pub name: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: RGBColor,
    /// Dashed.
    pub dashed: bool,
}

/// A scaling marker on a line chart.
#[derive(Debug, Clone, Copy)]
pub struct Marker {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Scale-out (▲) or scale-in (▼).
    pub up: bool,
}

/// A chart.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Lines over x, with optional markers and a horizontal reference line.
    Lines {
        /// Title.
        title: String,
        /// x axis label (with unit).
        x_label: String,
        /// y axis label (with unit).
        y_label: String,
        /// Lines.
        lines: Vec<Line>,
        /// Scale-out/in markers.
        markers: Vec<Marker>,
        /// A horizontal line (value, label), e.g. an SLO.
        hline: Option<(f64, String)>,
    },
    /// A scatter with highlighted points joined by a line (a Pareto front).
    Scatter {
        /// Title.
        title: String,
        /// x label.
        x_label: String,
        /// y label.
        y_label: String,
        /// The points.
        points: Vec<ScatterPoint>,
        /// A horizontal line (value, label), e.g. the SLO's p99.
        hline: Option<(f64, String)>,
    },
    /// A heat map over two categorical axes.
    Heatmap {
        /// Title.
        title: String,
        /// x label.
        x_label: String,
        /// y label.
        y_label: String,
        /// x categories.
        x_ticks: Vec<String>,
        /// y categories.
        y_ticks: Vec<String>,
        /// Values by [y][x].
        values: Vec<Vec<Option<f64>>>,
    },
    /// Grouped bars: one panel per metric, one bar per group.
    Bars {
        /// Title.
        title: String,
        /// Group names (e.g. platforms).
        groups: Vec<String>,
        /// (metric label with unit, value per group, a reference line and
        /// its label — e.g. the SLO).
        panels: Vec<Panel>,
    },
}

/// A point of a scatter chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// A short label drawn beside highlighted points (keep it short: a
    /// point number, with the full label in a table).
    pub label: String,
    /// On the front (highlighted, joined by a line).
    pub front: bool,
    /// Fails the SLO (drawn as a cross).
    pub fails: bool,
}

/// Caps the lines of a chart at a ceiling when a few values would flatten
/// the rest (the largest value above 4 × the 95th percentile of all
/// values); values above are drawn at the ceiling. Returns what the title
/// should say, or `None` when nothing was capped.
pub fn clip_outliers(lines: &mut [Line], unit: &str) -> Option<String> {
    let mut all: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .collect();
    if all.len() < 20 {
        return None;
    }
    all.sort_by(f64::total_cmp);
    let p95 = all[(all.len() * 95 / 100).min(all.len() - 1)];
    let max = *all.last().expect("non-empty");
    if !(p95 > 0.0 && max > 4.0 * p95) {
        return None;
    }
    let cap = 2.0 * p95;
    let mut above = 0;
    for l in lines.iter_mut() {
        for p in &mut l.points {
            if p.1 > cap {
                p.1 = cap;
                above += 1;
            }
        }
    }
    Some(format!(
        "axis capped at {} {unit}: {above} value(s) above, up to {}",
        fmt_value(cap),
        fmt_value(max)
    ))
}

/// What a legend entry looks like.
#[derive(Debug, Clone, Copy)]
enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    Up(RGBColor),
    Down(RGBColor),
    Dot(RGBColor),
    Cross(RGBColor),
}

/// Draws a one-row legend in its own strip under the plot, so it never
/// covers data (entries wrap to a second row when they do not fit).
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Mark)],
) -> DrawResult<(), DB> {
    let font = TextStyle::from((FONT, 13).into_font());
    let (w, _) = area.dim_in_pixel();
    let (mut x, mut y) = (70i32, 8i32);
    for (name, mark) in entries {
        let (tw, _) = area.estimate_text_size(name, &font)?;
        if x + 30 + tw as i32 > w as i32 - 10 && x > 70 {
            x = 70;
            y += 20;
        }
        let c = (x + 10, y + 7);
        match *mark {
            Mark::Line(col) => {
                area.draw(&PathElement::new(
                    vec![(x, c.1), (x + 22, c.1)],
                    col.stroke_width(2),
                ))?;
            }
            Mark::Dashed(col) => {
                for k in 0..3 {
                    area.draw(&PathElement::new(
                        vec![(x + k * 8, c.1), (x + k * 8 + 5, c.1)],
                        col.stroke_width(2),
                    ))?;
                }
            }
            Mark::Up(col) => area.draw(&TriangleMarker::new(c, 6, col.filled()))?,
            Mark::Down(col) => area.draw(&Cross::new(c, 5, col.stroke_width(2)))?,
            Mark::Dot(col) => area.draw(&Circle::new(c, 5, col.filled()))?,
            Mark::Cross(col) => area.draw(&Cross::new(c, 5, col.stroke_width(2)))?,
        }
        area.draw(&Text::new(name.clone(), (x + 28, y), font.clone()))?;
        x += 28 + tw as i32 + 24;
    }
    Ok(())
}

/// Height of the legend strip under a chart.
const LEGEND_H: u32 = 44;

/// One panel of a bar chart: the metric label with its unit, a value per
/// group, and a reference line with its label (e.g. the SLO).
pub type Panel = (String, Vec<Option<f64>>, Option<(f64, String)>);

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn range_of(vals: impl Iterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    (if zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// A titled x–y chart over the given ranges with its mesh drawn (line and
/// scatter charts).
fn xy_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: (f64, f64),
    y: (f64, f64),
) -> DrawResult<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, DB> {
    let mut c = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    c.configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    Ok(c)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Lines {
            title,
            x_label,
            y_label,
            lines,
            markers,
            hline,
        } => {
            let (h, _) = (root.dim_in_pixel().1, ());
            let (root, strip) = root.split_vertically(h.saturating_sub(LEGEND_H));
            let root = &root;
            let mut entries: Vec<(String, Mark)> = Vec::new();
            let (x0, x1) = range_of(
                lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)),
                false,
            );
            let ys = lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .chain(hline.iter().map(|h| h.0));
            let (y0, y1) = range_of(ys, true);
            let mut c = xy_chart(root, title, x_label, y_label, (x0, x1), (y0, y1))?;
            for l in lines {
                // Thin strokes for dense series: a wide stroke's miter join
                // at a one-minute spike shoots past the plot's edge.
                let width = if l.points.len() > 400 { 1 } else { 2 };
                let style = ShapeStyle::from(&l.color).stroke_width(width);
                if l.dashed {
                    c.draw_series(DashedLineSeries::new(l.points.clone(), 6, 4, style))?;
                    entries.push((l.name.clone(), Mark::Dashed(l.color)));
                } else {
                    c.draw_series(LineSeries::new(l.points.clone(), style))?;
                    entries.push((l.name.clone(), Mark::Line(l.color)));
                }
            }
            if let Some((v, label)) = hline {
                let red = RGBColor(200, 0, 0);
                c.draw_series(DashedLineSeries::new(
                    vec![(x0, *v), (x1, *v)],
                    8,
                    5,
                    ShapeStyle::from(&red).stroke_width(2),
                ))?;
                entries.push((label.clone(), Mark::Dashed(red)));
            }
            let ups: Vec<(f64, f64)> = markers
                .iter()
                .filter(|m| m.up)
                .map(|m| (m.x, m.y))
                .collect();
            let downs: Vec<(f64, f64)> = markers
                .iter()
                .filter(|m| !m.up)
                .map(|m| (m.x, m.y))
                .collect();
            if !ups.is_empty() {
                let g = RGBColor(0, 140, 60);
                c.draw_series(ups.iter().map(|p| TriangleMarker::new(*p, 7, g.filled())))?;
                entries.push(("scale-out".into(), Mark::Up(g)));
            }
            if !downs.is_empty() {
                let o = RGBColor(150, 60, 0);
                c.draw_series(downs.iter().map(|p| Cross::new(*p, 6, o.stroke_width(2))))?;
                entries.push(("scale-in".into(), Mark::Down(o)));
            }
            legend(&strip, &entries)?;
        }
        Chart::Scatter {
            title,
            x_label,
            y_label,
            points,
            hline,
        } => {
            let h = root.dim_in_pixel().1;
            let (root, strip) = root.split_vertically(h.saturating_sub(LEGEND_H));
            let root = &root;
            let mut entries: Vec<(String, Mark)> = Vec::new();
            let (x0, x1) = range_of(points.iter().map(|p| p.x), false);
            let (y0, y1) = range_of(
                points.iter().map(|p| p.y).chain(hline.iter().map(|h| h.0)),
                false,
            );
            let mut c = xy_chart(root, title, x_label, y_label, (x0, x1), (y0, y1))?;
            let grey = RGBColor(150, 150, 150);
            let red = RGBColor(200, 0, 0);
            let meets: Vec<&ScatterPoint> =
                points.iter().filter(|p| !p.front && !p.fails).collect();
            if !meets.is_empty() {
                c.draw_series(
                    meets
                        .iter()
                        .map(|p| Circle::new((p.x, p.y), 4, grey.filled())),
                )?;
                entries.push(("other point".into(), Mark::Dot(grey)));
            }
            let fails: Vec<&ScatterPoint> = points.iter().filter(|p| !p.front && p.fails).collect();
            if !fails.is_empty() {
                c.draw_series(
                    fails
                        .iter()
                        .map(|p| Cross::new((p.x, p.y), 5, red.stroke_width(2))),
                )?;
                entries.push(("fails the SLO".into(), Mark::Cross(red)));
            }
            let mut front: Vec<&ScatterPoint> = points.iter().filter(|p| p.front).collect();
            front.sort_by(|a, b| a.x.total_cmp(&b.x));
            let blue = PALETTE[0];
            c.draw_series(LineSeries::new(
                front.iter().map(|p| (p.x, p.y)),
                ShapeStyle::from(&blue).stroke_width(2),
            ))?;
            c.draw_series(
                front
                    .iter()
                    .map(|p| Circle::new((p.x, p.y), 6, blue.filled())),
            )?;
            entries.push(("Pareto front".into(), Mark::Dot(blue)));
            if let Some((v, label)) = hline {
                c.draw_series(DashedLineSeries::new(
                    vec![(x0, *v), (x1, *v)],
                    8,
                    5,
                    ShapeStyle::from(&red).stroke_width(2),
                ))?;
                entries.push((label.clone(), Mark::Dashed(red)));
            }
            // Labels beside the front's points: to the right, or to the
            // left in the right-hand fifth so they stay inside the plot;
            // alternately above and below so neighbours do not overprint.
            let font = (FONT, 12).into_font().color(&BLACK);
            for (k, p) in front.iter().enumerate() {
                let (tw, _) = root.estimate_text_size(&p.label, &font)?;
                let right = p.x > x0 + (x1 - x0) * 0.8;
                let dx = if right { -(tw as i32) - 8 } else { 8 };
                let dy = if k % 2 == 0 { -18 } else { 6 };
                let label = EmptyElement::at((p.x, p.y))
                    + Text::new(p.label.clone(), (dx, dy), font.clone());
                c.draw_series(std::iter::once(label))?;
            }
            legend(&strip, &entries)?;
        }
        Chart::Heatmap {
            title,
            x_label,
            y_label,
            x_ticks,
            y_ticks,
            values,
        } => {
            let nx = x_ticks.len().max(1);
            let ny = y_ticks.len().max(1);
            let (lo, hi) = range_of(values.iter().flatten().flatten().copied(), false);
            let xt = x_ticks.clone();
            let yt = y_ticks.clone();
            let mut c = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(90)
                .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)?;
            c.configure_mesh()
                .disable_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .label_style((FONT, 13))
                .x_labels(nx * 2 + 1)
                .y_labels(ny * 2 + 1)
                .x_label_formatter(&|v| cat_label(&xt, *v))
                .y_label_formatter(&|v| cat_label(&yt, *v))
                .draw()?;
            for (yi, row) in values.iter().enumerate() {
                for (xi, v) in row.iter().enumerate() {
                    let color = match v {
                        Some(v) => heat((v - lo) / (hi - lo)),
                        None => RGBColor(220, 220, 220),
                    };
                    c.draw_series(std::iter::once(Rectangle::new(
                        [(xi as f64, yi as f64), (xi as f64 + 1.0, yi as f64 + 1.0)],
                        color.filled(),
                    )))?;
                    let text = v.map_or("failed".to_string(), fmt_value);
                    // White on dark cells (relative luminance below ~0.45).
                    let lum = (0.2126 * color.0 as f64
                        + 0.7152 * color.1 as f64
                        + 0.0722 * color.2 as f64)
                        / 255.0;
                    let ink = if lum < 0.45 { WHITE } else { BLACK };
                    c.draw_series(std::iter::once(Text::new(
                        text,
                        (xi as f64 + 0.38, yi as f64 + 0.55),
                        (FONT, 13).into_font().color(&ink),
                    )))?;
                }
            }
        }
        Chart::Bars {
            title,
            groups,
            panels,
        } => {
            let (top, rest) = root.split_vertically(36);
            top.titled(title, (FONT, 20))?;
            let areas = rest.split_evenly((1, panels.len().max(1)));
            for (area, (label, vals, reference)) in areas.iter().zip(panels) {
                let (_, hi) = range_of(
                    vals.iter()
                        .flatten()
                        .copied()
                        .chain(reference.iter().map(|r| r.0 * 1.1)),
                    true,
                );
                let n = groups.len().max(1);
                let gs = groups.clone();
                let mut c = ChartBuilder::on(area)
                    .caption(label, (FONT, 15))
                    .margin(10)
                    .x_label_area_size(40)
                    .y_label_area_size(60)
                    .build_cartesian_2d(0f64..n as f64, 0f64..hi)?;
                c.configure_mesh()
                    .disable_x_mesh()
                    .label_style((FONT, 12))
                    .x_labels(n * 2 + 1)
                    .x_label_formatter(&|v| cat_label(&gs, *v))
                    .draw()?;
                for (i, v) in vals.iter().enumerate() {
                    let color = group_color(&groups[i.min(groups.len().saturating_sub(1))], i);
                    if let Some(v) = v {
                        c.draw_series(std::iter::once(Rectangle::new(
                            [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *v)],
                            color.filled(),
                        )))?;
                        c.draw_series(std::iter::once(Text::new(
                            fmt_value(*v),
                            (i as f64 + 0.2, *v),
                            (FONT, 12).into_font().color(&BLACK),
                        )))?;
                    } else {
                        c.draw_series(std::iter::once(Text::new(
                            "n/a".to_string(),
                            (i as f64 + 0.35, hi * 0.05),
                            (FONT, 12).into_font().color(&BLACK),
                        )))?;
                    }
                }
                if let Some((y, name)) = reference {
                    let red = RGBColor(200, 30, 30);
                    c.draw_series(LineSeries::new(
                        vec![(0.0, *y), (n as f64, *y)],
                        red.stroke_width(2),
                    ))?;
                    c.draw_series(std::iter::once(Text::new(
                        name.clone(),
                        (0.05, *y),
                        (FONT, 12).into_font().color(&red),
                    )))?;
                }
            }
        }
    }
    root.present()?;
    Ok(())
}

/// A platform's colour, the same in every chart (other groups by position).
pub fn group_color(name: &str, i: usize) -> RGBColor {
    let k = match name {
        "fargate" => 0,
        "fargate-spot" => 1,
        "ecs-ec2" => 2,
        "eks-nodegroup" => 3,
        "eks-fargate" => 4,
        "eks-karpenter" => 5,
        "ideal" => 6,
        _ => i,
    };
    PALETTE[k % PALETTE.len()]
}

/// The label of a categorical axis at the middle of a cell.
fn cat_label(ticks: &[String], v: f64) -> String {
    let f = v - v.floor();
    if (f - 0.5).abs() < 1e-6 {
        ticks.get(v.floor() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// A short rendering of a value for labels.
pub fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A sequential colour scale (light yellow → dark blue) for t in [0, 1].
fn heat(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let a = (255.0, 247.0, 188.0);
    let b = (37.0, 52.0, 148.0);
    RGBColor(
        (a.0 + (b.0 - a.0) * t) as u8,
        (a.1 + (b.1 - a.1) * t) as u8,
        (a.2 + (b.2 - a.2) * t) as u8,
    )
}

/// Renders a chart to `<dir>/<stem>.svg` and `<dir>/<stem>.png`; returns the SVG text.
pub fn render(chart: &Chart, dir: &Path, stem: &str) -> Result<String, Error> {
    register_font();
    let err = |path: &Path, e: String| Error::Output {
        path: path.to_path_buf(),
        error: std::io::Error::other(e),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| err(&dir.join(format!("{stem}.svg")), e.to_string()))?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    crate::report::fsio::write(&svg_path, &svg).map_err(|error| Error::Output {
        path: svg_path.clone(),
        error,
    })?;
    let png_path = dir.join(format!("{stem}.png"));
    {
        crate::report::fsio::unlink_symlink(&png_path).map_err(|error| Error::Output {
            path: png_path.clone(),
            error,
        })?;
        let root = BitMapBackend::new(&png_path, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| err(&png_path, e.to_string()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg_and_png() {
        let dir = tempfile::tempdir().unwrap();
        let chart = Chart::Lines {
            title: "t".into(),
            x_label: "time (h)".into(),
            y_label: "req/s".into(),
            lines: vec![Line {
                name: "a".into(),
                points: vec![(0.0, 1.0), (1.0, 3.0)],
                color: PALETTE[0],
                dashed: false,
            }],
            markers: vec![Marker {
                x: 0.5,
                y: 2.0,
                up: true,
            }],
            hline: Some((2.5, "SLO".into())),
        };
        let svg = render(&chart, dir.path(), "c").unwrap();
        assert!(svg.contains("<svg") && svg.contains("req/s"));
        let png = std::fs::read(dir.path().join("c.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() > 5_000);
    }
}
