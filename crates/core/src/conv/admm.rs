//! The one ADMM template every convolutional ADMM solver runs through.
//!
//! A problem `min f(x) + g(y) s.t. A x - y = 0` plugs in by implementing
//! [`AdmmProblem`] (x-step; y-step (proximal step) with the scaled dual update); [`run`]
//! owns the iteration: over-relaxation (Eckstein & Bertsekas; `alpha` about
//! 1.8 is the default that matters for CBPDN, Wohlberg 2016 Sec. VI), the
//! residual-balancing adaptive penalty (Boyd et al. 2011 Sec. 3.4.1, on
//! relative residuals as in Wohlberg 2015 "ADMM penalty parameter selection by
//! residual balancing"), and the stopping rule on relative primal and dual
//! residuals (Boyd et al. 2011 Sec. 3.3.1 with `eps_abs = 0`).

use super::ConvFloat;
use crate::{validate, Error, Result};

/// Options of the ADMM template.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmmOptions {
    /// Initial penalty `rho`; `None` picks the solver's default (CBPDN: `50 lambda + 1`,
    /// as SPORCO does).
    pub rho: Option<f64>,
    /// Over-relaxation parameter `alpha` in `(0, 2)`.
    pub relaxation: f64,
    /// Residual-balancing adaptation of `rho`.
    pub adaptive_rho: bool,
}

impl Default for AdmmOptions {
    fn default() -> Self {
        Self { rho: None, relaxation: 1.8, adaptive_rho: true }
    }
}

impl AdmmOptions {
    /// Fails on a non-positive `rho` or a relaxation outside `(0, 2)`.
    pub fn check(&self) -> Result<()> {
        if let Some(rho) = self.rho {
            validate::positive("rho", rho)?;
        }
        if !(self.relaxation > 0.0 && self.relaxation < 2.0) {
            return Err(Error::parameter("relaxation", self.relaxation, "must be in (0, 2)"));
        }
        Ok(())
    }
}

/// Squared norms an ADMM problem reports after its dual update.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Residuals {
    /// `||A x - y||^2` (unrelaxed `x`).
    pub primal_sq: f64,
    /// `||y - y_prev||^2`; the dual residual is taken as `rho ||y - y_prev||`,
    /// exact for `A = I` and, for stacked constraints, a surrogate up to a factor `||A||`.
    pub y_change_sq: f64,
    /// `||A x||^2`.
    pub ax_sq: f64,
    /// `||y||^2`.
    pub y_sq: f64,
    /// `||u||^2` (scaled dual variable).
    pub u_sq: f64,
}

/// One ADMM problem in scaled form, `min f(x) + g(y) s.t. A x = y`.
pub trait AdmmProblem<T: ConvFloat> {
    /// Minimises the augmented Lagrangian over `x` for the current `y`, `u`, `rho`.
    fn x_step(&mut self, rho: T);
    /// Minimises over `y` at the over-relaxed `alpha A x + (1 - alpha) y_prev`
    /// (a proximal step), then updates the scaled dual, `u += (relaxed A x) - y`;
    /// reports the residual norms. One method, so that a problem can do both
    /// in one pass over memory.
    fn y_and_dual_step(&mut self, alpha: T, rho: T) -> Residuals;
    /// Multiplies the scaled dual `u` by `factor` (after `rho` is divided by it).
    fn scale_dual(&mut self, factor: T);
}

/// How an ADMM run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmmReport {
    /// Iterations run.
    pub n_iter: usize,
    /// Whether both relative residuals fell below the tolerance.
    pub converged: bool,
    /// The final penalty.
    pub rho: f64,
    /// Final relative primal residual `||A x - y|| / max(||A x||, ||y||)`.
    pub primal_residual: f64,
    /// Final relative dual residual `rho ||y - y_prev|| / (rho ||u||)`.
    pub dual_residual: f64,
}

/// Residual ratio beyond which `rho` is rebalanced, and the factor it changes by.
const BALANCE_RATIO: f64 = 10.0;
const BALANCE_FACTOR: f64 = 2.0;

/// Runs ADMM on `problem` from penalty `rho` for at most `max_iter` iterations,
/// stopping when both relative residuals are below `tol`.
pub fn run<T: ConvFloat, P: AdmmProblem<T>>(
    problem: &mut P,
    options: &AdmmOptions,
    rho: f64,
    max_iter: usize,
    tol: f64,
) -> AdmmReport {
    let alpha = T::of(options.relaxation);
    let mut rho = rho;
    let mut report =
        AdmmReport { n_iter: 0, converged: false, rho, primal_residual: f64::INFINITY, dual_residual: f64::INFINITY };
    let tiny = f64::MIN_POSITIVE.sqrt();
    for it in 1..=max_iter {
        problem.x_step(T::of(rho));
        let r = problem.y_and_dual_step(alpha, T::of(rho));
        let primal = r.primal_sq.sqrt() / r.ax_sq.sqrt().max(r.y_sq.sqrt()).max(tiny);
        let dual = r.y_change_sq.sqrt() / r.u_sq.sqrt().max(tiny);
        report = AdmmReport { n_iter: it, converged: false, rho, primal_residual: primal, dual_residual: dual };
        if primal <= tol && dual <= tol {
            report.converged = true;
            break;
        }
        if options.adaptive_rho && it < max_iter {
            let factor = if primal > BALANCE_RATIO * dual {
                BALANCE_FACTOR
            } else if dual > BALANCE_RATIO * primal {
                1.0 / BALANCE_FACTOR
            } else {
                1.0
            };
            if factor != 1.0 {
                rho *= factor;
                problem.scale_dual(T::of(1.0 / factor));
            }
        }
    }
    report
}
