//! Every tunable number of the pipeline, with its default and where that default comes from.
//!
//! Defaults follow DESIGN §3; sources are named as `DOMAIN §n` (the field's literature,
//! `../shared/DOMAIN.md`) or `DESIGN §n` where the design fixes a value without a citation.
//! A TOML file overrides any subset (`palpa config` prints the whole default); an unknown
//! key or a value of the wrong type is an error naming the key, and [`Config::validate`]
//! reports every inconsistent value at once.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The resolved configuration of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What the lab knows of every recording of the dataset (DESIGN §2.1).
    pub dataset: DatasetConfig,
    /// Channel rules by name (DESIGN §2.1), first match wins.
    pub channels: Vec<ChannelRule>,
    /// Channel quality control (DESIGN §3.1).
    pub qc: QcConfig,
    /// sEMG conditioning (DESIGN §3.2).
    pub emg: EmgConfig,
    /// Force conditioning (DESIGN §3.2).
    pub force: ForceConfig,
    /// Welch spectra (DESIGN §3.6).
    pub spectrum: SpectrumConfig,
    /// Contact episodes and technique classes (DESIGN §3.3).
    pub episodes: EpisodeConfig,
    /// Local twitch responses (DESIGN §3.4).
    pub twitch: TwitchConfig,
    /// Taut-band scoring (DESIGN §3.5).
    pub taut_band: TautBandConfig,
    /// Technique audit protocol (DESIGN §3.7).
    pub audit: AuditConfig,
    /// Reference values drawn in the report (DESIGN §4).
    pub report: ReportConfig,
    /// The synthetic datasets of `palpa simulate` (DESIGN §6).
    pub simulate: SimulationConfig,
}

/// Probe area when neither the sidecar nor the dataset file gives one: the 1 cm² disc of a
/// standard algometer (Fischer 1987, DOMAIN §3).
pub const DEFAULT_PROBE_AREA_CM2: f64 = 1.0;

/// What a lab states once for a whole dataset, in `palpa.toml` at its root or a `-c` file.
/// A recording's sidecar overrides each key (DESIGN §2.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetConfig {
    /// Mains frequency, Hz (sidecar `PowerLineFrequency`); unset, the spectrum decides.
    pub power_line_hz: Option<f64>,
    /// Probe contact area, cm² (sidecar `ProbeAreaCm2`); unset, [`DEFAULT_PROBE_AREA_CM2`].
    pub probe_area_cm2: Option<f64>,
    /// Rate of tables without a time column, Hz (sidecar `SamplingFrequency`).
    pub sampling_frequency_hz: Option<f64>,
    /// Therapist (sidecar `Therapist`).
    pub therapist: Option<String>,
    /// Palpated muscle (sidecar `PalpatedMuscle`).
    pub palpated_muscle: Option<String>,
    /// Palpated side, `left` or `right` (sidecar `PalpatedSide`).
    pub palpated_side: Option<String>,
}

/// How channels of a given name are read, where the file and `*_channels.tsv` do not say:
/// a `*_channels.tsv` row overrides the rule's kind, unit, muscle and side, except the unit
/// of a calibrating rule, which is the unit its calibration ends in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// Channel name, exact or a glob (`*` any run of characters, `?` one).
    pub name: String,
    /// `emg`, `force`, `displacement`, `trigger` or `other`.
    pub kind: Option<String>,
    /// Unit of the values, after `scale` and `offset` when they are given.
    pub unit: Option<String>,
    /// Muscle under the electrode or probe.
    pub muscle: Option<String>,
    /// `left` or `right`.
    pub side: Option<String>,
    /// Calibration: value in `unit` = stored value × `scale` + `offset` (a load cell in V).
    pub scale: Option<f64>,
    /// Calibration offset, in `unit`.
    pub offset: Option<f64>,
}

impl ChannelRule {
    /// Whether `channel` is one this rule is for.
    pub fn matches(&self, channel: &str) -> bool {
        glob_match(self.name.as_bytes(), channel.as_bytes())
    }

    /// Whether the rule calibrates its channels (and so states the unit they end in).
    pub fn calibrates(&self) -> bool {
        self.scale.is_some() || self.offset.is_some()
    }
}

/// `*` and `?` globs, byte-wise (a `?` against a multi-byte letter needs as many `?`s; no
/// channel name palpa has met needs better).
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            glob_match(rest, name) || (!name.is_empty() && glob_match(pattern, &name[1..]))
        }
        (Some((b'?', p)), Some((_, n))) => glob_match(p, n),
        (Some((a, p)), Some((b, n))) if a == b => glob_match(p, n),
        _ => false,
    }
}

/// Reference values drawn in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Healthy PPT per muscle, mean ± 1 SD in kPa (Bordachar 2019: upper trapezius
    /// 4.31 ± 2.09, infraspinatus 6.33 ± 2.25 kg/cm², DOMAIN §3); other muscles have no
    /// retrieved reference.
    pub healthy_ppt_kpa: std::collections::BTreeMap<String, [f64; 2]>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        let kpa = |mean_kg: f64, sd_kg: f64| {
            let k = crate::model::KPA_PER_KG_CM2;
            [
                ((mean_kg - sd_kg) * k).round(),
                ((mean_kg + sd_kg) * k).round(),
            ]
        };
        ReportConfig {
            healthy_ppt_kpa: [
                ("upper trapezius".to_string(), kpa(4.31, 2.09)),
                ("infraspinatus".to_string(), kpa(6.33, 2.25)),
            ]
            .into(),
        }
    }
}

/// Channel quality control (DESIGN §3.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QcConfig {
    /// A step smaller than this (in the channel's unit) counts as no change (DESIGN §3.1).
    pub flat_step_max: f64,
    /// Shortest run of unchanged samples that counts as a flat line (DESIGN §3.1).
    pub flat_min_ms: f64,
    /// Samples within this fraction of the range from its limits count as clipped (DESIGN §3.1).
    pub clip_margin_fraction: f64,
    /// An observed extreme reached by at least this many samples is a rail (DESIGN §3.1:
    /// "observed extremes when those repeat"; palpa choice).
    pub clip_repeat_min_samples: usize,
    /// A time step above this many sample periods is a gap (DESIGN §2.2).
    pub gap_periods: f64,
    /// Largest drift, at a regular XDF stream's last sample, of its timestamps from its
    /// nominal rate; beyond it the file is refused (palpa choice: LSL jitter and a crystal's
    /// tens of ppm over a few minutes pass, a lost packet does not).
    pub xdf_drift_max_ms: f64,
    /// sEMG band of the raw spectrum: its upper edge bounds the low-frequency ratio's
    /// denominator and is the corner a slow rate cannot honour (DESIGN §3.1).
    pub total_band_hz: [f64; 2],
    /// Widest bin of the mains search spectrum: separates a line from sEMG's broadband
    /// power (DESIGN §3.1; Zapline-plus, Klug & Kloosterman 2022, searches 0.1 Hz bins).
    pub mains_resolution_hz: f64,
    /// Fewest half-overlapping segments averaged in the mains search; shorter recordings get
    /// shorter segments, so one noisy bin is not taken for a line (palpa choice).
    pub mains_min_segments: usize,
    /// Coarsest bin accepted when a short recording shortens the segments; below that the
    /// mains is not measured (palpa choice: a 1 Hz bin still parts 50 Hz from its flanks).
    pub mains_resolution_max_hz: f64,
    /// Half-width of the search around each expected line: mains drifts (EN 50160 allows
    /// ±1% at 50 Hz; DESIGN §3.1).
    pub mains_search_hz: f64,
    /// Flanks of a peak: bins this far from it (Hz, inner and outer), whose median is the
    /// background; the inner edge clears the Hann main lobe and a drifting line's spread
    /// (DESIGN §3.1: "a few Hz each side, adjacent bins excluded").
    pub mains_flank_hz: [f64; 2],
    /// A peak at least this far above its flanks (dB) is a line (DESIGN §3.1; Zapline-plus
    /// uses +4 dB, palpa asks a little more so white noise never passes).
    pub mains_line_min_db: f64,
    /// Where few segments are averaged, a line must also stand above the height noise
    /// reaches with this one-sided normal quantile (3.5: 2.3e-4 per bin, about 1e-3 over a
    /// ±0.5 Hz search; palpa choice, see `signal::mains`).
    pub mains_noise_z: f64,
    /// A line must also top every flank bin by this (dB): more than the Hann window's
    /// 1.42 dB scalloping loss, so a tooth of a comb (the harmonics of a regular heartbeat)
    /// that happens to sit on a bin centre does not pass (palpa choice).
    pub mains_isolation_db: f64,
    /// Below this, power counts as motion artefact (DESIGN §3.1; De Luca 2010, DOMAIN §5).
    pub lowfreq_max_hz: f64,
    /// Mains frequencies tried when the sidecar is silent (DESIGN §3.1).
    pub mains_candidates_hz: [f64; 2],
    /// Least contact-free time from which a channel's resting RMS is reported: shorter
    /// stretches sit inside the envelope's transients (DESIGN §4; palpa choice, 2 s).
    pub contact_free_min_s: f64,
    /// sEMG below this rate cannot honour the 450 Hz corner (DESIGN §3.1).
    pub emg_min_fs_hz: f64,
    /// Fractions of NaN/Inf samples that make a channel warn / bad (palpa choice, DESIGN §3.1).
    pub nan_fraction_limits: [f64; 2],
    /// Fractions of flat-line samples that make a channel warn / bad (palpa choice).
    pub flat_fraction_limits: [f64; 2],
    /// Fractions of clipped samples that make a channel warn / bad (palpa choice).
    pub clipped_fraction_limits: [f64; 2],
    /// Low-frequency ratios that make a channel warn (motion artefact, which the band-pass
    /// removes) / bad (under 1% of the power above `lowfreq_max_hz`: no sEMG band left to
    /// condition) (palpa choice; DESIGN §3.1).
    pub lowfreq_ratio_limits: [f64; 2],
}

impl Default for QcConfig {
    fn default() -> Self {
        QcConfig {
            flat_step_max: 1e-9,
            flat_min_ms: 100.0,
            clip_margin_fraction: 0.001,
            clip_repeat_min_samples: 3,
            gap_periods: 1.5,
            xdf_drift_max_ms: 20.0,
            total_band_hz: [10.0, 450.0],
            mains_resolution_hz: 0.25,
            mains_min_segments: 3,
            mains_resolution_max_hz: 1.0,
            mains_search_hz: 0.5,
            mains_flank_hz: [1.0, 3.0],
            mains_line_min_db: 6.0,
            mains_noise_z: 3.5,
            mains_isolation_db: 1.5,
            lowfreq_max_hz: 10.0,
            mains_candidates_hz: [50.0, 60.0],
            contact_free_min_s: 2.0,
            emg_min_fs_hz: 1000.0,
            nan_fraction_limits: [1e-4, 0.05],
            flat_fraction_limits: [0.01, 0.2],
            clipped_fraction_limits: [0.001, 0.01],
            lowfreq_ratio_limits: [0.2, 0.99],
        }
    }
}

/// When the mains notch is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotchMode {
    /// Only on channels with a mains line, at its measured frequency (DESIGN §3.1–§3.2).
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// sEMG conditioning (DESIGN §3.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmgConfig {
    /// Butterworth band-pass corners (DESIGN §3.2; SENIAM/De Luca 2010, DOMAIN §5).
    pub bandpass_hz: [f64; 2],
    /// Butterworth order of the band-pass prototype (DESIGN §3.2, as SciPy `butter(4, …)`).
    pub bandpass_order: usize,
    /// Mains notch policy (DESIGN §3.2; McManus 2020, DOMAIN §5: notch only when needed).
    pub notch: NotchMode,
    /// Quality factor of each notch biquad (DESIGN §3.2, SciPy `iirnotch(Q=30)`).
    pub notch_q: f64,
    /// Highest harmonic notched (DESIGN §3.2).
    pub notch_max_hz: f64,
    /// Centred moving-RMS window (DESIGN §3.2; St-Amant 1996, DOMAIN §5).
    pub envelope_window_ms: f64,
}

impl Default for EmgConfig {
    fn default() -> Self {
        EmgConfig {
            bandpass_hz: [20.0, 450.0],
            bandpass_order: 4,
            notch: NotchMode::Auto,
            notch_q: 30.0,
            notch_max_hz: 450.0,
            envelope_window_ms: 50.0,
        }
    }
}

/// Force conditioning (DESIGN §3.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForceConfig {
    /// Low-pass corner for the slow force shape (DESIGN §3.2; openhdemg uses 15 Hz, peers A1).
    pub lowpass_hz: f64,
    /// Butterworth order of the low-pass (DESIGN §3.2).
    pub lowpass_order: usize,
    /// Zero offset = median of this lowest fraction of samples (DESIGN §3.2).
    pub zero_quantile: f64,
}

impl Default for ForceConfig {
    fn default() -> Self {
        ForceConfig {
            lowpass_hz: 20.0,
            lowpass_order: 4,
            zero_quantile: 0.05,
        }
    }
}

/// Welch spectra (DESIGN §3.6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectrumConfig {
    /// Segment length; `nperseg = round(segment_s · fs)` (DESIGN §3.6).
    pub segment_s: f64,
    /// Overlap between segments as a fraction of the segment (DESIGN §3.6, SciPy default).
    pub overlap_fraction: f64,
    /// Band for MNF and MDF (DESIGN §3.6, the band-pass corners).
    pub band_hz: [f64; 2],
    /// Window at each end of a hold for the MDF shift (DESIGN §3.6).
    pub hold_edge_s: f64,
}

impl Default for SpectrumConfig {
    fn default() -> Self {
        SpectrumConfig {
            segment_s: 0.5,
            overlap_fraction: 0.5,
            band_hz: [20.0, 450.0],
            hold_edge_s: 5.0,
        }
    }
}

/// Contact episodes and technique classes (DESIGN §3.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeConfig {
    /// Contact starts above this force (DESIGN §3.3).
    pub contact_on_n: f64,
    /// Contact ends below this force (DESIGN §3.3).
    pub contact_off_n: f64,
    /// Shortest contact kept (DESIGN §3.3).
    pub contact_min_ms: f64,
    /// Contacts separated by less than this are merged (DESIGN §3.3).
    pub merge_gap_ms: f64,
    /// Plateau band: low-passed force within ± this fraction of its median (DESIGN §3.3).
    pub plateau_tolerance_fraction: f64,
    /// Shortest plateau that makes a hold (DESIGN §3.3).
    pub plateau_min_s: f64,
    /// `hold_s` runs from first reaching this fraction of the plateau median (DESIGN §3.3).
    pub hold_reach_fraction: f64,
    /// Ramp rate is measured between these fractions of the plateau (DESIGN §3.3).
    pub ramp_fractions: [f64; 2],
    /// A plateau re-raised by at least this fraction counts as a step (DESIGN §3.3).
    pub step_fraction: f64,
    /// PPT ramp linearity: least R² over 20–100% of peak (DESIGN §3.3).
    pub ppt_ramp_r2_min: f64,
    /// PPT ramp fit range as fractions of the peak (DESIGN §3.3).
    pub ppt_ramp_fractions: [f64; 2],
    /// A PPT trial ends in a release within this time of the peak (DESIGN §3.3).
    pub ppt_release_max_s: f64,
    /// Shortest PPT ramp (palpa choice: a flick rises in under 0.3 s; twice the 98 kPa/s
    /// protocol rate to a 250 kPa PPT takes over 1 s, DOMAIN §3).
    pub ppt_ramp_min_s: f64,
    /// Longest episode that can be a snap (DESIGN §3.3).
    pub snap_max_s: f64,
    /// Least dominant peak of a snap (DESIGN §3.3).
    pub snap_min_peak_n: f64,
    /// Strumming frequency band (DESIGN §3.3).
    pub strum_band_hz: [f64; 2],
    /// Least modulation depth of a strum (DESIGN §3.3).
    pub strum_min_depth_fraction: f64,
    /// Least number of strumming cycles (DESIGN §3.3).
    pub strum_min_cycles: f64,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        EpisodeConfig {
            contact_on_n: 2.0,
            contact_off_n: 1.0,
            contact_min_ms: 150.0,
            merge_gap_ms: 100.0,
            plateau_tolerance_fraction: 0.2,
            plateau_min_s: 5.0,
            hold_reach_fraction: 0.8,
            ramp_fractions: [0.2, 0.8],
            step_fraction: 0.15,
            ppt_ramp_r2_min: 0.95,
            ppt_ramp_fractions: [0.2, 1.0],
            ppt_release_max_s: 0.5,
            ppt_ramp_min_s: 0.5,
            snap_max_s: 1.5,
            snap_min_peak_n: 4.0,
            strum_band_hz: [0.5, 5.0],
            strum_min_depth_fraction: 0.2,
            strum_min_cycles: 3.0,
        }
    }
}

/// Local twitch responses (DESIGN §3.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwitchConfig {
    /// Smoothing of the TKEO before thresholding (DESIGN §3.4; Solnik 2008, DOMAIN §5).
    pub tkeo_smooth_ms: f64,
    /// Threshold = median + h·1.4826·MAD of quiet TKEO; this is h (DESIGN §3.4).
    pub threshold_h_mad: f64,
    /// Double threshold: k of m consecutive samples above (Bonato 1998, DOMAIN §5).
    pub k_of_m: [usize; 2],
    /// Bursts closer than this are merged (DESIGN §3.4).
    pub merge_ms: f64,
    /// A burst runs where its smoothed TKEO is at least this fraction of its peak (when above
    /// the threshold): the zero-phase band-pass rings ahead of a loud onset at about −25 dB
    /// in energy (palpa choice, measured on simulated bursts).
    pub onset_peak_fraction: f64,
    /// Burst duration range accepted as an LTR (DESIGN §3.4).
    pub burst_duration_ms: [f64; 2],
    /// Force-twitch peak above the post-drop level, in MADs of that segment (DESIGN §3.4).
    pub force_peak_mad: f64,
    /// Force-twitch width range (DESIGN §3.4).
    pub force_width_ms: [f64; 2],
    /// The finger's undershoot and rebound after a slip end within this of the drop; the
    /// baseline is fitted after it and a later twitch must out-top it (palpa choice: the
    /// slip responses seen rebound 13–25 ms after the drop).
    pub force_rebound_ms: f64,
    /// A twitch's force follows its discharge by at least this (DOMAIN §8: electromechanical
    /// delay 8–20 ms); a bump rising sooner after the drop is the finger's rebound.
    pub force_emd_min_ms: f64,
    /// Refits of the line under the post-drop force, each with the force clipped to the
    /// last fit (modified polyfit, Lieber & Mahadevan-Jansen 2003, Appl Spectrosc 57:1363,
    /// which uses up to 100; palpa choice).
    pub force_baseline_iterations: usize,
    /// The post-drop segment ends where the force falls below this fraction of its level at
    /// the drop's end: the release has begun (palpa choice).
    pub force_release_fraction: f64,
    /// From there the segment steps back over the release while the force falls faster than
    /// this: a release takes a few newtons in 0.15–0.3 s, the slow decline after a slip
    /// 0.5–3 N/s (palpa choice) …
    pub force_release_rate_n_per_s: f64,
    /// … in steps of this, long against the sensor noise (palpa choice).
    pub force_release_step_ms: f64,
    /// Smoothing of the unfiltered force for the twitch's peak and edges (palpa choice:
    /// short against a 40 ms twitch).
    pub force_smooth_ms: f64,
    /// A twitch starts where it rises this fraction of its height above the trough before
    /// it (palpa choice).
    pub force_onset_fraction: f64,
    /// LTR onset window after a snap's drop (DESIGN §3.4).
    pub latency_ms: [f64; 2],
    /// Quiet windows for the threshold baseline keep this far from any contact (palpa choice).
    pub quiet_margin_s: f64,
    /// Heart-rate range accepted as an ECG rhythm (DESIGN §3.4).
    pub ecg_bpm: [f64; 2],
    /// Window of the signal energy in which R peaks are found (a QRS lasts 80–120 ms;
    /// palpa choice).
    pub ecg_energy_ms: f64,
    /// An R-peak candidate rises above median + this × 1.4826·MAD of that energy over
    /// contact-free samples (palpa choice).
    pub ecg_peak_h_mad: f64,
    /// Least time between R peaks (allows up to 240 bpm; palpa choice).
    pub ecg_refractory_ms: f64,
    /// Fewest quiet R–R intervals (and beats) that can show a rhythm (palpa choice).
    pub ecg_min_beats: usize,
    /// A rhythm: at least this fraction of R–R intervals within ±20% of their median
    /// (palpa choice: "consistent", DESIGN §3.4).
    pub ecg_regular_fraction: f64,
    /// A template: beats correlate with it at least this much on average (palpa choice).
    pub ecg_template_min_r: f64,
    /// Template window around the R peak (QRS with margins; palpa choice).
    pub ecg_window_ms: [f64; 2],
    /// Bursts whose PSD centroid lies below this are motion (DESIGN §3.4).
    pub motion_centroid_max_hz: f64,
    /// A burst longer than this is voluntary (DESIGN §3.4).
    pub voluntary_min_ms: f64,
    /// Spike test window: a cable or electrode spike lasts 1–5 ms (palpa choice), plus about
    /// 3 ms of the band-pass's ringing (palpa choice).
    pub spike_window_ms: f64,
    /// A burst with at least this share of its TKEO above rest inside its densest
    /// `spike_window_ms` is a spike, not a burst of MUAPs lasting ≥ 20 ms (DESIGN §3.4;
    /// palpa choice).
    pub spike_energy_fraction: f64,
    /// Tonic train: at least this many consecutive brief events … (palpa choice: two
    /// intervals are the fewest that show a rhythm)
    pub train_min_events: usize,
    /// … peak to peak at this rate, around the 6–12 Hz of a tonic low-threshold unit
    /// (DOMAIN §8, Hägg 1991; Fuglevand 1993: 8 Hz minimum firing rate) …
    pub train_rate_hz: [f64; 2],
    /// … with intervals of CV at most this, above a steady unit's ISI CV of 0.1–0.2
    /// (DOMAIN §8, Fuglevand 1993) so a window of three events holds it …
    pub train_max_cv: f64,
    /// … and peak energies within this ratio (one unit's MUAPs look alike; palpa choice).
    pub train_max_energy_ratio: f64,
    /// An LTR is isolated: the envelope over this window before and after the burst …
    /// (palpa choice)
    pub quiet_around_ms: f64,
    /// … has a median below this multiple of the resting level; else the burst is part of
    /// tonic activity and is counted with the voluntary ones (palpa choice).
    pub quiet_around_rest_multiple: f64,
    /// Voluntary: above this multiple of resting RMS … (DESIGN §3.4)
    pub voluntary_rest_multiple: f64,
    /// … for at least this long (DESIGN §3.4).
    pub voluntary_sustain_ms: f64,
}

impl Default for TwitchConfig {
    fn default() -> Self {
        TwitchConfig {
            tkeo_smooth_ms: 20.0,
            threshold_h_mad: 8.0,
            k_of_m: [25, 50],
            merge_ms: 20.0,
            onset_peak_fraction: 0.02,
            burst_duration_ms: [20.0, 500.0],
            force_peak_mad: 4.0,
            force_width_ms: [40.0, 400.0],
            force_rebound_ms: 40.0,
            force_emd_min_ms: 8.0,
            force_baseline_iterations: 100,
            force_release_fraction: 0.8,
            force_release_rate_n_per_s: 5.0,
            force_release_step_ms: 20.0,
            force_smooth_ms: 6.0,
            force_onset_fraction: 0.1,
            latency_ms: [5.0, 150.0],
            quiet_margin_s: 0.5,
            ecg_bpm: [40.0, 180.0],
            ecg_energy_ms: 40.0,
            ecg_peak_h_mad: 6.0,
            ecg_refractory_ms: 250.0,
            ecg_min_beats: 5,
            ecg_regular_fraction: 0.6,
            ecg_template_min_r: 0.5,
            ecg_window_ms: [-60.0, 90.0],
            motion_centroid_max_hz: 30.0,
            quiet_around_ms: 200.0,
            quiet_around_rest_multiple: 2.0,
            voluntary_min_ms: 500.0,
            spike_window_ms: 8.0,
            spike_energy_fraction: 0.8,
            train_min_events: 3,
            train_rate_hz: [4.0, 20.0],
            train_max_cv: 0.3,
            train_max_energy_ratio: 4.0,
            voluntary_rest_multiple: 20.0,
            voluntary_sustain_ms: 300.0,
        }
    }
}

/// Taut-band scoring (DESIGN §3.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TautBandConfig {
    /// Smoothing of the unfiltered force before drops are measured: keeps a 10 ms slip,
    /// averages sensor noise (palpa choice).
    pub drop_smooth_ms: f64,
    /// A snap-over drops at least this fraction of the local peak … (DESIGN §3.5)
    pub drop_min_fraction: f64,
    /// … within this time (DESIGN §3.5); over normal muscle the roll-off takes ≥ 100 ms.
    pub drop_max_ms: f64,
    /// Harmonics of the strumming frequency summed against the fundamental (DESIGN §3.5).
    pub harmonics: [usize; 2],
    /// Harmonic ratio counted as full evidence (palpa choice: a sawtooth gives ≈ 0.46 for
    /// harmonics 2–5, a sinusoid ≈ 0).
    pub harmonic_ratio_full: f64,
    /// Stiffness slope fitted between these fractions of peak force (DESIGN §3.5).
    pub stiffness_fractions: [f64; 2],
    /// Stiffness contrast counted as full evidence (palpa choice; MRE band/normal ≈ 2, DOMAIN §2).
    pub stiffness_contrast_full: f64,
    /// Rest window before contact for the pressure-evoked EMG ratio (DESIGN §3.5).
    pub rest_window_s: f64,
    /// Pressure-evoked EMG: RMS at least this multiple of rest … (DESIGN §3.5)
    pub emg_elevation_min: f64,
    /// … sustained this long (DESIGN §3.5).
    pub emg_elevation_min_s: f64,
    /// Score weight of snap-over evidence (palpa choice: mechanical evidence first, DOMAIN §2).
    pub weight_snap_over: f64,
    /// Score weight of strumming harmonics (palpa choice).
    pub weight_harmonics: f64,
    /// Score weight of stiffness contrast (palpa choice; MRE 11.5 vs 5.8 kPa, DOMAIN §2).
    pub weight_stiffness: f64,
    /// Score weight of pressure-evoked EMG, supporting only (DOMAIN §2: EMG-silent at rest).
    pub weight_emg: f64,
    /// `taut_band` = score at or above this (DESIGN §3.5).
    pub score_threshold: f64,
}

impl Default for TautBandConfig {
    fn default() -> Self {
        TautBandConfig {
            drop_smooth_ms: 4.0,
            drop_min_fraction: 0.25,
            drop_max_ms: 40.0,
            harmonics: [2, 5],
            harmonic_ratio_full: 0.3,
            stiffness_fractions: [0.2, 0.8],
            stiffness_contrast_full: 1.5,
            rest_window_s: 2.0,
            emg_elevation_min: 2.0,
            emg_elevation_min_s: 2.0,
            weight_snap_over: 0.6,
            weight_harmonics: 0.5,
            weight_stiffness: 0.5,
            weight_emg: 0.2,
            score_threshold: 0.5,
        }
    }
}

/// Technique audit protocol (DESIGN §3.7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Target hold duration (Hou 2002, Gemmell 2008: 30–90 s, DOMAIN §4).
    pub hold_window_s: [f64; 2],
    /// Target plateau as fractions of the muscle's session PPT (Hou 2002 P1–P2, DOMAIN §4).
    pub pressure_pct_ppt: [f64; 2],
    /// Target plateau when no PPT exists (Pérez-Palomares 2021: 7.27 ± 3.46 N/cm², DOMAIN §4).
    pub pressure_kpa: [f64; 2],
    /// Fastest acceptable hold ramp (palpa choice: twice the algometry rate, DOMAIN §3).
    pub hold_ramp_max_kpa_per_s: f64,
    /// Algometry ramp target (1 kg/cm²/s = 98 kPa/s, DOMAIN §3).
    pub ppt_ramp_kpa_per_s: f64,
    /// Accepted deviation from the algometry ramp target, as a fraction (DESIGN §3.3).
    pub ppt_ramp_tolerance_fraction: f64,
    /// Least rest between repetitions (30 s between trials, DOMAIN §3).
    pub rest_min_s: f64,
    /// Plateau CV above this is `unstable` (DESIGN §3.7).
    pub plateau_cv_max: f64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            hold_window_s: [30.0, 90.0],
            pressure_pct_ppt: [0.5, 1.0],
            pressure_kpa: [38.0, 107.0],
            hold_ramp_max_kpa_per_s: 196.0,
            ppt_ramp_kpa_per_s: 98.07,
            ppt_ramp_tolerance_fraction: 0.5,
            rest_min_s: 30.0,
            plateau_cv_max: 0.15,
        }
    }
}

/// The synthetic datasets of `palpa simulate` (DESIGN §6): physiological ranges, each drawn
/// uniformly per recording, site or event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationConfig {
    /// sEMG rates, one drawn per recording (≥ 1 kHz for the 450 Hz corner, DOMAIN §5).
    pub emg_fs_hz: Vec<f64>,
    /// Force rates for EDF recordings, one drawn per recording (force is slower than sEMG).
    pub force_fs_hz: Vec<f64>,
    /// Resting sEMG RMS (DESIGN §6: 2–8 µV).
    pub rest_rms_uv: [f64; 2],
    /// Site PPT over healthy muscle (Bordachar 2019: UT 423, infraspinatus 621 kPa, DOMAIN §3).
    pub ppt_kpa: [f64; 2],
    /// PPT lowered at trigger points (Geri 2022: −105 kPa, DOMAIN §3).
    pub trigger_point_ppt_drop_kpa: f64,
    /// Fraction of sites with a taut band (palpa choice).
    pub taut_band_probability: f64,
    /// Fraction of taut bands holding a trigger point that twitches (palpa choice).
    pub trigger_point_probability: f64,
    /// Chance that a snap over a trigger point evokes an LTR (Ga 2007: 98% with needling;
    /// palpation lower, DOMAIN §1; palpa choice).
    pub ltr_probability: f64,
    /// Of the LTRs, the share visible in sEMG (Lim 2004: rarely, DOMAIN §1; palpa choice).
    pub ltr_emg_probability: f64,
    /// Of the LTRs, the share felt in the force (palpa choice: force is the primary witness).
    pub ltr_force_probability: f64,
    /// LTR onset after the snap's drop (DESIGN §3.4 window 5–150 ms; palpa choice inside it).
    pub ltr_latency_ms: [f64; 2],
    /// LTR sEMG burst RMS (palpa choice; no primary numbers, DOMAIN §1).
    pub ltr_burst_uv: [f64; 2],
    /// LTR sEMG burst duration (vendor claim 150–500 ms is low quality, DOMAIN §1; palpa choice).
    pub ltr_burst_ms: [f64; 2],
    /// Force-twitch amplitude (palpa choice).
    pub twitch_n: [f64; 2],
    /// Force-twitch time constant of `t·exp(−t/τ)` (palpa choice; width ≈ 2.5 τ).
    pub twitch_tau_ms: [f64; 2],
    /// R-wave amplitude of ECG crosstalk in neck and shoulder muscles (palpa choice).
    pub ecg_r_uv: [f64; 2],
    /// Heart rate (resting adults).
    pub heart_bpm: [f64; 2],
    /// Mains interference amplitude (palpa choice).
    pub mains_uv: [f64; 2],
    /// Baseline wander amplitude at 0.1–0.5 Hz (palpa choice).
    pub wander_uv: [f64; 2],
    /// Force sensor noise, standard deviation (palpa choice).
    pub force_noise_n: f64,
    /// Force sensor zero offset (palpa choice).
    pub force_offset_n: [f64; 2],
    /// Algometer ramp of a good examiner (1 kg/cm²/s, DOMAIN §3).
    pub ppt_ramp_kpa_per_s: f64,
    /// Ramp of a poor examiner, as multiples of the protocol's (palpa choice: above +50%).
    pub poor_ramp_multiple: [f64; 2],
    /// Snap peak force (palpa choice; above the 4 N of DESIGN §3.3).
    pub snap_peak_n: [f64; 2],
    /// Snaps per recording.
    pub snaps: usize,
    /// PPT trials per recording (3 trials, DOMAIN §3).
    pub ppt_trials: usize,
    /// Fraction of recordings whose PPT trials carry a `ppt` event (palpa choice).
    pub ppt_event_probability: f64,
    /// Hold of a good therapist (30–90 s, Hou 2002, DOMAIN §4).
    pub good_hold_s: [f64; 2],
    /// Short hold of a poor therapist (below the 30 s target; issue [3/7]: holds of 20–120 s).
    pub short_hold_s: [f64; 2],
    /// Long hold of a poor therapist (palpa choice: above 90 s; DESIGN §6 holds to 120 s).
    pub long_hold_s: [f64; 2],
    /// Hold ramp of a good therapist, 20–80% of the plateau (below the audit's 196 kPa/s;
    /// palpa choice).
    pub good_hold_ramp_kpa_per_s: [f64; 2],
    /// Hold ramp of a poor therapist who pushes in fast (palpa choice: above the audit's limit).
    pub fast_hold_ramp_kpa_per_s: [f64; 2],
    /// Plateau of a good therapist as a fraction of the site PPT (Hou 2002 P1–P2, DOMAIN §4).
    pub good_plateau_pct_ppt: [f64; 2],
    /// Plateau of a poor therapist pressing past PPT, provoking a withdrawal (palpa choice).
    pub over_plateau_pct_ppt: [f64; 2],
    /// Physiological tremor on a plateau, fraction of the level at 8–12 Hz (palpa choice).
    pub tremor_fraction: f64,
    /// Slow drift over a hold, fraction of the level (palpa choice; within ±20%).
    pub drift_fraction: f64,
    /// Withdrawal burst RMS, as a multiple of resting RMS (palpa choice; above 20×, DESIGN §3.4).
    pub withdrawal_rest_multiple: [f64; 2],
    /// Pressure-evoked sEMG over a taut band during a hold, × resting RMS (palpa choice).
    pub evoked_rest_multiple: [f64; 2],
    /// The physiological model of `palpa simulate --model physio`.
    pub physio: PhysioConfig,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            emg_fs_hz: vec![1000.0, 2000.0, 2048.0],
            force_fs_hz: vec![500.0, 1000.0],
            rest_rms_uv: [2.0, 8.0],
            ppt_kpa: [300.0, 650.0],
            trigger_point_ppt_drop_kpa: 105.0,
            taut_band_probability: 0.6,
            trigger_point_probability: 0.7,
            ltr_probability: 0.7,
            ltr_emg_probability: 0.6,
            ltr_force_probability: 0.8,
            ltr_latency_ms: [20.0, 80.0],
            ltr_burst_uv: [20.0, 50.0],
            ltr_burst_ms: [40.0, 150.0],
            twitch_n: [0.5, 1.2],
            twitch_tau_ms: [20.0, 40.0],
            ecg_r_uv: [20.0, 60.0],
            heart_bpm: [55.0, 85.0],
            mains_uv: [2.0, 10.0],
            wander_uv: [20.0, 50.0],
            force_noise_n: 0.02,
            force_offset_n: [0.2, 1.5],
            ppt_ramp_kpa_per_s: 98.07,
            poor_ramp_multiple: [1.7, 2.3],
            snap_peak_n: [6.0, 12.0],
            snaps: 6,
            ppt_trials: 3,
            ppt_event_probability: 0.75,
            good_hold_s: [35.0, 85.0],
            short_hold_s: [20.0, 27.0],
            long_hold_s: [95.0, 120.0],
            good_hold_ramp_kpa_per_s: [60.0, 150.0],
            fast_hold_ramp_kpa_per_s: [300.0, 500.0],
            good_plateau_pct_ppt: [0.6, 0.9],
            over_plateau_pct_ppt: [1.1, 1.3],
            tremor_fraction: 0.01,
            drift_fraction: 0.05,
            withdrawal_rest_multiple: [30.0, 60.0],
            evoked_rest_multiple: [2.5, 4.0],
            physio: PhysioConfig::default(),
        }
    }
}

/// `palpa simulate --model physio`: sEMG from a motor-unit pool, LTRs as reflex discharges,
/// and the artefacts of real recordings (docs/validation.md, "The physiological
/// model"). Ranges are drawn uniformly per recording, unit or event. "Excitation" is
/// Fuglevand's unitless drive, in which the first unit is recruited at 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhysioConfig {
    /// Motor units per muscle (Fuglevand, Winter & Patla 1993: 120).
    pub n_units: usize,
    /// Ratio of the last unit's recruitment threshold to the first's (Fuglevand 1993: RR = 30).
    pub recruitment_range: f64,
    /// Discharge rate at recruitment (Fuglevand 1993: 8 Hz).
    pub min_rate_hz: f64,
    /// Rate gain above threshold, Hz per unit of excitation (Fuglevand 1993: g_e = 1).
    pub rate_gain_hz: f64,
    /// Peak rate of the first and of the last unit (Fuglevand 1993: 35 → 25 Hz).
    pub peak_rate_hz: [f64; 2],
    /// Coefficient of variation of inter-spike intervals (Fuglevand 1993: 0.1–0.2).
    pub isi_cv: f64,
    /// Ratio of the largest twitch to the smallest (Fuglevand 1993: RP = 100).
    pub twitch_range: f64,
    /// Twitch peak of the largest unit as felt at the probe (palpa choice: LTRs of a few
    /// units land in the 0.5–1.2 N of the basic model).
    pub twitch_max_n: f64,
    /// Contraction time of the smallest unit; the largest is 3× faster (Fuglevand 1993: 90 ms).
    pub twitch_longest_ms: f64,
    /// MUAP peak of the smallest and the largest unit at the skin (Lo Conte, Merletti &
    /// Sandri 1994: ≈ 1 → 130 relative; µV scale palpa choice, a maximal contraction of a
    /// shallow pool near 100–500 µV RMS).
    pub muap_uv: [f64; 2],
    /// Hermite–Rodriguez width λ of the smallest and the largest unit at the skin (Lo Conte
    /// 1994, DOMAIN §8: ≈ 3 → 1 ms).
    pub muap_width_ms: [f64; 2],
    /// Depth of the pool's units below the electrode (palpa choice).
    pub unit_depth_mm: [f64; 2],
    /// MUAP amplitude falls as e^(−depth/this) (Lo Conte 1994, DOMAIN §8; length palpa choice).
    pub depth_attenuation_mm: f64,
    /// MUAP width grows as 1 + depth/this (volume-conductor low-pass, Farina & Merletti 2001;
    /// length palpa choice, sets the MDF in 50–150 Hz).
    pub depth_widening_mm: f64,
    /// Depth of the taut band's units (palpa choice: deep bands give invisible LTRs, DOMAIN §1).
    pub band_depth_mm: [f64; 2],
    /// Excitation of pressure-evoked tone during a hold over a trigger point (palpa choice:
    /// the lowest few dozen units at 8–10 Hz).
    pub evoked_excitation: [f64; 2],
    /// Excitation of a withdrawal (palpa choice: most of the pool recruited).
    pub withdrawal_excitation: [f64; 2],
    /// Electromechanical delay from discharge to twitch (DOMAIN §8: 8–20 ms).
    pub emd_ms: [f64; 2],
    /// Units of the band discharging in one LTR, inclusive (palpa choice: "a few").
    pub ltr_units: [usize; 2],
    /// Discharges per unit in one LTR, inclusive (palpa choice: a brief reflex discharge).
    pub ltr_discharges: [usize; 2],
    /// Interval between an LTR unit's discharges (palpa choice: reflex doublets and triplets).
    pub ltr_isi_ms: [f64; 2],
    /// Part of the pool (as fractions of its index) the band's units come from (palpa choice).
    pub ltr_unit_fraction: [f64; 2],
    /// An LTR is witnessed in sEMG when its MUAPs peak at this multiple of the resting RMS
    /// (palpa choice).
    pub emg_witness_rest_multiple: f64,
    /// An LTR is witnessed in force when its twitch peaks at least this (palpa choice: 10×
    /// the force noise).
    pub force_witness_n: f64,
    /// Electrode motion artefact peak at contact onsets and snap drops (palpa choice: 20–200 µV).
    pub motion_uv: [f64; 2],
    /// Rise of a motion artefact, its sharp edge (DOMAIN §8; palpa choice).
    pub motion_rise_ms: [f64; 2],
    /// Exponential decay of a motion artefact, mostly below 20 Hz (De Luca 2010, DOMAIN §8).
    pub motion_decay_ms: [f64; 2],
    /// Largest mains frequency deviation (ENTSO-E: 49.8–50.2 Hz, DOMAIN §8).
    pub mains_drift_hz: f64,
    /// Periods of the two slow oscillations the deviation is made of (palpa choice).
    pub mains_drift_period_s: [f64; 2],
    /// Relative amplitude change of mains over the recording (palpa choice).
    pub mains_amplitude_variation: f64,
    /// 3rd and 5th harmonic amplitudes relative to the fundamental (palpa choice: odd
    /// harmonics of rectifier loads).
    pub mains_harmonics: [f64; 2],
    /// Chance that a channel carries no mains at all (palpa choice).
    pub mains_free_channel_probability: f64,
    /// PQRST waves as (angle rad, amplitude, width rad) of McSharry et al. 2003 (IEEE TBME
    /// 50:289), scaled so that R peaks at the drawn `ecg_r_uv`.
    pub ecg_waves: [[f64; 3]; 5],
    /// RR modulation at the Mayer (0.1 Hz) and respiratory (0.25 Hz) frequencies, fraction
    /// of the mean (McSharry 2003: LF and HF bands; size palpa choice).
    pub hrv_fraction: [f64; 2],
    /// Random beat-to-beat RR variation, fraction of the mean (palpa choice).
    pub hrv_random_fraction: f64,
    /// Chance of a tonic resting unit during contact (Hägg 1991 "Cinderella", DOMAIN §8;
    /// share palpa choice).
    pub tonic_probability: f64,
    /// Rate of the tonic unit (DOMAIN §8: 6–12 Hz).
    pub tonic_rate_hz: [f64; 2],
    /// MUAP peak of the tonic unit (palpa choice: a low-threshold unit near the electrode).
    pub tonic_muap_uv: [f64; 2],
    /// Chance that a recording has cable spikes (palpa choice).
    pub spike_probability: f64,
    /// Spikes at random times in such a recording, per minute (palpa choice).
    pub spike_per_min: f64,
    /// Chance of a spike inside each hold, PPT trial and strum of such a recording (palpa
    /// choice).
    pub spike_episode_probability: f64,
    /// Spike peak (palpa choice: cable motion, DOMAIN §8).
    pub spike_uv: [f64; 2],
    /// Spike duration (palpa choice: 1–5 ms).
    pub spike_ms: [f64; 2],
    /// Undershoot below the held level after a snap-over drop, as a fraction of the drop
    /// (palpa choice: the finger overshoots as the band slips away).
    pub slip_undershoot_fraction: [f64; 2],
    /// Period of the rebound after the undershoot (palpa choice).
    pub slip_rebound_ms: [f64; 2],
    /// Decline of the held level after a slip, as a fraction of it (palpa choice).
    pub slip_decline_fraction: [f64; 2],
}

impl Default for PhysioConfig {
    fn default() -> Self {
        PhysioConfig {
            n_units: 120,
            recruitment_range: 30.0,
            min_rate_hz: 8.0,
            rate_gain_hz: 1.0,
            peak_rate_hz: [35.0, 25.0],
            isi_cv: 0.2,
            twitch_range: 100.0,
            twitch_max_n: 0.5,
            twitch_longest_ms: 90.0,
            muap_uv: [5.0, 650.0],
            muap_width_ms: [3.0, 1.0],
            unit_depth_mm: [3.0, 20.0],
            depth_attenuation_mm: 5.0,
            depth_widening_mm: 4.0,
            band_depth_mm: [4.0, 25.0],
            evoked_excitation: [1.5, 3.0],
            withdrawal_excitation: [10.0, 25.0],
            emd_ms: [10.0, 15.0],
            ltr_units: [1, 4],
            ltr_discharges: [1, 3],
            ltr_isi_ms: [8.0, 30.0],
            ltr_unit_fraction: [0.4, 1.0],
            emg_witness_rest_multiple: 5.0,
            force_witness_n: 0.2,
            motion_uv: [20.0, 200.0],
            motion_rise_ms: [1.0, 3.0],
            motion_decay_ms: [80.0, 400.0],
            mains_drift_hz: 0.2,
            mains_drift_period_s: [20.0, 120.0],
            mains_amplitude_variation: 0.2,
            mains_harmonics: [0.3, 0.1],
            mains_free_channel_probability: 0.3,
            ecg_waves: [
                [-std::f64::consts::FRAC_PI_3, 1.2, 0.25],
                [-std::f64::consts::PI / 12.0, -5.0, 0.1],
                [0.0, 30.0, 0.1],
                [std::f64::consts::PI / 12.0, -7.5, 0.1],
                [std::f64::consts::FRAC_PI_2, 0.75, 0.4],
            ],
            hrv_fraction: [0.04, 0.03],
            hrv_random_fraction: 0.02,
            tonic_probability: 0.3,
            tonic_rate_hz: [6.0, 12.0],
            tonic_muap_uv: [20.0, 80.0],
            spike_probability: 0.3,
            spike_per_min: 2.0,
            spike_episode_probability: 0.5,
            spike_uv: [300.0, 3000.0],
            spike_ms: [1.0, 5.0],
            slip_undershoot_fraction: [0.1, 0.25],
            slip_rebound_ms: [60.0, 120.0],
            slip_decline_fraction: [0.05, 0.15],
        }
    }
}

/// A configuration that could not be read or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type.
    #[error(
        "{}: {}{message}",
        path.display(),
        if key.is_empty() { String::new() } else { format!("key `{key}`: ") }
    )]
    Parse {
        /// The config file.
        path: PathBuf,
        /// Dotted path of the offending key (`emg.bandpass_hz`), empty at the top level.
        key: String,
        /// What was wrong, as the TOML parser put it.
        message: String,
    },
    /// Values that parse but contradict each other or the physics.
    #[error(
        "{}: {} invalid value{}:\n{}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    Invalid {
        /// The config file, or `<default>`.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One invalid value: the key, the value and the rule it breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Dotted key.
    pub key: String,
    /// The rule, with the numbers.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key, self.message)
    }
}

/// A configuration file's text.
fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `over`'s keys into `base`, tables merged key by key, anything else replaced.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The TOML parser's message with Rust's type names put in words.
fn plain_types(message: &str) -> String {
    [
        ("f64", "a number"),
        ("usize", "a whole number, 0 or more"),
        ("u64", "a whole number, 0 or more"),
        ("u32", "a whole number, 0 or more"),
        ("u16", "a whole number, 0 or more"),
        ("i64", "a whole number"),
        ("bool", "true or false"),
    ]
    .iter()
    .fold(message.to_string(), |m, (rust, words)| {
        m.replace(&format!("expected {rust}"), &format!("expected {words}"))
    })
}

impl Config {
    /// Reads a TOML file over the defaults and validates the result.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the key.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(&read_text(path)?, path)
    }

    /// Reads `files` in order over the defaults: each is checked on its own first, so an
    /// error names the file it is in; then a later file's keys replace an earlier one's
    /// (tables merge key by key; an array such as `[[channels]]` is replaced whole).
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the key.
    pub fn load_layers(files: &[&Path]) -> Result<Config, ConfigError> {
        let [.., last] = files else {
            return Ok(Config::default());
        };
        if files.len() == 1 {
            return Config::load(last);
        }
        let mut merged = toml::Table::new();
        for path in files {
            let text = read_text(path)?;
            Config::parse(&text, path)?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Parse {
                        path: path.to_path_buf(),
                        key: String::new(),
                        message: e.to_string(),
                    })?;
            merge_tables(&mut merged, table);
        }
        Config::parse(&merged.to_string(), last)
    }

    /// Parses and validates `text`, TOML over the defaults, read from `path`.
    ///
    /// # Errors
    /// [`ConfigError`] naming `path` and the key.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg = Config::from_toml(text).map_err(|(key, message)| ConfigError::Parse {
            path: path.to_path_buf(),
            key,
            message,
        })?;
        cfg.validate().map_err(|problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        })?;
        Ok(cfg)
    }

    /// Parses TOML over the defaults; on error, the dotted key and the parser's message.
    fn from_toml(text: &str) -> Result<Config, (String, String)> {
        let de = toml::Deserializer::parse(text).map_err(|e| (String::new(), e.to_string()))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let key = if key == "." { String::new() } else { key };
            let mut message = plain_types(e.into_inner().message().trim());
            if key == "force" && message.contains("unknown field `probe_area_cm2`") {
                message.push_str(" (the probe area moved to `[dataset] probe_area_cm2`)");
            }
            (key, message)
        })
    }

    /// The whole configuration as TOML, as `palpa config` prints it.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config is plain numbers, strings and arrays")
    }

    /// Checks every rule a value must satisfy; returns all problems, not just the first.
    ///
    /// # Errors
    /// The list of problems, each with its key and numbers.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut v = Validator::default();
        let d = &self.dataset;
        for (key, x) in [
            ("dataset.power_line_hz", d.power_line_hz),
            ("dataset.probe_area_cm2", d.probe_area_cm2),
            ("dataset.sampling_frequency_hz", d.sampling_frequency_hz),
        ] {
            if let Some(x) = x {
                v.positive(key, x);
            }
        }
        v.muscle("dataset.palpated_muscle", d.palpated_muscle.as_deref());
        v.side("dataset.palpated_side", d.palpated_side.as_deref());
        for (i, rule) in self.channels.iter().enumerate() {
            let key = |field: &str| format!("channels[{i}].{field}");
            if rule.name.trim().is_empty() {
                v.fail(
                    key("name"),
                    "must name a channel (or a glob such as `EMG*`)".into(),
                );
            }
            if let Some(kind) = rule.kind.as_deref() {
                if crate::model::ChannelKind::parse(kind).is_none() {
                    v.fail(
                        key("kind"),
                        format!("= {kind:?} must be emg, force, displacement, trigger or other"),
                    );
                }
            }
            v.muscle(&key("muscle"), rule.muscle.as_deref());
            v.side(&key("side"), rule.side.as_deref());
            if rule.calibrates() && rule.unit.is_none() {
                v.fail(
                    key("unit"),
                    "is needed with `scale` or `offset`: the unit the calibrated values are in"
                        .into(),
                );
            }
            if let Some(scale) = rule.scale {
                if !(scale.is_finite() && scale != 0.0) {
                    v.fail(
                        key("scale"),
                        format!("= {scale} must be a finite number other than 0"),
                    );
                }
            }
            if rule.offset.is_some_and(|o| !o.is_finite()) {
                v.fail(key("offset"), "must be a finite number".into());
            }
        }
        let q = &self.qc;
        v.positive("qc.flat_min_ms", q.flat_min_ms);
        v.fraction("qc.clip_margin_fraction", q.clip_margin_fraction);
        v.at_least("qc.gap_periods", q.gap_periods, 1.0);
        v.positive("qc.xdf_drift_max_ms", q.xdf_drift_max_ms);
        v.increasing("qc.total_band_hz", q.total_band_hz);
        v.positive("qc.mains_resolution_hz", q.mains_resolution_hz);
        v.at_least(
            "qc.mains_resolution_max_hz",
            q.mains_resolution_max_hz,
            q.mains_resolution_hz,
        );
        v.at_least("qc.mains_min_segments", q.mains_min_segments as f64, 1.0);
        v.positive("qc.mains_search_hz", q.mains_search_hz);
        v.positive("qc.mains_noise_z", q.mains_noise_z);
        v.at_least("qc.mains_isolation_db", q.mains_isolation_db, 0.0);
        v.increasing("qc.mains_flank_hz", q.mains_flank_hz);
        v.positive("qc.mains_flank_hz[0]", q.mains_flank_hz[0]);
        v.positive("qc.emg_min_fs_hz", q.emg_min_fs_hz);
        v.positive("qc.contact_free_min_s", q.contact_free_min_s);
        for (key, limits) in [
            ("qc.nan_fraction_limits", q.nan_fraction_limits),
            ("qc.flat_fraction_limits", q.flat_fraction_limits),
            ("qc.clipped_fraction_limits", q.clipped_fraction_limits),
            ("qc.lowfreq_ratio_limits", q.lowfreq_ratio_limits),
        ] {
            v.increasing(key, limits);
            v.fraction(key, limits[1]);
        }

        let e = &self.emg;
        v.increasing("emg.bandpass_hz", e.bandpass_hz);
        v.positive("emg.bandpass_hz[0]", e.bandpass_hz[0]);
        v.order("emg.bandpass_order", e.bandpass_order);
        v.positive("emg.notch_q", e.notch_q);
        v.positive("emg.envelope_window_ms", e.envelope_window_ms);

        let f = &self.force;
        v.positive("force.lowpass_hz", f.lowpass_hz);
        v.order("force.lowpass_order", f.lowpass_order);
        v.fraction("force.zero_quantile", f.zero_quantile);

        let s = &self.spectrum;
        v.positive("spectrum.segment_s", s.segment_s);
        if !(0.0..1.0).contains(&s.overlap_fraction) {
            v.fail(
                "spectrum.overlap_fraction",
                format!("= {} must be at least 0 and below 1", s.overlap_fraction),
            );
        }
        v.increasing("spectrum.band_hz", s.band_hz);
        v.positive("spectrum.hold_edge_s", s.hold_edge_s);

        let p = &self.episodes;
        v.positive("episodes.contact_off_n", p.contact_off_n);
        if p.contact_on_n < p.contact_off_n {
            v.fail(
                "episodes.contact_on_n",
                format!(
                    "= {} must be at least episodes.contact_off_n = {} (hysteresis)",
                    p.contact_on_n, p.contact_off_n
                ),
            );
        }
        v.positive("episodes.plateau_min_s", p.plateau_min_s);
        v.fraction(
            "episodes.plateau_tolerance_fraction",
            p.plateau_tolerance_fraction,
        );
        v.fraction("episodes.hold_reach_fraction", p.hold_reach_fraction);
        v.increasing("episodes.ramp_fractions", p.ramp_fractions);
        v.increasing("episodes.ppt_ramp_fractions", p.ppt_ramp_fractions);
        v.fraction("episodes.ppt_ramp_r2_min", p.ppt_ramp_r2_min);
        v.increasing("episodes.strum_band_hz", p.strum_band_hz);
        v.positive("episodes.snap_max_s", p.snap_max_s);

        let t = &self.twitch;
        let [k, m] = t.k_of_m;
        if k == 0 || k > m {
            v.fail(
                "twitch.k_of_m",
                format!(
                    "= [{k}, {m}]: the first number must be at least 1 and not above the second"
                ),
            );
        }
        v.positive("twitch.threshold_h_mad", t.threshold_h_mad);
        v.increasing("twitch.burst_duration_ms", t.burst_duration_ms);
        v.increasing("twitch.force_width_ms", t.force_width_ms);
        v.increasing("twitch.latency_ms", t.latency_ms);
        v.increasing("twitch.ecg_bpm", t.ecg_bpm);
        for (key, x) in [
            ("twitch.onset_peak_fraction", t.onset_peak_fraction),
            ("twitch.force_release_fraction", t.force_release_fraction),
            ("twitch.force_onset_fraction", t.force_onset_fraction),
            ("twitch.ecg_regular_fraction", t.ecg_regular_fraction),
            ("twitch.spike_energy_fraction", t.spike_energy_fraction),
        ] {
            v.fraction(key, x);
        }
        v.increasing("twitch.train_rate_hz", t.train_rate_hz);
        v.positive("twitch.train_rate_hz", t.train_rate_hz[0]);
        if t.train_min_events < 3 {
            v.fail(
                "twitch.train_min_events",
                format!(
                    "= {}: must be at least 3 (two intervals show a rhythm)",
                    t.train_min_events
                ),
            );
        }
        for (key, x) in [
            ("twitch.quiet_around_ms", t.quiet_around_ms),
            (
                "twitch.quiet_around_rest_multiple",
                t.quiet_around_rest_multiple,
            ),
            ("twitch.force_smooth_ms", t.force_smooth_ms),
            ("twitch.force_rebound_ms", t.force_rebound_ms),
            ("twitch.force_emd_min_ms", t.force_emd_min_ms),
            (
                "twitch.force_release_rate_n_per_s",
                t.force_release_rate_n_per_s,
            ),
            ("twitch.force_release_step_ms", t.force_release_step_ms),
            ("twitch.ecg_energy_ms", t.ecg_energy_ms),
            ("twitch.ecg_refractory_ms", t.ecg_refractory_ms),
            ("twitch.spike_window_ms", t.spike_window_ms),
            ("twitch.train_max_cv", t.train_max_cv),
            ("twitch.train_max_energy_ratio", t.train_max_energy_ratio),
        ] {
            v.positive(key, x);
        }
        v.increasing("twitch.ecg_window_ms", t.ecg_window_ms);

        let b = &self.taut_band;
        v.fraction("taut_band.drop_min_fraction", b.drop_min_fraction);
        v.positive("taut_band.drop_max_ms", b.drop_max_ms);
        v.positive("taut_band.drop_smooth_ms", b.drop_smooth_ms);
        if b.harmonics[0] < 2 || b.harmonics[0] > b.harmonics[1] {
            v.fail(
                "taut_band.harmonics",
                format!("= {:?} must satisfy 2 ≤ first ≤ last", b.harmonics),
            );
        }
        v.increasing("taut_band.stiffness_fractions", b.stiffness_fractions);
        v.fraction("taut_band.score_threshold", b.score_threshold);
        v.positive("taut_band.harmonic_ratio_full", b.harmonic_ratio_full);
        v.at_least(
            "taut_band.stiffness_contrast_full",
            b.stiffness_contrast_full,
            1.0 + 1e-9,
        );

        let m = &self.simulate;
        for (key, range) in [
            ("simulate.rest_rms_uv", m.rest_rms_uv),
            ("simulate.ppt_kpa", m.ppt_kpa),
            ("simulate.ltr_latency_ms", m.ltr_latency_ms),
            ("simulate.ltr_burst_uv", m.ltr_burst_uv),
            ("simulate.ltr_burst_ms", m.ltr_burst_ms),
            ("simulate.twitch_n", m.twitch_n),
            ("simulate.twitch_tau_ms", m.twitch_tau_ms),
            ("simulate.heart_bpm", m.heart_bpm),
            ("simulate.snap_peak_n", m.snap_peak_n),
            ("simulate.good_hold_s", m.good_hold_s),
            ("simulate.short_hold_s", m.short_hold_s),
            ("simulate.long_hold_s", m.long_hold_s),
            ("simulate.good_plateau_pct_ppt", m.good_plateau_pct_ppt),
            ("simulate.over_plateau_pct_ppt", m.over_plateau_pct_ppt),
            ("simulate.poor_ramp_multiple", m.poor_ramp_multiple),
            (
                "simulate.good_hold_ramp_kpa_per_s",
                m.good_hold_ramp_kpa_per_s,
            ),
            (
                "simulate.fast_hold_ramp_kpa_per_s",
                m.fast_hold_ramp_kpa_per_s,
            ),
        ] {
            v.increasing(key, range);
            v.positive(key, range[0]);
        }
        for (key, p) in [
            ("simulate.taut_band_probability", m.taut_band_probability),
            (
                "simulate.trigger_point_probability",
                m.trigger_point_probability,
            ),
            ("simulate.ltr_probability", m.ltr_probability),
            ("simulate.ltr_emg_probability", m.ltr_emg_probability),
            ("simulate.ltr_force_probability", m.ltr_force_probability),
            ("simulate.ppt_event_probability", m.ppt_event_probability),
        ] {
            v.fraction(key, p);
        }
        for (key, rates) in [
            ("simulate.emg_fs_hz", &m.emg_fs_hz),
            ("simulate.force_fs_hz", &m.force_fs_hz),
        ] {
            if rates.is_empty() || rates.iter().any(|&f| !(f >= 100.0 && f.fract() == 0.0)) {
                v.fail(
                    key,
                    format!("= {rates:?} must list whole rates of at least 100 Hz"),
                );
            }
        }
        v.positive("simulate.ppt_ramp_kpa_per_s", m.ppt_ramp_kpa_per_s);
        let p = &m.physio;
        for (key, range) in [
            ("simulate.physio.unit_depth_mm", p.unit_depth_mm),
            ("simulate.physio.band_depth_mm", p.band_depth_mm),
            ("simulate.physio.evoked_excitation", p.evoked_excitation),
            (
                "simulate.physio.withdrawal_excitation",
                p.withdrawal_excitation,
            ),
            ("simulate.physio.emd_ms", p.emd_ms),
            ("simulate.physio.ltr_isi_ms", p.ltr_isi_ms),
            ("simulate.physio.motion_uv", p.motion_uv),
            ("simulate.physio.motion_rise_ms", p.motion_rise_ms),
            ("simulate.physio.motion_decay_ms", p.motion_decay_ms),
            (
                "simulate.physio.mains_drift_period_s",
                p.mains_drift_period_s,
            ),
            ("simulate.physio.tonic_rate_hz", p.tonic_rate_hz),
            ("simulate.physio.tonic_muap_uv", p.tonic_muap_uv),
            ("simulate.physio.spike_uv", p.spike_uv),
            ("simulate.physio.spike_ms", p.spike_ms),
            ("simulate.physio.slip_rebound_ms", p.slip_rebound_ms),
        ] {
            v.increasing(key, range);
            v.positive(key, range[0]);
        }
        for (key, x) in [
            ("simulate.physio.recruitment_range", p.recruitment_range),
            ("simulate.physio.min_rate_hz", p.min_rate_hz),
            ("simulate.physio.rate_gain_hz", p.rate_gain_hz),
            ("simulate.physio.twitch_range", p.twitch_range),
            ("simulate.physio.twitch_max_n", p.twitch_max_n),
            ("simulate.physio.twitch_longest_ms", p.twitch_longest_ms),
            (
                "simulate.physio.depth_attenuation_mm",
                p.depth_attenuation_mm,
            ),
            ("simulate.physio.depth_widening_mm", p.depth_widening_mm),
            ("simulate.physio.muap_uv[0]", p.muap_uv[0]),
            ("simulate.physio.muap_uv[1]", p.muap_uv[1]),
            ("simulate.physio.muap_width_ms[0]", p.muap_width_ms[0]),
            ("simulate.physio.muap_width_ms[1]", p.muap_width_ms[1]),
            ("simulate.physio.peak_rate_hz[0]", p.peak_rate_hz[0]),
            ("simulate.physio.peak_rate_hz[1]", p.peak_rate_hz[1]),
            ("simulate.physio.mains_drift_hz", p.mains_drift_hz),
            ("simulate.physio.spike_per_min", p.spike_per_min),
        ] {
            v.positive(key, x);
        }
        for (key, x) in [
            ("simulate.physio.isi_cv", p.isi_cv),
            (
                "simulate.physio.mains_amplitude_variation",
                p.mains_amplitude_variation,
            ),
            (
                "simulate.physio.mains_free_channel_probability",
                p.mains_free_channel_probability,
            ),
            ("simulate.physio.hrv_random_fraction", p.hrv_random_fraction),
            ("simulate.physio.tonic_probability", p.tonic_probability),
            ("simulate.physio.spike_probability", p.spike_probability),
            (
                "simulate.physio.spike_episode_probability",
                p.spike_episode_probability,
            ),
        ] {
            v.fraction(key, x);
        }
        if p.n_units < 2 {
            v.fail(
                "simulate.physio.n_units",
                format!("= {} must be at least 2", p.n_units),
            );
        }
        for (key, [lo, hi]) in [
            ("simulate.physio.ltr_units", p.ltr_units),
            ("simulate.physio.ltr_discharges", p.ltr_discharges),
        ] {
            if lo == 0 || lo > hi {
                v.fail(key, format!("= [{lo}, {hi}] must satisfy 1 ≤ first ≤ last"));
            }
        }
        if !(p.ltr_unit_fraction[0] >= 0.0
            && p.ltr_unit_fraction[0] <= p.ltr_unit_fraction[1]
            && p.ltr_unit_fraction[1] <= 1.0)
        {
            v.fail(
                "simulate.physio.ltr_unit_fraction",
                format!(
                    "= {:?} must satisfy 0 ≤ first ≤ last ≤ 1",
                    p.ltr_unit_fraction
                ),
            );
        }

        let a = &self.audit;
        v.increasing("audit.hold_window_s", a.hold_window_s);
        v.increasing("audit.pressure_pct_ppt", a.pressure_pct_ppt);
        v.increasing("audit.pressure_kpa", a.pressure_kpa);
        v.positive("audit.ppt_ramp_kpa_per_s", a.ppt_ramp_kpa_per_s);
        v.positive("audit.hold_ramp_max_kpa_per_s", a.hold_ramp_max_kpa_per_s);
        v.fraction(
            "audit.ppt_ramp_tolerance_fraction",
            a.ppt_ramp_tolerance_fraction,
        );
        v.fraction("audit.plateau_cv_max", a.plateau_cv_max);

        if v.problems.is_empty() {
            Ok(())
        } else {
            Err(v.problems)
        }
    }
}

/// Collects problems so that one pass reports all of them.
#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn fail(&mut self, key: impl Into<String>, message: String) {
        self.problems.push(Problem {
            key: key.into(),
            message,
        });
    }

    fn muscle(&mut self, key: &str, name: Option<&str>) {
        if let Some(name) = name.filter(|n| crate::model::Muscle::named(n).is_none()) {
            self.fail(key, format!("= {name:?} is not a muscle name"));
        }
    }

    fn side(&mut self, key: &str, side: Option<&str>) {
        if let Some(side) = side.filter(|s| crate::model::Side::parse(s).is_none()) {
            self.fail(key, format!("= {side:?} must be left or right"));
        }
    }

    fn positive(&mut self, key: &'static str, x: f64) {
        if !(x.is_finite() && x > 0.0) {
            self.fail(key, format!("= {x} must be a finite number above 0"));
        }
    }

    fn at_least(&mut self, key: &'static str, x: f64, min: f64) {
        if !(x.is_finite() && x >= min) {
            self.fail(key, format!("= {x} must be a finite number ≥ {min}"));
        }
    }

    fn fraction(&mut self, key: &'static str, x: f64) {
        if !(0.0..=1.0).contains(&x) {
            self.fail(key, format!("= {x} must be a fraction from 0 to 1"));
        }
    }

    fn increasing(&mut self, key: &'static str, [lo, hi]: [f64; 2]) {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            self.fail(
                key,
                format!("= [{lo}, {hi}] must be two finite numbers, the first below the second"),
            );
        }
    }

    fn order(&mut self, key: &'static str, order: usize) {
        if !(1..=8).contains(&order) {
            self.fail(key, format!("= {order} must be a filter order from 1 to 8"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip_through_toml() {
        let cfg = Config::default();
        cfg.validate().unwrap();
        assert_eq!(Config::from_toml(&cfg.to_toml()).unwrap(), cfg);
    }

    #[test]
    fn a_subset_overrides_only_itself() {
        let cfg = Config::from_toml("[emg]\nbandpass_hz = [10.0, 400.0]\n").unwrap();
        assert_eq!(cfg.emg.bandpass_hz, [10.0, 400.0]);
        assert_eq!(cfg.emg.bandpass_order, 4);
        assert_eq!(cfg.force, ForceConfig::default());
    }

    #[test]
    fn unknown_key_is_named() {
        let (key, message) = Config::from_toml("[emg]\nbandpas_hz = [10.0, 400.0]\n").unwrap_err();
        assert_eq!(key, "emg.bandpas_hz");
        assert!(message.contains("bandpas_hz"), "{message}");
    }

    #[test]
    fn wrong_type_is_named_with_its_dotted_key() {
        let (key, message) = Config::from_toml("[episodes]\ncontact_on_n = \"two\"\n").unwrap_err();
        assert_eq!(key, "episodes.contact_on_n");
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn validation_reports_every_problem() {
        let mut cfg = Config::default();
        cfg.emg.bandpass_hz = [450.0, 20.0];
        cfg.emg.bandpass_order = 0;
        cfg.twitch.k_of_m = [60, 50];
        let problems = cfg.validate().unwrap_err();
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["emg.bandpass_hz", "emg.bandpass_order", "twitch.k_of_m"]
        );
    }

    #[test]
    fn dataset_settings_and_channel_rules_are_checked() {
        let cfg = Config::parse(
            "[dataset]\npalpated_side = \"up\"\nprobe_area_cm2 = 0\n\
             [[channels]]\nname = \"Load*\"\nkind = \"forse\"\nscale = 0\n",
            Path::new("palpa.toml"),
        );
        let text = cfg.unwrap_err().to_string();
        for wanted in [
            "dataset.probe_area_cm2",
            "dataset.palpated_side",
            "channels[0].kind",
            "channels[0].unit",
            "channels[0].scale",
        ] {
            assert!(text.contains(wanted), "{wanted}: {text}");
        }
    }

    #[test]
    fn channel_rules_match_names_and_globs() {
        let rule = |name: &str| ChannelRule {
            name: name.into(),
            ..ChannelRule::default()
        };
        assert!(rule("Load").matches("Load") && !rule("Load").matches("Load 2"));
        assert!(rule("Load*").matches("Load 2") && rule("Load*").matches("Load"));
        assert!(rule("EMG ?").matches("EMG 1") && !rule("EMG ?").matches("EMG 12"));
        assert!(rule("*.EMG*").matches("Trap_sup.EMG6") && !rule("*.EMG*").matches("Voltage.1"));
    }

    #[test]
    fn later_layers_replace_earlier_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
        std::fs::write(&a, "[dataset]\ntherapist = \"T1\"\nprobe_area_cm2 = 2.0\n").unwrap();
        std::fs::write(&b, "[dataset]\nprobe_area_cm2 = 3.0\n").unwrap();
        let cfg = Config::load_layers(&[&a, &b]).unwrap();
        assert_eq!(cfg.dataset.probe_area_cm2, Some(3.0));
        assert_eq!(cfg.dataset.therapist.as_deref(), Some("T1"));
        std::fs::write(&b, "[dataset]\nprobe_aera_cm2 = 3.0\n").unwrap();
        let err = Config::load_layers(&[&a, &b]).unwrap_err().to_string();
        assert!(
            err.contains("b.toml") && err.contains("probe_aera_cm2"),
            "{err}"
        );
    }
}
