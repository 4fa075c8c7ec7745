//! The model's equations for need and risk factors (MODEL.md section 3):
//! competing-risks transition probabilities between need levels, the
//! closed-form stationary distribution of the need chain, and the escalation
//! and recovery multipliers of a resident's risk factors. Pure functions of
//! the configuration; the engine compiles them into threshold tables, and
//! synthesis uses them to start residents near equilibrium.

use super::{Config, NEED_LEVELS, NeedSpec};

/// Chance of moving one level up and one level down this month from `level`,
/// as competing risks: `p(move) = 1 − exp(−(h_up + h_down))`, split in
/// proportion to the hazards.
pub fn transition_probs(need: &NeedSpec, level: usize, up_mult: f64, down_mult: f64) -> (f64, f64) {
    let up = if level < NEED_LEVELS - 1 {
        need.escalation[level] * up_mult
    } else {
        0.0
    };
    let down = if level > 0 {
        need.recovery[level - 1] * down_mult
    } else {
        0.0
    };
    let total = up + down;
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let p = 1.0 - (-total).exp();
    (p * up / total, p * down / total)
}

/// The closed-form stationary distribution of the birth–death chain on need
/// levels: `π[i+1] / π[i] = p_up(i) / p_down(i+1)`.
pub fn stationary(need: &NeedSpec, up_mult: f64, down_mult: f64) -> [f64; NEED_LEVELS] {
    let mut pi = [0.0; NEED_LEVELS];
    pi[0] = 1.0;
    for i in 0..NEED_LEVELS - 1 {
        let (up, _) = transition_probs(need, i, up_mult, down_mult);
        let (_, down) = transition_probs(need, i + 1, up_mult, down_mult);
        pi[i + 1] = if down > 0.0 { pi[i] * up / down } else { 0.0 };
    }
    let total: f64 = pi.iter().sum();
    pi.map(|p| p / total)
}

/// Escalation and recovery multipliers from a resident's risk factors.
pub fn risk_multipliers(config: &Config, mask: u8) -> (f64, f64) {
    let (mut up, mut down) = (1.0, 1.0);
    for (f, risk) in config.risks.iter().enumerate() {
        if mask & (1 << f) != 0 {
            up *= risk.escalation_multiplier;
            down *= risk.recovery_multiplier;
        }
    }
    (up, down)
}

/// The closed-form stationary need distribution of a resident with no risk
/// factors in the given age band (used by tests and docs).
pub fn stationary_need(config: &Config, band: usize) -> [f64; NEED_LEVELS] {
    stationary(
        &config.need,
        config.need.age_escalation_multiplier[band],
        1.0,
    )
}
