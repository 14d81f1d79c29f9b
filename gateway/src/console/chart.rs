//! The console's charts, drawn on the server as SVG (no script, nothing the
//! CSP must allow): a time series as lines or bars, with an optional
//! threshold line, and the small sparklines of a list's rows. Pure geometry:
//! the templates `partials/chart.html` and `partials/sparkline.html` draw
//! what these structs computed, and the classes name the colours
//! (`console.css`), so a chart is unit-tested without a browser.

use super::format::Fmt;

/// The whole picture's size in SVG units; it scales to its container's width.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// Room for the y axis' labels, the x axis' labels, and air above and right.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;
const RIGHT: f64 = 12.0;
/// At most this many x labels are written; the others are skipped evenly.
const MAX_X_LABELS: usize = 8;

/// One named series of values, one per x label; `None` is a gap (no data).
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    /// The CSS class that colours it (`s-ok`, `s-bad`, `s-1` …).
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(name: impl Into<String>, class: &'static str, values: impl IntoIterator<Item = f64>) -> Self {
        Self { name: name.into(), class, values: values.into_iter().map(Some).collect() }
    }

    pub fn with_gaps(name: impl Into<String>, class: &'static str, values: Vec<Option<f64>>) -> Self {
        Self { name: name.into(), class, values }
    }
}

/// A label on an axis and where it sits.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// A bar of a bar chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// What a pointer over it reads: "series · label: value".
    pub title: String,
}

/// A series as drawn: polylines (one per run without gaps) or bars.
#[derive(Clone, Debug)]
pub struct Drawn {
    pub name: String,
    pub class: &'static str,
    /// `points` attributes of the lines, one per unbroken run.
    pub lines: Vec<String>,
    /// Points standing alone between gaps, drawn as dots.
    pub dots: Vec<(f64, f64, String)>,
    pub bars: Vec<Bar>,
}

/// A horizontal rule across the plot (a threshold, a limit).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub y: f64,
    pub label: String,
}

/// A chart ready for `partials/chart.html`.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Its accessible name (`aria-label`).
    pub label: String,
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub series: Vec<Drawn>,
    pub rule: Option<Rule>,
    /// No value at all: the template says so instead of drawing empty axes.
    pub empty: bool,
}

/// How the values are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Lines,
    /// Side by side within each x slot.
    Bars,
    /// One on the other within each x slot.
    Stacked,
}

impl Chart {
    /// Draws `series` over the x labels `x` (one value of each series per
    /// label); `rule` is a threshold drawn across, which the y scale always
    /// includes. The y axis starts at zero and its labels are written with
    /// `decimals` in the user's language.
    pub fn new(
        fmt: &Fmt,
        label: impl Into<String>,
        x: &[String],
        series: Vec<Series>,
        style: Style,
        rule: Option<(f64, String)>,
        decimals: usize,
    ) -> Self {
        let (left, right, top, bottom) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
        let slots = x.len().max(1);
        let slot_w = (right - left) / slots as f64;
        let top_value = match style {
            Style::Stacked => (0..slots)
                .map(|i| series.iter().filter_map(|s| s.values.get(i).copied().flatten()).filter(|v| *v > 0.0).sum::<f64>())
                .fold(0.0, f64::max),
            Style::Lines | Style::Bars => series.iter().flat_map(|s| s.values.iter().flatten().copied()).fold(0.0, f64::max),
        };
        let empty = series.iter().all(|s| s.values.iter().all(Option::is_none));
        let top_value = rule.as_ref().map_or(top_value, |(v, _)| top_value.max(*v));
        let (step, max) = nice_scale(top_value);
        // Labels without decimals cannot mark fractional steps (they would
        // read "0, 1, 1, 2, 2"): such an axis steps by one at least.
        let (step, max) = if decimals == 0 && step < 1.0 { (1.0, max.ceil().max(1.0)) } else { (step, max) };
        let y_of = |v: f64| bottom - (v.max(0.0) / max) * (bottom - top);
        let y_ticks = (0..)
            .map(|i| i as f64 * step)
            .take_while(|v| *v <= max + step / 2.0)
            .map(|v| Tick { at: round(y_of(v)), label: fmt.number(v, decimals) })
            .collect();
        let every = x.len().div_ceil(MAX_X_LABELS).max(1);
        let x_ticks = x
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, l)| Tick { at: round(left + slot_w * (i as f64 + 0.5)), label: l.clone() })
            .collect();
        let mut drawn = Vec::with_capacity(series.len());
        let mut stacked = vec![0.0_f64; slots];
        let count = series.len().max(1) as f64;
        for (k, s) in series.iter().enumerate() {
            let mut d = Drawn { name: s.name.clone(), class: s.class, lines: Vec::new(), dots: Vec::new(), bars: Vec::new() };
            match style {
                Style::Lines => {
                    let mut run: Vec<(f64, f64, String)> = Vec::new();
                    let flush = |run: &mut Vec<(f64, f64, String)>, d: &mut Drawn| {
                        match run.len() {
                            0 => {}
                            1 => d.dots.push(run[0].clone()),
                            _ => d.lines.push(run.iter().map(|(x, y, _)| format!("{x},{y}")).collect::<Vec<_>>().join(" ")),
                        }
                        run.clear();
                    };
                    for (i, v) in s.values.iter().enumerate().take(slots) {
                        match v {
                            Some(v) => run.push((
                                round(left + slot_w * (i as f64 + 0.5)),
                                round(y_of(*v)),
                                format!("{} · {}: {}", s.name, x.get(i).map_or("", String::as_str), fmt.number(*v, decimals)),
                            )),
                            None => flush(&mut run, &mut d),
                        }
                    }
                    flush(&mut run, &mut d);
                }
                Style::Bars | Style::Stacked => {
                    for (i, v) in s.values.iter().enumerate().take(slots) {
                        let Some(v) = v.filter(|v| *v > 0.0) else { continue };
                        let inner = slot_w * 0.8;
                        let (x0, w, base) = if style == Style::Bars {
                            (left + slot_w * i as f64 + slot_w * 0.1 + inner / count * k as f64, inner / count, 0.0)
                        } else {
                            (left + slot_w * i as f64 + slot_w * 0.1, inner, stacked[i])
                        };
                        let (y_top, y_base) = (y_of(base + v), y_of(base));
                        stacked[i] += v;
                        d.bars.push(Bar {
                            x: round(x0),
                            y: round(y_top),
                            w: round(w.max(1.0)),
                            h: round((y_base - y_top).max(1.0)),
                            title: format!("{} · {}: {}", s.name, x.get(i).map_or("", String::as_str), fmt.number(v, decimals)),
                        });
                    }
                }
            }
            drawn.push(d);
        }
        let rule = rule.map(|(v, label)| Rule { y: round(y_of(v)), label });
        Self { label: label.into(), width: WIDTH, height: HEIGHT, left, right, top, bottom, x_ticks, y_ticks, series: drawn, rule, empty }
    }

    /// Whether a legend is worth drawing (more than one series).
    pub fn legend(&self) -> bool {
        self.series.len() > 1
    }
}

/// A row's small picture of its recent values (occurrences a day, response
/// times), for `partials/sparkline.html`: bars for counts, a line for
/// measures. Scaled to its own largest value; an all-zero row is a flat line.
#[derive(Clone, Debug)]
pub struct Sparkline {
    pub width: f64,
    pub height: f64,
    /// For a line: the `points` attribute.
    pub points: String,
    /// For bars: one per value.
    pub bars: Vec<Bar>,
    /// The accessible summary, e.g. "14 days: 0, 2, 5 …" (set by the caller's words).
    pub label: String,
}

impl Sparkline {
    const W: f64 = 112.0;
    const H: f64 = 24.0;

    /// Bars, one per value (counts).
    pub fn bars(values: &[f64], label: impl Into<String>) -> Self {
        let max = values.iter().copied().fold(0.0, f64::max);
        let slot = Self::W / values.len().max(1) as f64;
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let h = if max > 0.0 { (v.max(0.0) / max) * (Self::H - 2.0) } else { 0.0 };
                // A zero is a hairline, so the days stay countable.
                let h = h.max(1.0);
                Bar {
                    x: round(slot * i as f64 + 0.5),
                    y: round(Self::H - h),
                    w: round((slot - 1.0).max(1.0)),
                    h: round(h),
                    title: String::new(),
                }
            })
            .collect();
        Self { width: Self::W, height: Self::H, points: String::new(), bars, label: label.into() }
    }

    /// A line through the values (measures such as a response time).
    pub fn line(values: &[f64], label: impl Into<String>) -> Self {
        let max = values.iter().copied().fold(0.0, f64::max);
        let step = if values.len() > 1 { Self::W / (values.len() - 1) as f64 } else { 0.0 };
        let points = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let y = if max > 0.0 { Self::H - 1.0 - (v.max(0.0) / max) * (Self::H - 2.0) } else { Self::H - 1.0 };
                format!("{},{}", round(step * i as f64), round(y))
            })
            .collect::<Vec<_>>()
            .join(" ");
        Self { width: Self::W, height: Self::H, points, bars: Vec::new(), label: label.into() }
    }
}

/// A step of 1, 2 or 5 times a power of ten giving four or five intervals up
/// to at least `top`, and the scale's maximum; 1 for an empty chart.
fn nice_scale(top: f64) -> (f64, f64) {
    if !(top.is_finite() && top > 0.0) {
        return (0.25, 1.0);
    }
    let rough = top / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(10.0 * magnitude);
    (step, (top / step).ceil() * step)
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn fmt() -> Fmt {
        Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich }
    }

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i}")).collect()
    }

    #[test]
    fn the_scale_is_a_round_step_that_covers_the_largest_value() {
        assert_eq!(nice_scale(7.0), (2.0, 8.0));
        assert_eq!(nice_scale(100.0), (25.0, 100.0));
        assert_eq!(nice_scale(0.93), (0.25, 1.0));
        assert_eq!(nice_scale(0.0), (0.25, 1.0));
        assert_eq!(nice_scale(f64::NAN), (0.25, 1.0));
    }

    #[test]
    fn a_line_breaks_at_gaps_and_a_lone_point_is_a_dot() {
        let s = Series::with_gaps("mae", "s-1", vec![Some(1.0), Some(2.0), None, Some(3.0), None, Some(1.0), Some(1.5)]);
        let c = Chart::new(&fmt(), "MAE", &labels(7), vec![s], Style::Lines, Some((2.5, "threshold".into())), 1);
        let d = &c.series[0];
        assert_eq!(d.lines.len(), 2, "two unbroken runs: {:?}", d.lines);
        assert_eq!(d.dots.len(), 1);
        assert!(d.dots[0].2.contains("d3: 3.0"), "{}", d.dots[0].2);
        let rule = c.rule.expect("the threshold is drawn");
        assert!(rule.y > c.top && rule.y < c.bottom, "inside the plot");
        assert!(!c.empty);
    }

    #[test]
    fn the_threshold_is_always_on_the_scale() {
        let s = Series::new("mae", "s-1", [1.0, 1.2]);
        let c = Chart::new(&fmt(), "MAE", &labels(2), vec![s], Style::Lines, Some((10.0, "threshold".into())), 1);
        let rule = c.rule.unwrap();
        assert!(rule.y >= c.top, "10 fits: the scale grew to include it");
        assert!(c.y_ticks.last().unwrap().label.starts_with("10"), "{:?}", c.y_ticks);
    }

    #[test]
    fn stacked_bars_sit_on_each_other_and_bars_side_by_side() {
        let a = Series::new("ok", "s-ok", [2.0, 0.0]);
        let b = Series::new("blocked", "s-bad", [2.0, 1.0]);
        let stacked = Chart::new(&fmt(), "x", &labels(2), vec![a.clone(), b.clone()], Style::Stacked, None, 0);
        let (lower, upper) = (&stacked.series[0].bars[0], &stacked.series[1].bars[0]);
        assert_eq!(lower.x, upper.x);
        assert!((upper.y + upper.h - lower.y).abs() < 0.11, "upper ends where lower starts: {upper:?} {lower:?}");
        assert_eq!(stacked.series[0].bars.len(), 1, "a zero draws no bar");
        let grouped = Chart::new(&fmt(), "x", &labels(2), vec![a, b], Style::Bars, None, 0);
        let (left, right) = (&grouped.series[0].bars[0], &grouped.series[1].bars[0]);
        assert!(right.x >= left.x + left.w - 0.11, "side by side");
        assert!((left.h - right.h).abs() < 0.11, "equal values, equal heights");
    }

    #[test]
    fn an_axis_without_decimals_steps_by_whole_numbers() {
        let s = Series::new("blocked", "s-warn", [2.0, 0.0]);
        let c = Chart::new(&fmt(), "x", &labels(2), vec![s], Style::Bars, None, 0);
        assert_eq!(c.y_ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["0", "1", "2"]);
        let s = Series::new("rate", "s-1", [0.4, 0.2]);
        let c = Chart::new(&fmt(), "x", &labels(2), vec![s], Style::Lines, None, 1);
        assert_eq!(c.y_ticks.len(), 5, "with decimals the fine steps stay: {:?}", c.y_ticks);
    }

    #[test]
    fn at_most_eight_x_labels_are_written() {
        let s = Series::new("n", "s-1", (0..30).map(f64::from));
        let c = Chart::new(&fmt(), "x", &labels(30), vec![s], Style::Bars, None, 0);
        assert!(c.x_ticks.len() <= MAX_X_LABELS, "{}", c.x_ticks.len());
        assert_eq!(c.x_ticks[0].label, "d0");
    }

    #[test]
    fn a_chart_without_values_says_it_is_empty() {
        let s = Series::with_gaps("n", "s-1", vec![None, None]);
        assert!(Chart::new(&fmt(), "x", &labels(2), vec![s], Style::Lines, None, 0).empty);
    }

    #[test]
    fn sparklines_scale_to_their_own_largest_value() {
        let s = Sparkline::bars(&[0.0, 5.0, 10.0], "x");
        assert_eq!(s.bars.len(), 3);
        assert_eq!(s.bars[0].h, 1.0, "a zero is a hairline");
        assert!((s.bars[2].h - (Sparkline::H - 2.0)).abs() < 0.11);
        assert!((s.bars[1].h * 2.0 - s.bars[2].h).abs() < 0.21);
        let l = Sparkline::line(&[1.0, 2.0], "x");
        assert_eq!(l.points.split(' ').count(), 2);
        assert!(Sparkline::line(&[], "x").points.is_empty());
    }
}
