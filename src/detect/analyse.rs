//! A conditioned recording's analysis (DESIGN §3.3–§3.7): contact episodes from the force,
//! taut-band evidence, twitches and withdrawals, the MDF of holds, every channel's resting
//! RMS, and the technique audit; and the plain result types the tables are built from.

use rayon::prelude::*;

use crate::config::Config;
use crate::detect::audit::{audit, Audit, AuditContext};
use crate::detect::episodes::{detect_episodes, Episode, Technique};
use crate::detect::taut_band::{
    add_emg_evidence, force_evidence, score, BandEvidence, ForceEvidenceInput,
};
use crate::detect::twitch::{
    contact_free, detect_twitches, drop_marks, EmgView, ForceView, TwitchInput, TwitchReport,
};
use crate::model::{pressure_kpa, ChannelKind, Recording};
use crate::signal::condition::RecordingSignals;
use crate::signal::quality::ChannelQc;
use crate::signal::spectrum::{edge_mdf_hz, Welch};

/// What palpa found in one recording: plain values for the tables, no samples.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RecordingResult {
    /// Channel QC and spectra, one per channel in recording order.
    pub channels: Vec<ChannelResult>,
    /// Contact episodes with their evidence and audit.
    pub episodes: Vec<EpisodeResult>,
    /// LTRs.
    pub twitches: TwitchReport,
    /// The palpated EMG channel's name, when one was identified and analysed.
    pub palpated_channel: Option<String>,
    /// What a reader must know about the recording's figures, in words (a palpated channel
    /// QC kept out, say).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Whether a force channel was analysed. Without one, contact episodes, LTRs and the
    /// audit were not measured: their counts are unknown, not 0.
    pub force_measured: bool,
    /// Why nothing was analysed, when the recording has neither a usable sEMG nor a usable
    /// force channel (DESIGN §9: `skipped`, not `ok`).
    pub skipped: Option<String>,
}

/// One channel's figures.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChannelResult {
    /// QC figures and verdict.
    pub qc: ChannelQc,
    /// RMS of the band-passed EMG over contact-free samples, when they total at least
    /// `qc.contact_free_min_s` (else `None`, with the reason in the QC reasons).
    pub rest_rms_uv: Option<f64>,
    /// Mean frequency.
    pub mnf_hz: Option<f64>,
    /// Median frequency.
    pub mdf_hz: Option<f64>,
}

/// One episode with everything measured on it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EpisodeResult {
    /// Segmentation and technique.
    pub episode: Episode,
    /// Taut-band evidence.
    pub evidence: BandEvidence,
    /// Score and verdict, when mechanical evidence applies.
    pub taut_band: Option<(f64, bool)>,
    /// MDF of the palpated EMG over a hold's first and last `hold_edge_s`.
    pub mdf_edges_hz: [Option<f64>; 2],
    /// A withdrawal during contact.
    pub withdrawal: bool,
    /// Audit of holds and PPT trials.
    pub audit: Option<Audit>,
}

/// Every detection stage on one conditioned recording. A recording without force gets EMG
/// figures only; one without EMG gets episodes, the audit and force twitches.
pub fn analyse(rec: &Recording, signals: &RecordingSignals, cfg: &Config) -> RecordingResult {
    let force = signals
        .first_force()
        .map(|(i, f)| (rec.channels[i].fs_hz, f));
    let episodes: Vec<Episode> = force.map_or_else(Vec::new, |(fs_hz, f)| {
        detect_episodes(f.lowpass.view(), fs_hz, &rec.annotations, &cfg.episodes)
    });
    let mut evidence = match force {
        Some((fs_hz, f)) => force_evidence(
            ForceEvidenceInput {
                force_n: f.debiased.view(),
                fs_hz,
                displacement_mm: rec
                    .channels
                    .iter()
                    .find(|c| c.kind == ChannelKind::Displacement && c.fs_hz == fs_hz)
                    .map(|c| c.samples.view()),
                episodes: &episodes,
            },
            &cfg.episodes,
            &cfg.taut_band,
        ),
        None => vec![BandEvidence::default(); episodes.len()],
    };
    let drops = drop_marks(&episodes, &evidence);
    let mut notes = Vec::new();
    let palpated = match palpated_emg(rec, signals) {
        Palpated::Usable(p) => Some(p),
        Palpated::Excluded(p) => {
            notes.push(format!(
                "palpated muscle's sEMG channel {} failed QC ({}): sEMG LTRs not measured, \
                 force twitches only",
                rec.channels[p].name,
                signals.channels[p].qc.reasons.join("; ")
            ));
            None
        }
        Palpated::Absent => None,
    };
    let contralateral = palpated.and_then(|p| contralateral_emg(rec, signals, p));
    let emg_view = |i: usize| {
        signals.channels[i].emg().map(|e| EmgView {
            filtered: e.filtered.view(),
            fs_hz: rec.channels[i].fs_hz,
        })
    };
    // Pressure-evoked EMG and the MDF shift of holds, on the palpated channel.
    let palpated_evidence = |evidence: &mut Vec<BandEvidence>| {
        let mut mdf_edges = vec![[None, None]; episodes.len()];
        let Some(p) = palpated else { return mdf_edges };
        let (Some(e), fs) = (signals.channels[p].emg(), rec.channels[p].fs_hz) else {
            return mdf_edges;
        };
        add_emg_evidence(evidence, e.envelope().view(), fs, &episodes, &cfg.taut_band);
        let Ok(welch) = Welch::plan(fs, &cfg.spectrum) else {
            return mdf_edges;
        };
        for (i, ep) in episodes.iter().enumerate() {
            if ep.technique == Technique::Hold {
                let span = [ep.start_s, ep.end_s];
                mdf_edges[i] = edge_mdf_hz(&welch, e.filtered.view(), span, &cfg.spectrum);
            }
        }
        mdf_edges
    };
    // The twitch detector is a chain of steps on the palpated channel; the evoked EMG, the
    // hold MDFs and every channel's resting RMS fill the other threads meanwhile.
    let (twitches, (mdf_edges, channels)) = rayon::join(
        || {
            detect_twitches(
                TwitchInput {
                    emg: palpated.and_then(emg_view),
                    contralateral: contralateral.and_then(emg_view),
                    force: force.map(|(fs_hz, f)| ForceView {
                        debiased: f.debiased.view(),
                        fs_hz,
                    }),
                    episodes: &episodes,
                    drops: &drops,
                    envelope_window_ms: cfg.emg.envelope_window_ms,
                },
                &cfg.twitch,
            )
        },
        || {
            rayon::join(
                || palpated_evidence(&mut evidence),
                || channel_results(rec, signals, force.is_some(), &episodes, cfg),
            )
        },
    );

    let ppts: Vec<f64> = episodes.iter().filter_map(|e| e.ppt_n).collect();
    let probe_area_cm2 = rec.meta.probe_area_cm2;
    let ctx = AuditContext {
        probe_area_cm2,
        session_ppt_kpa: (!ppts.is_empty())
            .then(|| pressure_kpa(ppts.iter().sum::<f64>() / ppts.len() as f64, probe_area_cm2)),
    };
    let audits = audit(&episodes, &twitches.withdrawals, ctx, &cfg.audit);
    let episodes = episodes
        .into_iter()
        .zip(evidence)
        .zip(audits)
        .zip(mdf_edges)
        .enumerate()
        .map(
            |(i, (((episode, evidence), audit), mdf_edges_hz))| EpisodeResult {
                taut_band: score(episode.technique, &evidence, &cfg.taut_band),
                withdrawal: twitches.withdrawals.get(i).copied().unwrap_or(false),
                episode,
                evidence,
                mdf_edges_hz,
                audit,
            },
        )
        .collect();
    let skipped = unanalysable(rec, signals);
    if skipped.is_none() && force.is_none() {
        notes.push(
            "no usable force channel: contact episodes, LTRs and the technique audit were not \
             measurable"
                .into(),
        );
    }
    RecordingResult {
        channels,
        episodes,
        palpated_channel: palpated.map(|p| rec.channels[p].name.clone()),
        twitches,
        notes,
        force_measured: force.is_some(),
        skipped,
    }
}

/// Why `rec` has nothing palpa analyses, when it has neither a conditioned sEMG nor a
/// conditioned force channel.
fn unanalysable(rec: &Recording, signals: &RecordingSignals) -> Option<String> {
    let usable =
        |s: &crate::signal::condition::ChannelSignals| s.emg().is_some() || s.force().is_some();
    if signals.channels.iter().any(usable) {
        return None;
    }
    let measured: Vec<&str> = rec
        .channels
        .iter()
        .filter(|c| matches!(c.kind, ChannelKind::Emg | ChannelKind::Force))
        .map(|c| c.name.as_str())
        .collect();
    Some(if measured.is_empty() {
        format!(
            "no sEMG or force channel among its {} channels (name them in a channels TSV \
             or palpa.toml, with `type`/`kind` and `units`)",
            rec.channels.len()
        )
    } else {
        format!(
            "every sEMG and force channel failed QC ({})",
            measured.join(", ")
        )
    })
}

/// Each channel's QC, rest RMS (EMG outside contacts) and spectral figures. Rest is
/// contact-free, so a recording without force has none.
fn channel_results(
    rec: &Recording,
    signals: &RecordingSignals,
    has_force: bool,
    episodes: &[Episode],
    cfg: &Config,
) -> Vec<ChannelResult> {
    signals
        .channels
        .par_iter()
        .zip(&rec.channels)
        .map(|(s, ch)| {
            let mut qc = s.qc.clone();
            let rest = s.emg().map(|e| {
                if !has_force {
                    return Err(
                        "no force channel, so no stretch is known to be free of contact".into(),
                    );
                }
                let margin_s = cfg.twitch.quiet_margin_s;
                rest_rms(
                    e.filtered.view(),
                    ch.fs_hz,
                    episodes,
                    margin_s,
                    cfg.qc.contact_free_min_s,
                )
            });
            let rest_rms_uv = match rest {
                Some(Ok(rms)) => Some(rms),
                Some(Err(why)) => {
                    qc.reasons.push(format!("rest RMS not measured: {why}"));
                    None
                }
                None => None,
            };
            ChannelResult {
                qc,
                rest_rms_uv,
                mnf_hz: s.mnf_hz,
                mdf_hz: s.mdf_hz,
            }
        })
        .collect()
}

/// RMS of `x` over the samples at least `margin_s` from every contact, when they total at
/// least `min_s`; otherwise why not.
fn rest_rms(
    x: ndarray::ArrayView1<f64>,
    fs_hz: f64,
    episodes: &[Episode],
    margin_s: f64,
    min_s: f64,
) -> Result<f64, String> {
    let free = contact_free(x.len(), fs_hz, episodes, margin_s);
    let (n, squares) = x
        .iter()
        .zip(&free)
        .filter(|(_, &f)| f)
        .fold((0usize, 0.0), |(n, s), (v, _)| (n + 1, s + v * v));
    let free_s = n as f64 / fs_hz;
    if free_s < min_s || n == 0 {
        return Err(format!(
            "{free_s:.1} s free of contact (at least {min_s} s needed)"
        ));
    }
    Ok((squares / n as f64).sqrt())
}

/// Which EMG channel witnesses the palpated muscle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Palpated {
    /// This channel, analysed.
    Usable(usize),
    /// The palpated muscle's channel exists but QC kept it out: no other muscle stands in
    /// for it, as its bursts would be reported under the palpated muscle's name.
    Excluded(usize),
    /// No channel is known to record the palpated muscle.
    Absent,
}

/// The palpated muscle's EMG channel: the one whose muscle (and side, when known) matches
/// the recording's palpated muscle, else the only analysable EMG channel; `Excluded` when
/// the matching channel exists but is not usable.
fn palpated_emg(rec: &Recording, signals: &RecordingSignals) -> Palpated {
    let usable = |i: usize| signals.channels[i].emg().is_some();
    let muscle = rec.meta.palpated_muscle.as_ref();
    let side = rec.meta.palpated_side;
    // Of the palpated muscle's EMG channels (usable or not), those on its side or of an
    // unknown side, then any side.
    let matching = |check_side: bool| {
        (0..rec.channels.len()).filter(move |&i| {
            let ch = &rec.channels[i];
            ch.kind == ChannelKind::Emg
                && muscle.is_some()
                && ch.muscle.as_ref() == muscle
                && (!check_side || side.is_none() || ch.side.is_none() || ch.side == side)
        })
    };
    if let Some(p) = matching(true).find(|&i| usable(i)) {
        return Palpated::Usable(p);
    }
    if let Some(p) = matching(true).next() {
        return Palpated::Excluded(p);
    }
    let usable_all: Vec<usize> = (0..rec.channels.len()).filter(|&i| usable(i)).collect();
    matching(false)
        .find(|&i| usable(i))
        .or_else(|| (usable_all.len() == 1).then(|| usable_all[0]))
        .map_or(Palpated::Absent, Palpated::Usable)
}

/// The same muscle's usable EMG channel on the other side of the palpated channel `p`.
fn contralateral_emg(rec: &Recording, signals: &RecordingSignals, p: usize) -> Option<usize> {
    let (muscle, side) = (&rec.channels[p].muscle, rec.channels[p].side);
    (0..rec.channels.len()).find(|&i| {
        i != p
            && signals.channels[i].emg().is_some()
            && rec.channels[i].muscle == *muscle
            && muscle.is_some()
            && side.is_some()
            && rec.channels[i].side.is_some()
            && rec.channels[i].side != side
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    fn contact(start_s: f64, end_s: f64) -> Episode {
        Episode {
            start_s,
            end_s,
            technique: Technique::Hold,
            peak_n: 10.0,
            plateau: None,
            ppt_n: None,
            ppt_ramp_n_per_s: None,
        }
    }

    #[test]
    fn rest_is_taken_only_away_from_contact_and_only_when_there_is_enough() {
        // 10 s at 100 Hz: 1 µV at rest, 100 µV in contact from 2 to 8 s.
        let x = Array1::from_shape_fn(1000, |i| if (200..800).contains(&i) { 100.0 } else { 1.0 });
        let rms = rest_rms(x.view(), 100.0, &[contact(2.0, 8.0)], 0.5, 2.0).unwrap();
        assert!((rms - 1.0).abs() < 1e-12, "{rms}");
        // 1.5 + 1.5 s free of contact: too little for 4 s.
        let why = rest_rms(x.view(), 100.0, &[contact(2.0, 8.0)], 0.5, 4.0).unwrap_err();
        assert!(why.contains("3.0 s free of contact"), "{why}");
        // Contact throughout: no rest, whatever the whole recording's RMS.
        assert!(rest_rms(x.view(), 100.0, &[contact(0.0, 10.0)], 0.5, 2.0).is_err());
    }
}
