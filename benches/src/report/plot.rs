//! The lab's plots, drawn with plotters as SVG markup to inline in a page or
//! write beside a result: the deployments' colours, a chart's frame and
//! legend, latency percentile curves and grouped bars.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::escape;

/// The two deployments' colours, the same in every plot.
pub const MONOLITH: RGBColor = RGBColor(31, 119, 180);
pub const MICRO: RGBColor = RGBColor(255, 127, 14);
/// The colour of a deployment in every plot: the monolith's and the
/// microservices' fixed, any other (a grouping) the next of a few more.
pub fn deployment_colour(label: &str, others_before: usize) -> RGBColor {
    const OTHERS: [RGBColor; 4] = [
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(23, 190, 207),
    ];
    match label {
        "monolith" => MONOLITH,
        "microservices" => MICRO,
        _ => OTHERS[others_before % OTHERS.len()],
    }
}

/// Colours for the services' processes in the stacked CPU plot.
pub const PROCESS_COLOURS: [RGBColor; 6] = [
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

/// Latency percentile curves, one line per deployment, log scale.
pub fn percentile_plot(title: &str, series: &[(&str, RGBColor, Vec<f64>)]) -> String {
    let labels = ["p50", "p90", "p99", "p99.9", "max"];
    let values = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied());
    let (low, high) = values.fold((f64::INFINITY, 0f64), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    if !low.is_finite() || high <= 0.0 {
        return String::new();
    }
    draw(520, 300, |root| {
        let mut chart = titled(&root, title).build_cartesian_2d(
            -0.3f64..4.3f64,
            ((low * 0.8).max(1e-3)..high * 1.25).log_scale(),
        )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| category(&labels, *x))
            .y_desc("latency, ms")
            .draw()?;
        for (name, colour, values) in series {
            let points = values
                .iter()
                .enumerate()
                .map(|(index, value)| (index as f64, value.max(1e-3)));
            line(&mut chart, name, *colour, points.collect(), 3)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// One series as a line through its points, each point a dot of `radius`,
/// named in the legend.
pub fn line<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    name: &str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
    radius: i32,
) -> Drawn
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
        .label(name)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    chart.draw_series(
        points
            .into_iter()
            .map(|point| Circle::new(point, radius, colour.filled())),
    )?;
    Ok(())
}

/// Grouped bars: one group per category, one bar per series.
pub fn bar_plot(
    title: &str,
    categories: &[String],
    series: &[(&str, RGBColor, Vec<f64>)],
) -> String {
    let high = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .fold(0f64, f64::max);
    if high <= 0.0 || categories.is_empty() {
        return String::new();
    }
    let width = 0.8 / series.len() as f64;
    draw(520, 300, |root| {
        let mut chart = categories_frame(&root, title, categories, high)?;
        for (index, (name, colour, values)) in series.iter().enumerate() {
            let colour = *colour;
            chart
                .draw_series(values.iter().enumerate().map(|(group, value)| {
                    let left = group as f64 - 0.4 + index as f64 * width;
                    Rectangle::new(
                        [(left, 0.0), (left + width * 0.92, *value)],
                        colour.filled(),
                    )
                }))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

pub type Drawn = Result<(), Box<dyn std::error::Error>>;

/// The box naming each series.
pub fn legend<'a, 'b: 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}

/// Every plot's frame: its title, margins and axis label areas.
pub fn titled<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60);
    builder
}

/// A chart with one slot per name along x (at 0, 1, 2, ...) and y from 0
/// to a little above `high`, its mesh drawn.
pub fn categories_frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    names: &[String],
    high: f64,
) -> Result<
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    Box<dyn std::error::Error>,
> {
    let count = names.len();
    let mut chart =
        titled(root, title).build_cartesian_2d(-0.5f64..(count as f64 - 0.5), 0f64..high * 1.2)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count + 1)
        .x_label_formatter(&|x| category(names, *x))
        .draw()?;
    Ok(chart)
}

/// Draws onto an SVG of `width` x `height` and returns its markup (or a note
/// saying why the plot could not be drawn).
pub fn draw(
    width: u32,
    height: u32,
    paint: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> String {
    let mut svg = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|error| Box::new(error) as Box<dyn std::error::Error>)
            .and_then(|()| paint(root.clone()))
            .and_then(|()| root.present().map_err(|error| error.into()))
    };
    match outcome {
        Ok(()) => svg,
        Err(error) => format!("<p>(plot not drawn: {})</p>", escape(&error.to_string())),
    }
}

/// The category at axis position `x`, if `x` is one (the axis is numeric).
pub fn category<T: AsRef<str>>(names: &[T], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() > 0.01 || index < 0.0 {
        return String::new();
    }
    names
        .get(index as usize)
        .map_or(String::new(), |name| name.as_ref().to_owned())
}
