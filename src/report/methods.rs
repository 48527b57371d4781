//! `methods.md`: the methods paragraph a paper needs, with every parameter the run used
//! (ISEK reporting standard, Merletti 1999, DOMAIN §5: filter type, order, cut-offs, envelope
//! window, spectral method, detection thresholds) and the palpa version.

use std::fmt::Write as _;

use crate::config::{Config, NotchMode};

/// The methods text for a run with `cfg` that notched `notched[0]` of its `notched[1]`
/// conditioned sEMG channels.
pub fn methods_markdown(cfg: &Config, notched: [usize; 2]) -> String {
    let (e, f, s, p, t, b, a) = (
        &cfg.emg,
        &cfg.force,
        &cfg.spectrum,
        &cfg.episodes,
        &cfg.twitch,
        &cfg.taut_band,
        &cfg.audit,
    );
    let q = &cfg.qc;
    let notch = match e.notch {
        NotchMode::Auto => format!(
            "applied only to channels with a mains line: a peak at least {db} dB above the \
             median of its flanks ({f0}–{f1} Hz either side) and {iso} dB above each of their \
             bins, searched within ±{search} Hz of \
             {m1} and {m2} Hz (only the sidecar's frequency when it states one) and of the \
             stronger fundamental's harmonics, in a Welch spectrum of the raw signal with bins \
             of at most {res} Hz (4 s segments; shorter ones, so that at least {k} are averaged, \
             in short recordings); each line that stood out was notched at its measured \
             frequency. Mains was judged again on the notched signal",
            db = q.mains_line_min_db,
            iso = q.mains_isolation_db,
            f0 = q.mains_flank_hz[0],
            f1 = q.mains_flank_hz[1],
            search = q.mains_search_hz,
            m1 = q.mains_candidates_hz[0],
            m2 = q.mains_candidates_hz[1],
            res = q.mains_resolution_hz,
            k = q.mains_min_segments,
        ),
        NotchMode::On => "applied to every channel, at its measured lines, else at the mains \
                          frequency and its harmonics"
            .into(),
        NotchMode::Off => "not applied".into(),
    };
    let notch = format!(
        "{notch}. {} of {} conditioned sEMG channels were notched",
        notched[0], notched[1]
    );
    let mut m = String::new();
    let _ = write!(
        m,
        "# Methods\n\n\
         Recordings were processed with palpa {version} (all arithmetic in double precision).\n\n\
         **Surface EMG.** The mean was removed and each channel was band-pass filtered with a \
         Butterworth filter of order {order} ({poles} poles), {lo}–{hi} Hz, as second-order \
         sections applied forward and backward (zero phase, odd-extension padding; numerically \
         SciPy `sosfiltfilt`). A mains notch (IIR notch, Q = {q}, zero phase, at lines up to \
         {notch_max} Hz) was {notch}. The amplitude envelope was a centred moving RMS over {env} ms. Power spectra were Welch \
         estimates (Hann window, {seg} s segments, {ovl}% overlap, constant detrend, density \
         scaling); mean (MNF) and median (MDF) frequencies were computed over {b0}–{b1} Hz, for \
         each channel, each contact episode and the first and last {edge} s of each hold.\n\n",
        version = env!("CARGO_PKG_VERSION"),
        order = e.bandpass_order,
        poles = 2 * e.bandpass_order,
        lo = e.bandpass_hz[0],
        hi = e.bandpass_hz[1],
        q = e.notch_q,
        notch_max = e.notch_max_hz,
        env = e.envelope_window_ms,
        seg = s.segment_s,
        ovl = 100.0 * s.overlap_fraction,
        b0 = s.band_hz[0],
        b1 = s.band_hz[1],
        edge = s.hold_edge_s,
    );
    let _ = write!(
        m,
        "**Force.** Force was converted to newtons; the zero offset was the median of the lowest \
         {zq}% of samples. The slow force shape was low-pass filtered (Butterworth order {lo_order}, \
         {lp} Hz, zero phase); fast transients were read from the unfiltered force. Pressure = \
         force / probe area ({area}).\n\n\
         **Contact episodes.** Contact began above {on} N and ended below {off} N, lasted at least \
         {min_ms} ms, and contacts closer than {gap} ms were merged. Technique: a PPT trial held a \
         `ppt` event (PPT = force at the event), or was a linear ramp (R² ≥ {r2} over {r0}–{r1}% of \
         the peak, at least {ramp_min} s) released within {rel} s (PPT = peak); a snap lasted less \
         than {snap_s} s with a peak of at least {snap_n} N; strumming had its dominant frequency \
         (FFT of the mean-removed episode, zero-padded to the next even 2·3·5-smooth length) \
         in {st0}–{st1} Hz with modulation depth ≥ {depth}% for ≥ {cycles} cycles; a hold stayed \
         within ±{tol}% of its level for ≥ {plat} s (hold duration from first reaching {reach}% of \
         the plateau median to last being above it; ramp rate over {rf0}–{rf1}% of the plateau; \
         steps = re-raises ≥ {step}%).\n\n",
        zq = 100.0 * f.zero_quantile,
        lo_order = f.lowpass_order,
        lp = f.lowpass_hz,
        area = match cfg.dataset.probe_area_cm2 {
            Some(a) => format!("{a} cm², as the dataset file states, where a sidecar gives none"),
            None => format!(
                "from each sidecar, else palpa's default of {} cm²",
                crate::config::DEFAULT_PROBE_AREA_CM2
            ),
        },
        on = p.contact_on_n,
        off = p.contact_off_n,
        min_ms = p.contact_min_ms,
        gap = p.merge_gap_ms,
        r2 = p.ppt_ramp_r2_min,
        r0 = 100.0 * p.ppt_ramp_fractions[0],
        r1 = 100.0 * p.ppt_ramp_fractions[1],
        ramp_min = p.ppt_ramp_min_s,
        rel = p.ppt_release_max_s,
        snap_s = p.snap_max_s,
        snap_n = p.snap_min_peak_n,
        st0 = p.strum_band_hz[0],
        st1 = p.strum_band_hz[1],
        depth = 100.0 * p.strum_min_depth_fraction,
        cycles = p.strum_min_cycles,
        tol = 100.0 * p.plateau_tolerance_fraction,
        plat = p.plateau_min_s,
        reach = 100.0 * p.hold_reach_fraction,
        rf0 = 100.0 * p.ramp_fractions[0],
        rf1 = 100.0 * p.ramp_fractions[1],
        step = 100.0 * p.step_fraction,
    );
    let _ = write!(
        m,
        "**Local twitch responses.** When an EMG channel showed a QRS rhythm ({b0}–{b1} bpm, R \
         peaks in the {energy} ms signal energy above median + {hmad}·1.4826·MAD of contact-free \
         samples, ≥ {reg}% of R–R intervals within ±20% of their median, beats correlating ≥ {r} \
         with the median template), the template was subtracted at every matching beat. The \
         Teager–Kaiser energy of the band-passed EMG was smoothed over {smooth} ms and compared \
         with median + {h}·1.4826·MAD of samples at least {margin} s from any contact; a burst \
         needed {k} of {mm} consecutive samples above threshold (Bonato double threshold), bursts \
         closer than {merge} ms were merged, and burst edges were placed where the energy reached \
         {frac}% of the burst's peak. Bursts of {d0}–{d1} ms were LTR candidates; bursts with a \
         spectral centroid below {motion} Hz were rejected as motion, bursts with ≥ {sfrac}% \
         of their energy above rest within {sms} ms as spikes, runs of ≥ {tn} brief events at \
         {tr0}–{tr1} Hz with interval CV ≤ {tcv} as a tonic motor unit, and bursts longer than \
         {vol} ms, present on the contralateral channel, above {mult}× resting RMS for \
         {sustain} ms, or with activity above {qmult}× the resting level within {qms} ms \
         (spikes and motion aside) were rejected as voluntary. Force twitches were bumps of the \
         unfiltered force after a snap-over drop above a line fitted under the force after the \
         first {reb} ms (modified polyfit, {it} iterations), peaking ≥ {fmad} noise MADs \
         above it and above the rebound, {fw0}–{fw1} ms wide at half height; a bump rising \
         less than {emd} ms (the electromechanical delay) after the earliest latency was \
         taken as the finger's rebound and looked past. An LTR started {l0}–{l1} ms after the \
         drop (or anywhere within a non-snap episode). A withdrawal was a voluntary burst in \
         contact above {mult}× resting RMS for {sustain} ms, or bilateral for {sustain} ms.\n\n",
        b0 = t.ecg_bpm[0],
        b1 = t.ecg_bpm[1],
        energy = t.ecg_energy_ms,
        hmad = t.ecg_peak_h_mad,
        reg = 100.0 * t.ecg_regular_fraction,
        r = t.ecg_template_min_r,
        smooth = t.tkeo_smooth_ms,
        h = t.threshold_h_mad,
        margin = t.quiet_margin_s,
        k = t.k_of_m[0],
        mm = t.k_of_m[1],
        merge = t.merge_ms,
        frac = 100.0 * t.onset_peak_fraction,
        d0 = t.burst_duration_ms[0],
        d1 = t.burst_duration_ms[1],
        motion = t.motion_centroid_max_hz,
        vol = t.voluntary_min_ms,
        mult = t.voluntary_rest_multiple,
        sustain = t.voluntary_sustain_ms,
        qmult = t.quiet_around_rest_multiple,
        qms = t.quiet_around_ms,
        sfrac = 100.0 * t.spike_energy_fraction,
        sms = t.spike_window_ms,
        tn = t.train_min_events,
        tr0 = t.train_rate_hz[0],
        tr1 = t.train_rate_hz[1],
        tcv = t.train_max_cv,
        reb = t.force_rebound_ms,
        emd = t.force_emd_min_ms,
        it = t.force_baseline_iterations,
        fmad = t.force_peak_mad,
        fw0 = t.force_width_ms[0],
        fw1 = t.force_width_ms[1],
        l0 = t.latency_ms[0],
        l1 = t.latency_ms[1],
    );
    let _ = write!(
        m,
        "**Taut bands.** In snap and strum episodes, snap-overs were force drops of ≥ {drop}% of \
         the local peak within {drop_ms} ms after which the force settled in contact; in strum \
         episodes the harmonic ratio was the power at harmonics {h0}–{h1} of the strumming \
         frequency over the fundamental; stiffness was the force–indentation slope over \
         {s0}–{s1}% of peak force; pressure-evoked EMG was the contact RMS over the {rest} s \
         pre-contact rest, sustained ≥ {emin}× for ≥ {emin_s} s. The taut-band score was the \
         weighted mean of the applicable evidence (snap-over {w1}, harmonics {w2}, stiffness {w3}, \
         EMG {w4}); a taut band was a score ≥ {thr}.\n\n\
         **Technique audit.** Holds were audited against a {h_lo}–{h_hi} s window, a plateau of \
         {p_lo}–{p_hi}% of the muscle's session PPT ({k_lo}–{k_hi} kPa without a PPT), a ramp of at \
         most {ramp} kPa/s, plateau CV ≤ {cv}%, and ≥ {rest_min} s rest between holds; PPT ramps \
         against {ppt_ramp} kPa/s ± {tol}%.\n",
        drop = 100.0 * b.drop_min_fraction,
        drop_ms = b.drop_max_ms,
        h0 = b.harmonics[0],
        h1 = b.harmonics[1],
        s0 = 100.0 * b.stiffness_fractions[0],
        s1 = 100.0 * b.stiffness_fractions[1],
        rest = b.rest_window_s,
        emin = b.emg_elevation_min,
        emin_s = b.emg_elevation_min_s,
        w1 = b.weight_snap_over,
        w2 = b.weight_harmonics,
        w3 = b.weight_stiffness,
        w4 = b.weight_emg,
        thr = b.score_threshold,
        h_lo = a.hold_window_s[0],
        h_hi = a.hold_window_s[1],
        p_lo = 100.0 * a.pressure_pct_ppt[0],
        p_hi = 100.0 * a.pressure_pct_ppt[1],
        k_lo = a.pressure_kpa[0],
        k_hi = a.pressure_kpa[1],
        ramp = a.hold_ramp_max_kpa_per_s,
        cv = 100.0 * a.plateau_cv_max,
        rest_min = a.rest_min_s,
        ppt_ramp = a.ppt_ramp_kpa_per_s,
        tol = 100.0 * a.ppt_ramp_tolerance_fraction,
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_state_the_parameters_actually_used() {
        let mut cfg = Config::default();
        let text = methods_markdown(&cfg, [3, 8]);
        for needle in [
            "3 of 8 conditioned sEMG channels were notched",
            "at least 6 dB above",
            "order 4 (8 poles), 20–450 Hz",
            "50 ms",
            "0.5 s segments",
            "8·1.4826·MAD",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in\n{text}");
        }
        assert!(text.contains(env!("CARGO_PKG_VERSION")));
        cfg.emg.bandpass_hz = [10.0, 400.0];
        cfg.twitch.threshold_h_mad = 6.0;
        let text = methods_markdown(&cfg, [0, 0]);
        assert!(
            text.contains("10–400 Hz") && text.contains("6·1.4826·MAD"),
            "{text}"
        );
    }
}
