//! Trade costs estimated as in the Advanced Guide (MODEL.md §2 steps 1–2).

use super::data::{Covariate, Panel, YearData};
use crate::error::{Error, Result};

/// Baseline costs `t_BLN^{1−σ} = t̄_ij exp(Σ β_k policy_k)` and the policy coefficients.
pub struct EstimatedCosts {
    pub costs: Vec<f64>,
    pub policy: Vec<(Covariate, f64)>,
}

/// Steps 1–2 of the Guide's procedure.
pub fn guide_costs(
    _panel: &Panel,
    _yd: &YearData,
    _year: i64,
    _years: &[i64],
    _pair: &str,
    _policy: &[String],
    _fill: &[String],
) -> Result<EstimatedCosts> {
    Err(Error::invalid("costs: Estimate", "not available yet"))
}
