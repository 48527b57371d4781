//! Technique audit for clinics (DESIGN §3.7): each hold checked against the protocol in
//! `[audit]`, each PPT trial's ramp against the algometry rate (DESIGN §3.3).
//!
//! Pressures are in kPa under the probe. The target pressure is a fraction of the muscle's
//! session PPT when one was measured, else an absolute kPa range. `no_rest` compares the
//! time since the previous hold ended with `rest_min_s`.

use std::fmt;

use crate::config::AuditConfig;
use crate::detect::episodes::{Episode, Technique};
use crate::model::pressure_kpa;

/// A departure from the protocol, in the words a clinic uses for it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum AuditFlag {
    /// Held for less than the target window.
    Short,
    /// Held for longer than the target window.
    Long,
    /// Plateau below the target pressure.
    UnderPressure,
    /// Plateau above the target pressure.
    OverPressure,
    /// Pressure raised faster than the protocol allows.
    RampTooFast,
    /// PPT ramp slower than the algometry protocol.
    RampTooSlow,
    /// Plateau coefficient of variation above the limit.
    Unstable,
    /// The patient withdrew (a voluntary EMG burst during contact).
    Withdrawal,
    /// Too little rest since the previous hold.
    NoRest,
}

impl AuditFlag {
    /// The flag as written in tables (`short`, `over_pressure`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditFlag::Short => "short",
            AuditFlag::Long => "long",
            AuditFlag::UnderPressure => "under_pressure",
            AuditFlag::OverPressure => "over_pressure",
            AuditFlag::RampTooFast => "ramp_too_fast",
            AuditFlag::RampTooSlow => "ramp_too_slow",
            AuditFlag::Unstable => "unstable",
            AuditFlag::Withdrawal => "withdrawal",
            AuditFlag::NoRest => "no_rest",
        }
    }
}

/// A flag in a clinician's words, with the episode's own numbers and the protocol's:
/// "held 18 s — below the 30 s target".
pub fn describe(
    flag: AuditFlag,
    e: &Episode,
    audit: &Audit,
    area_cm2: f64,
    cfg: &AuditConfig,
) -> String {
    let p = e.plateau.as_ref();
    let held = p.map_or(0.0, |p| p.hold_s);
    let kpa = p.map_or(0.0, |p| pressure_kpa(p.plateau_n, area_cm2));
    let ramp = |rate: Option<f64>| rate.map_or(0.0, |r| pressure_kpa(r, area_cm2));
    let [lo_pct, hi_pct] = cfg.pressure_pct_ppt.map(|f| 100.0 * f);
    let [lo_kpa, hi_kpa] = cfg.pressure_kpa;
    let ppt_target = cfg.ppt_ramp_kpa_per_s;
    let tolerance = cfg.ppt_ramp_tolerance_fraction;
    match flag {
        AuditFlag::Short => format!(
            "held {held:.0} s — below the {:.0} s target",
            cfg.hold_window_s[0]
        ),
        AuditFlag::Long => format!(
            "held {held:.0} s — beyond the {:.0} s limit",
            cfg.hold_window_s[1]
        ),
        AuditFlag::UnderPressure => match audit.plateau_pct_ppt {
            Some(f) => format!(
                "pressed at {:.0}% of the patient's PPT — below the {lo_pct:.0}% target",
                100.0 * f
            ),
            None => format!("pressed at {kpa:.0} kPa — below the {lo_kpa:.0} kPa target"),
        },
        AuditFlag::OverPressure => match audit.plateau_pct_ppt {
            Some(f) => format!(
                "pressed at {:.0}% of the patient's PPT — above the {hi_pct:.0}% limit",
                100.0 * f
            ),
            None => format!("pressed at {kpa:.0} kPa — above the {hi_kpa:.0} kPa limit"),
        },
        AuditFlag::RampTooFast if e.technique == Technique::Ppt => format!(
            "algometer pushed at {:.0} kPa/s — faster than {:.0} kPa/s",
            ramp(e.ppt_ramp_n_per_s),
            ppt_target * (1.0 + tolerance)
        ),
        AuditFlag::RampTooFast => format!(
            "pressure built at {:.0} kPa/s — faster than {:.0} kPa/s",
            ramp(p.and_then(|p| p.ramp_n_per_s)),
            cfg.hold_ramp_max_kpa_per_s
        ),
        AuditFlag::RampTooSlow => format!(
            "algometer pushed at {:.0} kPa/s — slower than {:.0} kPa/s",
            ramp(e.ppt_ramp_n_per_s),
            ppt_target * (1.0 - tolerance)
        ),
        AuditFlag::Unstable => format!(
            "pressure unsteady: varied by {:.0}% (limit {:.0}%)",
            100.0 * p.map_or(0.0, |p| p.plateau_cv),
            100.0 * cfg.plateau_cv_max
        ),
        AuditFlag::Withdrawal => {
            "the patient withdrew (a strong voluntary contraction during contact)".into()
        }
        AuditFlag::NoRest => format!(
            "less than {:.0} s rest since the previous hold",
            cfg.rest_min_s
        ),
    }
}

impl fmt::Display for AuditFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the audit found for one episode; `ok` when `flags` is empty.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Audit {
    /// Departures from the protocol, in a fixed order.
    pub flags: Vec<AuditFlag>,
    /// Plateau (holds) as a fraction of the session PPT, when one is known.
    pub plateau_pct_ppt: Option<f64>,
}

impl Audit {
    /// No departure from the protocol.
    pub fn ok(&self) -> bool {
        self.flags.is_empty()
    }
}

/// The muscle and session context an audit needs.
#[derive(Clone, Copy, Debug)]
pub struct AuditContext {
    /// Contact area of the probe or thumb.
    pub probe_area_cm2: f64,
    /// The muscle's PPT in this session (mean of its trials), if measured.
    pub session_ppt_kpa: Option<f64>,
}

/// Audits every hold and PPT trial; other techniques get `None`. `withdrawals[i]` says
/// whether episode `i` ended in a withdrawal (from the twitch detector).
pub fn audit(
    episodes: &[Episode],
    withdrawals: &[bool],
    ctx: AuditContext,
    cfg: &AuditConfig,
) -> Vec<Option<Audit>> {
    let mut previous_hold_end_s: Option<f64> = None;
    episodes
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let withdrew = withdrawals.get(i).copied().unwrap_or(false);
            match e.technique {
                Technique::Hold => {
                    let audit = audit_hold(e, withdrew, previous_hold_end_s, ctx, cfg);
                    previous_hold_end_s = Some(e.end_s);
                    Some(audit)
                }
                Technique::Ppt => Some(audit_ppt(e, withdrew, ctx, cfg)),
                _ => None,
            }
        })
        .collect()
}

fn audit_hold(
    e: &Episode,
    withdrew: bool,
    previous_end_s: Option<f64>,
    ctx: AuditContext,
    cfg: &AuditConfig,
) -> Audit {
    let mut flags = Vec::new();
    let mut plateau_pct_ppt = None;
    if let Some(p) = &e.plateau {
        let [min_s, max_s] = cfg.hold_window_s;
        if p.hold_s < min_s {
            flags.push(AuditFlag::Short);
        } else if p.hold_s > max_s {
            flags.push(AuditFlag::Long);
        }
        let kpa = pressure_kpa(p.plateau_n, ctx.probe_area_cm2);
        let (value, [lo, hi]) = match ctx.session_ppt_kpa {
            Some(ppt) => {
                plateau_pct_ppt = Some(kpa / ppt);
                (kpa / ppt, cfg.pressure_pct_ppt)
            }
            None => (kpa, cfg.pressure_kpa),
        };
        if value < lo {
            flags.push(AuditFlag::UnderPressure);
        } else if value > hi {
            flags.push(AuditFlag::OverPressure);
        }
        if p.ramp_n_per_s
            .is_some_and(|r| pressure_kpa(r, ctx.probe_area_cm2) > cfg.hold_ramp_max_kpa_per_s)
        {
            flags.push(AuditFlag::RampTooFast);
        }
        if p.plateau_cv > cfg.plateau_cv_max {
            flags.push(AuditFlag::Unstable);
        }
    }
    if withdrew {
        flags.push(AuditFlag::Withdrawal);
    }
    if previous_end_s.is_some_and(|end| e.start_s - end < cfg.rest_min_s) {
        flags.push(AuditFlag::NoRest);
    }
    Audit {
        flags,
        plateau_pct_ppt,
    }
}

fn audit_ppt(e: &Episode, withdrew: bool, ctx: AuditContext, cfg: &AuditConfig) -> Audit {
    let mut flags = Vec::new();
    if let Some(rate) = e.ppt_ramp_n_per_s {
        let kpa_per_s = pressure_kpa(rate, ctx.probe_area_cm2);
        let target = cfg.ppt_ramp_kpa_per_s;
        let tolerance = cfg.ppt_ramp_tolerance_fraction;
        if kpa_per_s > target * (1.0 + tolerance) {
            flags.push(AuditFlag::RampTooFast);
        } else if kpa_per_s < target * (1.0 - tolerance) {
            flags.push(AuditFlag::RampTooSlow);
        }
    }
    if withdrew {
        flags.push(AuditFlag::Withdrawal);
    }
    Audit {
        flags,
        plateau_pct_ppt: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::episodes::Plateau;

    fn hold(
        start_s: f64,
        hold_s: f64,
        plateau_n: f64,
        ramp_n_per_s: f64,
        plateau_cv: f64,
    ) -> Episode {
        Episode {
            start_s,
            end_s: start_s + hold_s + 4.0,
            technique: Technique::Hold,
            peak_n: plateau_n * 1.05,
            plateau: Some(Plateau {
                plateau_n,
                plateau_cv,
                hold_s,
                ramp_n_per_s: Some(ramp_n_per_s),
                steps: 0,
            }),
            ppt_n: None,
            ppt_ramp_n_per_s: None,
        }
    }

    fn ppt(start_s: f64, ramp_n_per_s: f64) -> Episode {
        Episode {
            start_s,
            end_s: start_s + 5.0,
            technique: Technique::Ppt,
            peak_n: 40.0,
            plateau: None,
            ppt_n: Some(40.0),
            ppt_ramp_n_per_s: Some(ramp_n_per_s),
        }
    }

    const CTX: AuditContext = AuditContext {
        probe_area_cm2: 1.0,
        session_ppt_kpa: Some(400.0),
    };

    #[test]
    fn flags_read_as_a_clinician_would_say_them() {
        let e = hold(0.0, 18.0, 30.0, 10.0, 0.02);
        let a = Audit {
            flags: vec![AuditFlag::Short],
            plateau_pct_ppt: Some(0.4),
        };
        let cfg = AuditConfig::default();
        assert_eq!(
            describe(AuditFlag::Short, &e, &a, 1.0, &cfg),
            "held 18 s — below the 30 s target"
        );
        assert_eq!(
            describe(AuditFlag::UnderPressure, &e, &a, 1.0, &cfg),
            "pressed at 40% of the patient's PPT — below the 50% target"
        );
    }

    #[test]
    fn a_good_hold_is_ok() {
        // 60 s at 30 N on 1 cm² = 300 kPa = 75% of a 400 kPa PPT; ramp 10 N/s = 100 kPa/s.
        let a = audit(
            &[hold(0.0, 60.0, 30.0, 10.0, 0.05)],
            &[false],
            CTX,
            &AuditConfig::default(),
        );
        let a = a[0].as_ref().unwrap();
        assert!(a.ok(), "{:?}", a.flags);
        assert_eq!(a.plateau_pct_ppt, Some(0.75));
    }

    #[test]
    fn every_departure_is_flagged() {
        let cfg = AuditConfig::default();
        let episodes = [
            hold(0.0, 18.0, 45.0, 30.0, 0.2), // short, over PPT, 300 kPa/s, CV 20%
            hold(30.0, 120.0, 15.0, 10.0, 0.05), // 8 s after the first: no rest; long; 150 kPa < 50%
        ];
        let audits = audit(&episodes, &[false, true], CTX, &cfg);
        use AuditFlag::*;
        assert_eq!(
            audits[0].as_ref().unwrap().flags,
            [Short, OverPressure, RampTooFast, Unstable]
        );
        assert_eq!(
            audits[1].as_ref().unwrap().flags,
            [Long, UnderPressure, Withdrawal, NoRest]
        );
    }

    #[test]
    fn without_a_ppt_the_absolute_range_applies() {
        let ctx = AuditContext {
            probe_area_cm2: 1.0,
            session_ppt_kpa: None,
        };
        let cfg = AuditConfig::default();
        // 12 N on 1 cm² = 120 kPa, above the 38–107 kPa range; 6 N = 60 kPa, inside.
        let audits = audit(
            &[
                hold(0.0, 60.0, 12.0, 5.0, 0.05),
                hold(200.0, 60.0, 6.0, 5.0, 0.05),
            ],
            &[],
            ctx,
            &cfg,
        );
        assert_eq!(audits[0].as_ref().unwrap().flags, [AuditFlag::OverPressure]);
        assert!(audits[1].as_ref().unwrap().ok());
        assert_eq!(audits[1].as_ref().unwrap().plateau_pct_ppt, None);
    }

    #[test]
    fn ppt_ramps_are_audited_against_one_kg_per_cm2_per_s() {
        let cfg = AuditConfig::default();
        // 9.8 N/s on 1 cm² = 98 kPa/s: on target; 20 N/s = 200 kPa/s: too fast; 4 N/s: too slow.
        let audits = audit(
            &[ppt(0.0, 9.8), ppt(60.0, 20.0), ppt(120.0, 4.0)],
            &[],
            CTX,
            &cfg,
        );
        let flags: Vec<_> = audits
            .iter()
            .map(|a| a.as_ref().unwrap().flags.clone())
            .collect();
        assert_eq!(
            flags,
            [
                vec![],
                vec![AuditFlag::RampTooFast],
                vec![AuditFlag::RampTooSlow]
            ]
        );
    }
}
