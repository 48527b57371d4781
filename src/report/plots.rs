//! Figures (plotters, DejaVu Sans embedded, so no system font library is needed): per
//! recording an overview and a PSD per EMG channel, per muscle and per therapist summary
//! bars. Each figure is drawn once per backend from the same code: SVG (a string, inlined in
//! the HTML report) and PNG (a file, for papers and slides).

use std::path::Path;
use std::sync::Once;

use ndarray::ArrayView1;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::config::Config;
use crate::model::Recording;
use crate::output::{distinct_stem, file_stem, unique_stem};
use crate::pipeline::Processed;
use crate::signal::condition::Conditioned;
use crate::signal::quality::ChannelQc;

/// Figure size in pixels.
const SIZE: (u32, u32) = (1200, 700);
/// Points per trace after min/max decimation: enough for a 1200 px wide figure.
const TRACE_POINTS: usize = 2400;

static FONT: Once = Once::new();

fn ensure_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font, compiled in; registration cannot fail on them.
        let _ = register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("fonts/DejaVuSans.ttf"),
        );
    });
}

/// A signal reduced to at most [`TRACE_POINTS`] (time, min, max) columns, so that a
/// one-hour recording draws as fast as a minute and keeps its peaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Column times.
    pub t_s: Vec<f64>,
    /// Lowest sample of each column.
    pub min: Vec<f64>,
    /// Highest sample of each column.
    pub max: Vec<f64>,
}

impl Trace {
    /// Min/max decimation of `x` sampled at `fs_hz`; non-finite samples are skipped.
    pub fn of(x: ArrayView1<f64>, fs_hz: f64) -> Trace {
        let per = x.len().div_ceil(TRACE_POINTS).max(1);
        let mut t = Trace {
            t_s: Vec::new(),
            min: Vec::new(),
            max: Vec::new(),
        };
        for (k, chunk) in x.exact_chunks(per).into_iter().enumerate() {
            let (lo, hi) = chunk
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            if lo <= hi {
                t.t_s.push((k * per) as f64 / fs_hz);
                t.min.push(lo);
                t.max.push(hi);
            }
        }
        t
    }

    fn range(&self) -> (f64, f64) {
        let lo = self.min.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.max.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo < hi {
            (lo, hi)
        } else {
            (lo - 1.0, lo + 1.0)
        }
    }
}

/// One contact episode as the overview shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeMark {
    /// Start.
    pub start_s: f64,
    /// End.
    pub end_s: f64,
    /// Technique word.
    pub technique: &'static str,
    /// Hold duration, written on holds.
    pub hold_s: Option<f64>,
}

/// What the per-recording overview draws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overview {
    /// Recording id.
    pub title: String,
    /// Recording length.
    pub duration_s: f64,
    /// Low-passed force, N.
    pub force: Option<Trace>,
    /// Episodes, shaded on the force panel.
    pub episodes: Vec<EpisodeMark>,
    /// Each EMG channel: name, band-passed signal and RMS envelope (µV).
    pub emg: Vec<(String, Trace, Trace)>,
    /// LTR onsets, marked on every panel.
    pub twitch_onsets_s: Vec<f64>,
}

fn technique_color(technique: &str) -> RGBColor {
    match technique {
        "hold" => RGBColor(66, 133, 244),
        "ppt" => RGBColor(219, 68, 55),
        "snap" => RGBColor(244, 160, 0),
        "strum" => RGBColor(15, 157, 88),
        _ => RGBColor(150, 150, 150),
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    o: &Overview,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&o.title, ("sans-serif", 22))?;
    let panels = root.split_evenly((1 + o.emg.len(), 1));
    let x_range = 0.0..o.duration_s.max(1e-3);
    if let (Some(area), Some(force)) = (panels.first(), &o.force) {
        let (lo, hi) = force.range();
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .caption("force (N), episodes by technique", ("sans-serif", 16))
            .build_cartesian_2d(x_range.clone(), lo.min(0.0)..hi * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("N")
            .light_line_style(WHITE)
            .draw()?;
        for e in &o.episodes {
            let color = technique_color(e.technique);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(e.start_s, lo.min(0.0)), (e.end_s, hi * 1.1)],
                color.mix(0.18).filled(),
            )))?;
            // Brief episodes (snaps) are told by colour alone; their labels would overlap.
            if e.end_s - e.start_s < 0.03 * o.duration_s {
                continue;
            }
            let label = match e.hold_s {
                Some(h) => format!("hold {h:.0} s"),
                None => e.technique.to_string(),
            };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (e.start_s, hi * 1.05),
                ("sans-serif", 12).into_font().color(&color),
            )))?;
        }
        chart.draw_series(LineSeries::new(
            force.t_s.iter().zip(&force.max).map(|(&t, &v)| (t, v)),
            BLACK.stroke_width(1),
        ))?;
        for &t in &o.twitch_onsets_s {
            chart.draw_series(std::iter::once(PathElement::new(
                [(t, lo.min(0.0)), (t, hi * 1.1)],
                RED.stroke_width(1),
            )))?;
        }
    }
    for (area, (name, filtered, envelope)) in panels.iter().skip(1).zip(&o.emg) {
        let (lo, hi) = filtered.range();
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .caption(
                format!("{name}: band-passed (grey), RMS envelope (blue), LTR onsets (red), µV"),
                ("sans-serif", 16),
            )
            .build_cartesian_2d(x_range.clone(), lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("µV")
            .light_line_style(WHITE)
            .draw()?;
        chart.draw_series(
            filtered
                .t_s
                .iter()
                .zip(filtered.min.iter().zip(&filtered.max))
                .map(|(&t, (&a, &b))| PathElement::new([(t, a), (t, b)], RGBColor(160, 160, 160))),
        )?;
        chart.draw_series(LineSeries::new(
            envelope
                .t_s
                .iter()
                .zip(&envelope.max)
                .map(|(&t, &v)| (t, v)),
            RGBColor(26, 115, 232).stroke_width(2),
        ))?;
        for &t in &o.twitch_onsets_s {
            chart.draw_series(std::iter::once(PathElement::new([(t, lo), (t, hi)], RED)))?;
        }
    }
    root.present()
}

/// A channel's Welch PSD with MNF and MDF marked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spectrum {
    /// `recording — channel`.
    pub title: String,
    /// Bin spacing.
    pub df_hz: f64,
    /// Density, µV²/Hz.
    pub density: Vec<f64>,
    /// Mean frequency.
    pub mnf_hz: Option<f64>,
    /// Median frequency.
    pub mdf_hz: Option<f64>,
    /// Highest frequency drawn.
    pub max_hz: f64,
}

fn draw_spectrum<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Spectrum,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let bins = ((s.max_hz / s.df_hz) as usize + 1).min(s.density.len());
    let points: Vec<(f64, f64)> = (1..bins)
        .map(|k| (k as f64 * s.df_hz, s.density[k].max(1e-12).log10() * 10.0))
        .collect();
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo < hi { (lo, hi + 3.0) } else { (-1.0, 1.0) };
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .caption(&s.title, ("sans-serif", 20))
        .build_cartesian_2d(0.0..s.max_hz, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("Hz")
        .y_desc("PSD (dB µV²/Hz)")
        .draw()?;
    chart.draw_series(LineSeries::new(points, BLACK))?;
    for (label, value, color) in [("MNF", s.mnf_hz, BLUE), ("MDF", s.mdf_hz, RED)] {
        if let Some(f) = value {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    [(f, lo), (f, hi)],
                    color.stroke_width(2),
                )))?
                .label(format!("{label} {f:.0} Hz"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

/// Horizontal bars, one per label, with an optional shaded target range.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bars {
    /// Title.
    pub title: String,
    /// Axis label with its unit.
    pub unit: String,
    /// One bar per label; `None` draws nothing for it.
    pub bars: Vec<(String, Option<f64>)>,
    /// A reference range per label (e.g. the healthy PPT), shaded behind the bar.
    pub ranges: Vec<Option<(f64, f64)>>,
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, b: &Bars) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let n = b.bars.len().max(1);
    let hi = b
        .bars
        .iter()
        .filter_map(|(_, v)| *v)
        .chain(b.ranges.iter().flatten().map(|r| r.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let labels: Vec<String> = b.bars.iter().map(|(l, _)| l.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(260)
        .caption(&b.title, ("sans-serif", 20))
        .build_cartesian_2d(0.0..hi, (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .y_labels(n)
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(&b.unit)
        .draw()?;
    let band = |i: usize, lo: f64, hi: f64| {
        [
            (lo, SegmentValue::Exact(i as i32)),
            (hi, SegmentValue::Exact(i as i32 + 1)),
        ]
    };
    for (i, range) in b.ranges.iter().enumerate() {
        if let Some((lo, up)) = range {
            let mut range = Rectangle::new(band(i, *lo, *up), GREEN.mix(0.2).filled());
            range.set_margin(3, 3, 0, 0);
            chart.draw_series(std::iter::once(range))?;
        }
    }
    for (i, (_, value)) in b.bars.iter().enumerate() {
        if let Some(v) = value {
            let mut bar = Rectangle::new(band(i, 0.0, *v), RGBColor(26, 115, 232).filled());
            bar.set_margin(10, 10, 0, 0);
            chart.draw_series(std::iter::once(bar))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{v:.2}"),
                (*v, SegmentValue::CenterOf(i as i32)),
                ("sans-serif", 13),
            )))?;
        }
    }
    root.present()
}

/// A figure drawn the same way to SVG and PNG.
pub enum Figure<'a> {
    /// Per-recording overview.
    Overview(&'a Overview),
    /// Per-channel PSD.
    Spectrum(&'a Spectrum),
    /// Summary bars.
    Bars(&'a Bars),
}

impl Figure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        match self {
            Figure::Overview(o) => draw_overview(root, o),
            Figure::Spectrum(s) => draw_spectrum(root, s),
            Figure::Bars(b) => draw_bars(root, b),
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Overview(o) => (SIZE.0, 260 * (1 + o.emg.len() as u32)),
            Figure::Bars(b) => (SIZE.0 * 3 / 4, 120 + 48 * b.bars.len() as u32),
            Figure::Spectrum(_) => (SIZE.0 * 3 / 4, SIZE.1 * 3 / 4),
        }
    }

    /// The figure as an SVG document.
    ///
    /// # Errors
    /// What plotters reports, as text.
    pub fn svg(&self) -> Result<String, String> {
        ensure_font();
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, self.size()).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// Writes the figure as `<stem>.svg` and `<stem>.png`; returns the SVG.
    ///
    /// # Errors
    /// What plotters or the file system reports, with the file.
    pub fn write(&self, stem: &Path) -> Result<String, String> {
        let svg = self.svg()?;
        crate::output::write_atomically(&stem.with_extension("svg"), |file| {
            use std::io::Write as _;
            file.write_all(svg.as_bytes())
        })
        .map_err(|e| e.to_string())?;
        // Drawn under a temporary name and renamed, as every output is.
        let png_path = stem.with_extension("png");
        let tmp = crate::output::temporary_name(&png_path);
        let drawn = {
            let root = BitMapBackend::new(&tmp, self.size()).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())
        }
        .and_then(|()| std::fs::rename(&tmp, &png_path).map_err(|e| e.to_string()));
        if let Err(e) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", png_path.display()));
        }
        Ok(svg)
    }
}

/// A column of a table the pipeline built itself: a missing column draws as no bars.
fn floats(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    crate::summary::float_column(df, name).unwrap_or_default()
}

fn texts(df: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    crate::summary::text_column(df, name).unwrap_or_default()
}

/// The per-muscle and per-therapist charts (DESIGN §4), written under `dir`; returns
/// (title, file stem relative to the report) per chart.
///
/// # Errors
/// What plotters or the file system reports.
pub fn summary_figures(
    muscles: &polars::prelude::DataFrame,
    therapists: &polars::prelude::DataFrame,
    healthy_ppt_kpa: &std::collections::BTreeMap<String, [f64; 2]>,
    hold_window_s: [f64; 2],
    dir: &Path,
) -> Result<Vec<(String, String)>, String> {
    let subject = texts(muscles, "subject");
    let muscle = texts(muscles, "muscle");
    let side = texts(muscles, "side");
    let labels: Vec<String> = (0..muscles.height())
        .map(|i| format!("sub-{} {} {}", subject[i], muscle[i], side[i]))
        .collect();
    let ratio = |a: &[Option<f64>], b: &[Option<f64>]| -> Vec<Option<f64>> {
        a.iter()
            .zip(b)
            .map(|(x, y)| match (x, y) {
                (Some(x), Some(y)) if *y > 0.0 => Some(x / y),
                _ => None,
            })
            .collect()
    };
    let bars = |values: Vec<Option<f64>>| labels.iter().cloned().zip(values).collect::<Vec<_>>();
    let episodes = floats(muscles, "n_episodes");
    let charts = [
        (
            "muscles_ltr_per_snap",
            Bars {
                title: "LTRs per snap".into(),
                unit: "LTRs / snap".into(),
                bars: bars(floats(muscles, "twitches_per_snap")),
                ranges: Vec::new(),
            },
        ),
        (
            "muscles_taut_band",
            Bars {
                title: "Episodes with a taut band".into(),
                unit: "fraction of episodes".into(),
                bars: bars(ratio(&floats(muscles, "taut_band_episodes"), &episodes)),
                ranges: Vec::new(),
            },
        ),
        (
            "muscles_ppt",
            Bars {
                title: "PPT (mean of trials) against the healthy range (mean ± SD, DOMAIN §3)"
                    .into(),
                unit: "kPa".into(),
                bars: bars(floats(muscles, "ppt_kpa_mean")),
                ranges: muscle
                    .iter()
                    .map(|m| healthy_ppt_kpa.get(m).map(|r| (r[0], r[1])))
                    .collect(),
            },
        ),
        (
            "muscles_hold_compliance",
            Bars {
                title: "Holds that followed the protocol".into(),
                unit: "fraction of holds".into(),
                bars: bars(ratio(
                    &floats(muscles, "holds_ok"),
                    &floats(muscles, "n_holds"),
                )),
                ranges: Vec::new(),
            },
        ),
    ];
    let therapist = texts(therapists, "therapist");
    let per_therapist =
        |values: Vec<Option<f64>>| therapist.iter().cloned().zip(values).collect::<Vec<_>>();
    let therapist_charts = [
        (
            "therapists_holds_ok",
            Bars {
                title: "Holds that followed the protocol, per therapist".into(),
                unit: "% of holds".into(),
                bars: per_therapist(floats(therapists, "holds_ok_pct")),
                ranges: Vec::new(),
            },
        ),
        (
            "therapists_hold_s",
            Bars {
                title: format!(
                    "Median hold duration against the {:.0}–{:.0} s window",
                    hold_window_s[0], hold_window_s[1]
                ),
                unit: "s".into(),
                ranges: vec![Some((hold_window_s[0], hold_window_s[1])); therapist.len()],
                bars: per_therapist(floats(therapists, "hold_s_median")),
            },
        ),
    ];
    charts
        .iter()
        .chain(&therapist_charts)
        .map(|(stem, bars)| {
            Figure::Bars(bars).write(&dir.join(stem))?;
            Ok((bars.title.clone(), (*stem).to_string()))
        })
        .collect()
}

/// The overview and one PSD per EMG channel, written under `dir`; returns (title, stem
/// relative to the output folder) for each.
///
/// # Errors
/// What plotters or the file system reports.
pub fn recording_figures(
    rec: &Recording,
    processed: &Processed,
    cfg: &Config,
    dir: &Path,
) -> Result<Vec<(String, String)>, String> {
    let Processed {
        info,
        signals,
        result,
        ..
    } = processed;
    let stem = distinct_stem(&rec.id);
    let mut overview = Overview {
        title: rec.id.clone(),
        duration_s: info.duration_s,
        episodes: result
            .episodes
            .iter()
            .map(|e| EpisodeMark {
                start_s: e.episode.start_s,
                end_s: e.episode.end_s,
                technique: e.episode.technique.as_str(),
                hold_s: e.episode.plateau.as_ref().map(|p| p.hold_s),
            })
            .collect(),
        twitch_onsets_s: result.twitches.twitches.iter().map(|t| t.onset_s).collect(),
        ..Overview::default()
    };
    let mut spectra = Vec::new();
    for (ch, sig) in rec.channels.iter().zip(&signals.channels) {
        match &sig.conditioned {
            Conditioned::Force(f) if overview.force.is_none() => {
                overview.force = Some(Trace::of(f.lowpass.view(), ch.fs_hz));
            }
            Conditioned::Emg(e) => {
                overview.emg.push((
                    ch.name.clone(),
                    Trace::of(e.filtered.view(), ch.fs_hz),
                    Trace::of(e.envelope().view(), ch.fs_hz),
                ));
                if let Some(psd) = &sig.psd {
                    spectra.push((
                        ch.name.clone(),
                        format!(
                            "{}: PSD with MNF and MDF; {}",
                            ch.name,
                            mains_words(&sig.qc)
                        ),
                        Spectrum {
                            title: format!("{} — {}: Welch PSD", rec.id, ch.name),
                            df_hz: psd.df_hz,
                            density: psd.density.clone(),
                            mnf_hz: sig.mnf_hz,
                            mdf_hz: sig.mdf_hz,
                            max_hz: (ch.fs_hz / 2.0).min(cfg.spectrum.band_hz[1] + 50.0),
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    // One folder per recording: a recording's and a channel's names joined in one file name
    // could meet another pair's (`a` + `b_c`, `a_b` + `c`).
    let folder = dir.join(&stem);
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("{}: cannot create the folder: {e}", folder.display()))?;
    let mut figures = Vec::new();
    Figure::Overview(&overview).write(&folder.join("overview"))?;
    figures.push((
        "Force with episodes by technique; each EMG channel band-passed with its envelope; LTR onsets in red".to_string(),
        format!("plots/{stem}/overview"),
    ));
    let mut used = Vec::new();
    for (channel, caption, spectrum) in &spectra {
        let name = format!("{}_psd", unique_stem(file_stem(channel), &mut used));
        Figure::Spectrum(spectrum).write(&folder.join(&name))?;
        figures.push((caption.clone(), format!("plots/{stem}/{name}")));
    }
    Ok(figures)
}

/// What conditioning did about mains on a channel, for a PSD's caption.
pub fn mains_words(qc: &ChannelQc) -> String {
    let strength = qc
        .mains_snr_db
        .map(|db| format!(" (mains peak {db:.1} dB over its flanks)"))
        .unwrap_or_default();
    match qc.mains_hz {
        Some(f) if qc.notched => format!("notched at {f:.2} Hz and the harmonics that stood out{strength}: the dips there are the notch"),
        _ if qc.notched => format!("notched at the mains frequency and its harmonics{strength}"),
        _ => format!("not notched{strength}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn decimation_keeps_the_peaks() {
        let mut x = Array1::zeros(100_000);
        x[54_321] = 7.0;
        x[12_345] = -3.0;
        let t = Trace::of(x.view(), 1000.0);
        assert!(t.t_s.len() <= TRACE_POINTS);
        assert_eq!(t.max.iter().copied().fold(f64::MIN, f64::max), 7.0);
        assert_eq!(t.min.iter().copied().fold(f64::MAX, f64::min), -3.0);
    }

    #[test]
    fn figures_render_text_as_svg_text() {
        let bars = Bars {
            title: "LTRs per snap".into(),
            unit: "LTRs / snap".into(),
            bars: vec![
                ("upper trapezius".into(), Some(0.5)),
                ("infraspinatus".into(), None),
            ],
            ranges: vec![None, Some((0.2, 0.4))],
        };
        let svg = Figure::Bars(&bars).svg().unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<text"),
            "{}",
            &svg[..200.min(svg.len())]
        );
        assert!(svg.contains("upper trapezius"));
    }
}
