//! The settings of the equilibrium solvers: one checked type for both models (the
//! multi-sector Caliendo–Parro loop and the one-sector structural gravity solvers).
//!
//! A [`Settings`] that exists has passed [`Settings::new`]: the tolerance is a finite number
//! in `(0, 1e-3]`, at least one iteration is allowed, and the damping step is in `(0, 1]`. The
//! scenario loaders build it where the file is read, so a bad value is refused with the
//! file's line and column ([`OutOfRange`] names the field), never inside a solver.

use std::fmt;

/// Settings of an equilibrium solver, checked when built.
///
/// - `tolerance`: the largest residual accepted as solved (the Caliendo–Parro loop: relative
///   factor-market excess and relative wage change; gravity: the relative residual of every
///   equation).
/// - `max_iterations`: the iteration cap; the solver stops with
///   [`Error::NotConverged`](crate::error::Error::NotConverged) when it is reached.
/// - `step`: the damping of the Caliendo–Parro wage update `ŵ ← ŵ (1 + step · excess)`; the
///   gravity solvers take full steps (`1`) and have no damping to set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    tolerance: f64,
    max_iterations: usize,
    step: f64,
}

/// A settings value outside its allowed range.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfRange {
    /// The field of the scenario file's `solver: (…)` (`tolerance`, `max_iterations`, `step`).
    pub field: &'static str,
    /// What is wrong and the allowed range, e.g. "`step` = 1.5 is not in (0, 1]; …".
    pub message: String,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The largest tolerance accepted: looser than this, an "equilibrium" is off by more than a
/// tenth of a percent.
pub const MAX_TOLERANCE: f64 = 1e-3;

impl Settings {
    /// The multi-sector model's defaults: tolerance 1e-10, 5000 iterations, step 0.5.
    pub const CALIENDO_PARRO: Settings = Settings {
        tolerance: 1e-10,
        max_iterations: 5000,
        step: 0.5,
    };
    /// The structural gravity solvers' defaults: tolerance 1e-12, 100 000 iterations, full
    /// (undamped) steps.
    pub const GRAVITY: Settings = Settings {
        tolerance: 1e-12,
        max_iterations: 100_000,
        step: 1.0,
    };

    /// Checked settings: `tolerance` finite in `(0, 1e-3]`, `max_iterations` ≥ 1, `step` in
    /// `(0, 1]`. Every value out of range is reported, each naming its field and range.
    pub fn new(
        tolerance: f64,
        max_iterations: usize,
        step: f64,
    ) -> Result<Settings, Vec<OutOfRange>> {
        Settings::check(tolerance, max_iterations, step, None)
    }

    /// [`Settings::new`]; a message names the default (`defaults`' value) when there is one.
    fn check(
        tolerance: f64,
        max_iterations: usize,
        step: f64,
        defaults: Option<&Settings>,
    ) -> Result<Settings, Vec<OutOfRange>> {
        let fix = |default: String| match defaults {
            Some(_) => format!("leave it out for the default, {default}"),
            None => format!("e.g. {default}"),
        };
        let d = defaults.unwrap_or(&Settings::CALIENDO_PARRO);
        let mut bad = Vec::new();
        if !(tolerance > 0.0 && tolerance <= MAX_TOLERANCE) {
            bad.push(OutOfRange {
                field: "tolerance",
                message: format!(
                    "solver `tolerance` = {tolerance} is not in (0, {MAX_TOLERANCE:e}]; {}",
                    fix(format!("{:e}", d.tolerance))
                ),
            });
        }
        if max_iterations == 0 {
            bad.push(OutOfRange {
                field: "max_iterations",
                message: format!(
                    "solver `max_iterations` = 0: at least 1 iteration is needed; {}",
                    fix(d.max_iterations.to_string())
                ),
            });
        }
        if !(step > 0.0 && step <= 1.0) {
            bad.push(OutOfRange {
                field: "step",
                message: format!(
                    "solver `step` = {step} is not in (0, 1] (the damping of the wage update); {}",
                    fix(d.step.to_string())
                ),
            });
        }
        if bad.is_empty() {
            Ok(Settings {
                tolerance,
                max_iterations,
                step,
            })
        } else {
            Err(bad)
        }
    }

    /// These settings with the fields a scenario file gives replaced, checked ([`Settings::new`]).
    pub fn with(
        self,
        tolerance: Option<f64>,
        max_iterations: Option<usize>,
        step: Option<f64>,
    ) -> Result<Settings, Vec<OutOfRange>> {
        Settings::check(
            tolerance.unwrap_or(self.tolerance),
            max_iterations.unwrap_or(self.max_iterations),
            step.unwrap_or(self.step),
            Some(&self),
        )
    }

    /// The largest residual accepted as solved.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
    /// The iteration cap.
    pub fn max_iterations(&self) -> usize {
        self.max_iterations
    }
    /// The damping of the wage update (1: none).
    pub fn step(&self) -> f64 {
        self.step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_their_own_check() {
        for d in [Settings::CALIENDO_PARRO, Settings::GRAVITY] {
            assert_eq!(
                Settings::new(d.tolerance(), d.max_iterations(), d.step()),
                Ok(d)
            );
        }
    }

    #[test]
    fn every_value_out_of_range_is_named_with_its_range() {
        let e = Settings::new(f64::NAN, 0, 1.5).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|o| o.field).collect();
        assert_eq!(fields, ["tolerance", "max_iterations", "step"]);
        assert!(e[0].message.contains("(0, 1e-3]"), "{}", e[0]);
        assert!(e[2].message.contains("(0, 1]"), "{}", e[2]);
        for bad in [0.0, -1e-9, 0.01, f64::INFINITY] {
            assert!(Settings::new(bad, 10, 0.5).is_err(), "{bad}");
        }
        assert!(Settings::new(1e-10, 10, 0.0).is_err());
        assert!(Settings::CALIENDO_PARRO.with(None, Some(2), None).is_ok());
    }
}
