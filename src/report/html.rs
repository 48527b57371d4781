//! `report.html`: one self-contained file (inline SVG, inline CSS, no script, no network
//! request) that a clinician can read: summary, QC warnings, muscles, therapist audit in
//! words, each recording, methods and provenance.

use std::path::Path;

use minijinja::{context, Environment};
use polars::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::detect::audit::describe;
use crate::detect::episodes::Technique;
use crate::model::pressure_kpa;
use crate::signal::quality::QcLevel;
use crate::summary::{audit_ok, is, RecordingSummary, Tables};

/// A table as the report shows it: header and rows of text.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableView {
    /// Column names.
    pub columns: Vec<String>,
    /// Cells, already formatted.
    pub rows: Vec<Vec<String>>,
}

/// A figure: caption and inline SVG.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FigureView {
    /// Caption.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// One recording's section.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RecordingView {
    /// Recording id.
    pub id: String,
    /// `ok`, `skipped` or `failed`.
    pub status: String,
    /// The error of a failed recording, or why a skipped one has nothing to analyse.
    pub error: String,
    /// What a reader must know about its figures (no force, a default probe area, …).
    pub notes: Vec<String>,
    /// Therapist, muscle, side, site, duration.
    pub facts: String,
    /// Overview and PSDs.
    pub figures: Vec<FigureView>,
    /// Its episodes.
    pub episodes: TableView,
}

/// Everything the report shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportView {
    /// Dataset name.
    pub dataset: String,
    /// palpa version.
    pub version: String,
    /// Headline counts, as (label, value).
    pub summary: Vec<(String, String)>,
    /// `recording — channel: reasons` for each channel QC did not pass as ok.
    pub qc_warnings: Vec<String>,
    /// What the mains notch did over the batch, in a sentence.
    pub mains: String,
    /// The `muscles` table.
    pub muscles: TableView,
    /// Per-muscle charts.
    pub muscle_figures: Vec<FigureView>,
    /// The `therapists` table.
    pub therapists: TableView,
    /// Per-therapist charts.
    pub therapist_figures: Vec<FigureView>,
    /// Per therapist, each flagged hold or trial in words.
    pub audit_notes: Vec<(String, Vec<String>)>,
    /// Each recording.
    pub recordings: Vec<RecordingView>,
    /// The methods text, as paragraphs.
    pub methods: Vec<String>,
    /// Provenance lines.
    pub provenance: Vec<String>,
}

const TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>palpa report — {{ r.dataset }}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 1250px; color: #222; line-height: 1.45; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 2px solid #1a73e8; padding-bottom: .2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .8rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
th { background: #f1f3f4; }
.scroll { overflow-x: auto; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; }
.card { background: #f1f3f4; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.warn { color: #b06000; } .bad { color: #c5221f; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #555; }
details { margin: .6rem 0; } summary { cursor: pointer; font-weight: bold; }
</style>
</head>
<body>
<h1>palpa report — {{ r.dataset }}</h1>
<p>palpa {{ r.version }}. Force and surface EMG of palpation sessions: contact episodes and their technique, local twitch responses (LTRs), taut-band evidence, and the pressure-technique audit.</p>

<h2 id="summary">Summary</h2>
<div class="cards">{% for label, value in r.summary %}<div class="card"><b>{{ value }}</b>{{ label }}</div>{% endfor %}</div>

<h2 id="qc">Quality warnings</h2>
{% if r.qc_warnings %}<ul>{% for w in r.qc_warnings %}<li class="warn">{{ w }}</li>{% endfor %}</ul>
{% else %}<p>Every channel passed quality control.</p>{% endif %}
<p>{{ r.mains }}</p>

<h2 id="muscles">Muscles</h2>
{{ table(r.muscles) }}
{% for f in r.muscle_figures %}<figure>{{ f.svg|safe }}<figcaption>{{ f.title }}</figcaption></figure>{% endfor %}

<h2 id="audit">Therapist audit</h2>
{{ table(r.therapists) }}
{% for f in r.therapist_figures %}<figure>{{ f.svg|safe }}<figcaption>{{ f.title }}</figcaption></figure>{% endfor %}
{% for therapist, notes in r.audit_notes %}
<h3>{{ therapist }}</h3>
{% if notes %}<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% else %}<p>Every hold and trial followed the protocol.</p>{% endif %}
{% endfor %}

<h2 id="recordings">Recordings</h2>
{% for rec in r.recordings %}
<details{% if loop.first %} open{% endif %}>
<summary>{{ rec.id }}{% if rec.status != "ok" %} <span class="bad">— {{ rec.status }}</span>{% endif %}</summary>
{% if rec.status != "ok" %}<p class="bad">{{ rec.error }}</p>{% else %}
<p>{{ rec.facts }}</p>
{% if rec.notes %}<ul>{% for n in rec.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{{ table(rec.episodes) }}
{% for f in rec.figures %}<figure>{{ f.svg|safe }}<figcaption>{{ f.title }}</figcaption></figure>{% endfor %}
{% endif %}
</details>
{% endfor %}

<h2 id="methods">Methods</h2>
{% for p in r.methods %}<p>{{ p }}</p>{% endfor %}

<h2 id="provenance">Provenance</h2>
<ul>{% for p in r.provenance %}<li>{{ p }}</li>{% endfor %}</ul>
</body>
</html>
"#;

const TABLE_MACRO: &str = r#"<div class="scroll"><table><thead><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in t.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>"#;

/// The report as HTML.
///
/// # Errors
/// A template error (a bug, reported rather than panicking).
pub fn render(view: &ReportView) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("table.html", TABLE_MACRO)?;
    env.add_template("report.html", TEMPLATE)?;
    env.add_function(
        "table",
        |state: &minijinja::State,
         t: minijinja::Value|
         -> Result<minijinja::Value, minijinja::Error> {
            let html = state
                .env()
                .get_template("table.html")?
                .render(context! { t })?;
            Ok(minijinja::Value::from_safe_string(html))
        },
    );
    env.get_template("report.html")?
        .render(context! { r => minijinja::value::Serde(view) })
}

/// A DataFrame as text cells: floats to three significant decimals, nulls empty.
pub fn table_view(df: &DataFrame) -> TableView {
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let cells: Vec<Vec<String>> = df
        .columns()
        .iter()
        .map(|c| {
            let as_float = c.dtype().is_float();
            (0..df.height())
                .map(|i| match c.get(i) {
                    Ok(AnyValue::Null) | Err(_) => String::new(),
                    Ok(v) if as_float => v
                        .extract::<f64>()
                        .map_or_else(String::new, |x| format!("{x:.3}")),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    Ok(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    TableView {
        columns,
        rows: (0..df.height())
            .map(|i| cells.iter().map(|c| c[i].clone()).collect())
            .collect(),
    }
}

/// Reads `<out>/<stem>.svg` for inlining; an unreadable figure shows as a note.
pub fn figure(out: &Path, title: &str, stem: &str) -> FigureView {
    let path = out.join(format!("{stem}.svg"));
    FigureView {
        title: title.to_string(),
        // Inline SVG in HTML needs no namespace; dropping it leaves no URL in the file.
        svg: std::fs::read_to_string(&path)
            .map(|svg| svg.replace(r#" xmlns="http://www.w3.org/2000/svg""#, ""))
            .unwrap_or_else(|e| format!("<p>({} could not be read: {e})</p>", path.display())),
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(String::new, |v| format!("{v:.digits$}"))
}

/// What the report is made from.
#[derive(Clone, Copy)]
pub struct ReportInputs<'a> {
    /// Dataset name.
    pub dataset: &'a str,
    /// Every recording of the batch.
    pub rows: &'a [RecordingSummary],
    /// The batch's tables, which every count is read from.
    pub tables: &'a Tables,
    /// Per-muscle and per-therapist charts: (title, stem relative to `out`).
    pub summary_figures: &'a [(String, String)],
    /// The output folder, where the figures are.
    pub out: &'a Path,
    /// The resolved configuration.
    pub cfg: &'a Config,
}

/// The report's content.
pub fn build_view(inputs: ReportInputs<'_>) -> ReportView {
    let ReportInputs {
        dataset,
        rows,
        tables,
        summary_figures,
        out,
        cfg,
    } = inputs;
    let [notched, conditioned] = tables.notched_channels();
    let methods = crate::report::methods::methods_markdown(cfg, [notched, conditioned]);
    let mains = format!(
        "Mains interference: {notched} of {conditioned} analysed sEMG channels carried a mains \
         line (a peak at least {} dB above its neighbouring frequencies) and were notched at \
         the frequency measured on them; the others were not notched. The channels table gives \
         each channel's mains_hz, mains_snr_db and notched.",
        cfg.qc.mains_line_min_db
    );
    let ok: Vec<_> = rows
        .iter()
        .filter_map(|r| r.result.as_ref().ok().map(|x| (r, x)))
        .collect();
    let episodes = &tables.episodes;
    let count = |df: &DataFrame, predicate: Expr| {
        df.clone()
            .lazy()
            .filter(predicate)
            .collect()
            .map_or(0, |d| d.height())
    };
    let holds = count(episodes, is(Technique::Hold));
    let with_force = count(&tables.recordings, col("n_episodes").is_not_null());
    let mut summary = vec![
        (
            "recordings processed".into(),
            count(&tables.recordings, col("status").eq(lit("ok"))).to_string(),
        ),
        (
            "recordings skipped (nothing to analyse)".into(),
            count(&tables.recordings, col("status").eq(lit("skipped"))).to_string(),
        ),
        (
            "recordings failed".into(),
            count(&tables.recordings, col("status").eq(lit("failed"))).to_string(),
        ),
        (
            "recordings with a usable force channel".into(),
            with_force.to_string(),
        ),
    ];
    // Episodes, LTRs and the audit need force: with none, their counts are unknown, not 0.
    let measured = |value: String| {
        if with_force == 0 {
            "not measurable (no recording has a usable force channel)".to_string()
        } else {
            value
        }
    };
    summary.extend([
        (
            "contact episodes".into(),
            measured(episodes.height().to_string()),
        ),
        (
            "holds following the protocol".into(),
            measured(format!(
                "{} of {holds}",
                count(episodes, is(Technique::Hold).and(audit_ok()))
            )),
        ),
        (
            "LTRs".into(),
            measured(tables.twitches.height().to_string()),
        ),
        (
            "episodes with a taut band".into(),
            measured(count(episodes, col("taut_band").eq(lit(true))).to_string()),
        ),
        (
            "withdrawals".into(),
            measured(count(episodes, col("withdrawal").eq(lit(true))).to_string()),
        ),
    ]);
    let mut qc_warnings = Vec::new();
    for (r, x) in &ok {
        qc_warnings.extend(x.notes.iter().map(|n| format!("{} — {n}", r.id)));
        let Some(info) = &r.info else { continue };
        for (c, q) in info.channels.iter().zip(&x.channels) {
            if q.qc.qc != QcLevel::Ok {
                qc_warnings.push(format!(
                    "{} — {} ({}): {}",
                    r.id,
                    c.name,
                    q.qc.qc.as_str(),
                    q.qc.reasons.join("; ")
                ));
            }
        }
    }
    let mut audit_notes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (r, x) in &ok {
        let therapist = r
            .meta
            .therapist
            .clone()
            .unwrap_or_else(|| "(no therapist)".into());
        let notes = audit_notes.entry(therapist).or_default();
        let muscle = r.meta.palpated_muscle.as_ref().map_or("", |m| m.as_str());
        for e in &x.episodes {
            let Some(a) = &e.audit else { continue };
            if a.ok() {
                continue;
            }
            let words: Vec<String> = a
                .flags
                .iter()
                .map(|&f| describe(f, &e.episode, a, r.meta.probe_area_cm2, &cfg.audit))
                .collect();
            notes.push(format!(
                "{} ({muscle}), {} at {:.0} s: {}",
                r.id,
                e.episode.technique.as_str(),
                e.episode.start_s,
                words.join("; ")
            ));
        }
    }
    let recordings = rows
        .iter()
        .map(|r| {
            let mut view = RecordingView {
                id: r.id.clone(),
                status: crate::summary::status(r).into(),
                error: match &r.result {
                    Err(e) => e.clone(),
                    Ok(x) => x.skipped.clone().unwrap_or_default(),
                },
                ..RecordingView::default()
            };
            if let Ok(x) = &r.result {
                view.notes = r.notes();
                view.facts = format!(
                    "therapist {}; muscle {} {}; site {}; {:.0} s",
                    r.meta.therapist.as_deref().unwrap_or("unknown"),
                    r.meta
                        .palpated_muscle
                        .as_ref()
                        .map_or("unknown", |m| m.as_str()),
                    r.meta.palpated_side.map_or("", |s| s.as_str()),
                    r.meta.palpation_site.as_deref().unwrap_or("unknown"),
                    r.info.as_ref().map_or(0.0, |i| i.duration_s),
                );
                view.figures = r
                    .figures
                    .iter()
                    .map(|(t, stem)| figure(out, t, stem))
                    .collect();
                let area = r.meta.probe_area_cm2;
                view.episodes = TableView {
                    columns: [
                        "#",
                        "start s",
                        "end s",
                        "technique",
                        "hold s",
                        "plateau kPa",
                        "PPT kPa",
                        "taut band",
                        "audit",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: x
                        .episodes
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            let p = e.episode.plateau.as_ref();
                            vec![
                                (i + 1).to_string(),
                                format!("{:.2}", e.episode.start_s),
                                format!("{:.2}", e.episode.end_s),
                                e.episode.technique.as_str().to_string(),
                                opt(p.map(|p| p.hold_s), 1),
                                opt(p.map(|p| pressure_kpa(p.plateau_n, area)), 0),
                                opt(e.episode.ppt_n.map(|n| pressure_kpa(n, area)), 0),
                                e.taut_band.map_or(String::new(), |(s, b)| {
                                    format!("{} ({s:.2})", if b { "yes" } else { "no" })
                                }),
                                e.audit.as_ref().map_or(String::new(), |a| {
                                    if a.ok() {
                                        "ok".into()
                                    } else {
                                        a.flags
                                            .iter()
                                            .map(|f| f.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    }
                                }),
                            ]
                        })
                        .collect(),
                };
            }
            view
        })
        .collect();
    let (muscle_figures, therapist_figures): (Vec<_>, Vec<_>) = summary_figures
        .iter()
        .map(|(t, stem)| (stem.starts_with("plots/muscles"), figure(out, t, stem)))
        .partition(|(m, _)| *m);
    ReportView {
        dataset: dataset.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        summary,
        qc_warnings,
        mains,
        muscles: table_view(&tables.muscles),
        muscle_figures: muscle_figures.into_iter().map(|(_, f)| f).collect(),
        therapists: table_view(&tables.therapists),
        therapist_figures: therapist_figures.into_iter().map(|(_, f)| f).collect(),
        audit_notes: audit_notes.into_iter().collect(),
        recordings,
        methods: methods
            .split("\n\n")
            .filter(|p| !p.starts_with('#'))
            .map(|p| p.replace("**", "").replace('`', "").replace('\n', " "))
            .collect(),
        provenance: vec![
            format!("palpa {}", env!("CARGO_PKG_VERSION")),
            format!("dataset: {dataset}"),
            format!(
                "{} recordings, {} input files (sizes and SHA-256 in run.json)",
                rows.len(),
                rows.iter().map(|r| r.inputs.len()).sum::<usize>()
            ),
            "the resolved configuration is in run.json; methods.md states every parameter".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_svg_is_inlined() {
        let view = ReportView {
            dataset: "demo <1>".into(),
            muscle_figures: vec![FigureView {
                title: "t".into(),
                svg: "<svg id=\"x\"></svg>".into(),
            }],
            muscles: TableView {
                columns: vec!["muscle".into()],
                rows: vec![vec!["upper trapezius".into()]],
            },
            ..ReportView::default()
        };
        let html = render(&view).unwrap();
        assert!(html.contains("demo &lt;1&gt;"));
        assert!(html.contains("<svg id=\"x\"></svg>"));
        assert!(html.contains("<td>upper trapezius</td>"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
