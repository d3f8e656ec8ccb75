//! The one ADMM template every convolutional ADMM solver runs through.
//!
//! A problem `min f(x) + g(y) s.t. A x - y = 0` plugs in by implementing
//! [`AdmmProblem`] (x-step; y-step (proximal step) with the scaled dual update); [`run`]
//! owns the iteration: over-relaxation (Eckstein & Bertsekas; `alpha` about
//! 1.8 is the default that matters for CBPDN, Wohlberg 2016 Sec. VI), the
//! adaptive penalty, and the stopping rule on relative primal and dual
//! residuals (Boyd et al. 2011 Sec. 3.3.1 with `eps_abs = 0`, as SPORCO's
//! `ConvBPDN` stops by default).
//!
//! The penalty is set by residual balancing as in Wohlberg 2015, "ADMM penalty
//! parameter selection by residual balancing" (arXiv:1704.06209), with SPORCO's
//! `ConvBPDN` defaults: after every iteration but the first of a cold start,
//! with relative residuals `r` (primal) and `s` (dual) and a target ratio `xi`,
//! `rho` is multiplied by `sqrt(r / (xi s))` when `r > mu xi s` and divided by
//! `sqrt(xi s / r)` when `xi s > mu r` (eq. (20) with the adaptive multiplier
//! of Sec. IV.C), `mu = 1.2`, the multiplier at most `tau_max = 1000`.
//!
//! Balancing every iteration in so narrow a band does not always converge:
//! on small problems the residual ratio fluctuates from one iteration to the
//! next by more than `mu`, `rho` follows the fluctuation up and down, and the
//! iteration settles into a cycle that keeps both residuals around 1e-1 to
//! 1e-3 for thousands of iterations (SPORCO's `ConvBPDN` does so on 17 of 20
//! random 64-sample 1-D problems with 3 filters of length 5, `lambda = 0.1`,
//! tolerance 1e-6; Boyd's ratio-10 rule converges on all). Two safeguards:
//!
//! - every reversal (a change of `rho` in the direction opposite to the
//!   change before) doubles `mu`, up to Boyd's 10, so that `rho` stops
//!   following fluctuations but still moves when the ratio is far off;
//! - the `j`-th change of `rho` is by a factor of at most `1 + (tau_max - 1) / j^2`:
//!   the changes are summable, the condition under which ADMM with a varying
//!   penalty converges (He, Yang & Wang 2000, JOTA 106(2); Boyd et al. 2011
//!   Sec. 3.4.1).
//!
//! A well-behaved solve never reverses and changes `rho` a few times (8 in
//! 200 iterations of the 256x256 benchmark), so it takes SPORCO's steps
//! exactly. The counts travel with the penalty ([`Penalty`]), so that a solve
//! continued in several runs (warm starts, the one-iteration coding steps of
//! dictionary learning) takes the same steps as one long run.

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
    /// Target ratio `xi` of the relative primal to the relative dual residual
    /// that residual balancing steers to; `None` picks the solver's default
    /// (CBPDN: `1 + 18.3^(log10 lambda + 1)`, Wohlberg 2015 Sec. VI.C, as
    /// SPORCO does; otherwise 1).
    pub residual_target: Option<f64>,
    /// The balancing rule that adapts `rho` (when `adaptive_rho`).
    pub balancing: Balancing,
}

impl Default for AdmmOptions {
    fn default() -> Self {
        Self { rho: None, relaxation: 1.8, adaptive_rho: true, residual_target: None, balancing: Balancing::Scaled }
    }
}

/// How residual balancing changes `rho`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Balancing {
    /// After every iteration, by the residual ratio itself in a narrow band
    /// with the safeguards of the module docs (Wohlberg 2015 eq. (20) with
    /// Sec. IV.C; SPORCO's `ConvBPDN` default).
    Scaled,
    /// Every `period`-th iteration (counted over the whole solve, continuations
    /// included), by the fixed `factor` when `r / (xi s)` leaves
    /// `[1 / ratio, ratio]` (Boyd et al. 2011 eq. (3.13) with a period;
    /// SPORCO's dictionary learning runs its coding step so, with factor 2,
    /// ratio 10, period 10).
    Periodic {
        /// The factor `tau` `rho` is multiplied or divided by.
        factor: f64,
        /// The ratio `mu` the residual ratio may reach before `rho` changes.
        ratio: f64,
        /// Iterations between rebalancings.
        period: usize,
    },
}

impl AdmmOptions {
    /// Fails on a non-positive `rho` or `residual_target`, or a relaxation outside `(0, 2)`.
    pub fn check(&self) -> Result<()> {
        if let Some(rho) = self.rho {
            validate::positive("rho", rho)?;
        }
        if let Some(target) = self.residual_target {
            validate::positive("residual_target", target)?;
        }
        if let Balancing::Periodic { factor, ratio, period } = self.balancing {
            if !(factor > 1.0 && factor.is_finite()) {
                return Err(Error::parameter("balancing factor", factor, "must be finite and above 1"));
            }
            if !(ratio >= 1.0 && ratio.is_finite()) {
                return Err(Error::parameter("balancing ratio", ratio, "must be finite and at least 1"));
            }
            validate::at_least_one("balancing period", period)?;
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

/// The penalty of an ADMM solve with its adaptation history; a run returns
/// it in its [`AdmmReport`], and a run that continues the solve (with the same
/// `y` and `u`) starts from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalty {
    /// The penalty `rho`.
    pub rho: f64,
    /// Iterations run so far.
    pub n_iter: usize,
    /// Changes of `rho` so far.
    pub n_changes: usize,
    /// Changes of `rho` in the direction opposite to the change before.
    pub n_reversals: usize,
    /// Whether the last change raised `rho`.
    pub last_raised: bool,
}

impl Penalty {
    /// A cold start at penalty `rho`.
    pub fn new(rho: f64) -> Self {
        Self { rho, n_iter: 0, n_changes: 0, n_reversals: 0, last_raised: false }
    }

    /// The largest factor the next change of `rho` may have (module docs):
    /// `1 + (tau_max - 1) / j^2` for the `j`-th change.
    fn bound(&self) -> f64 {
        let j = (self.n_changes + 1) as f64;
        1.0 + (MAX_BALANCE_FACTOR - 1.0) / (j * j)
    }

    /// The ratio `mu` (module docs): `1.2 * 2^reversals`, at most 10.
    fn band(&self) -> f64 {
        (BALANCE_RATIO * 2f64.powi(self.n_reversals.min(64) as i32)).min(MAX_BALANCE_RATIO)
    }

    /// Multiplies `rho` by `factor` (not 1) and records the change.
    fn change(&mut self, factor: f64) {
        let raised = factor > 1.0;
        if self.n_changes > 0 && raised != self.last_raised {
            self.n_reversals += 1;
        }
        self.rho *= factor;
        self.n_changes += 1;
        self.last_raised = raised;
    }
}

/// How an ADMM run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmmReport {
    /// Iterations run.
    pub n_iter: usize,
    /// Whether both relative residuals fell below the tolerance.
    pub converged: bool,
    /// The penalty after the run, including the rebalancing after its last
    /// iteration: the state a continuation starts from.
    pub penalty: Penalty,
    /// Final relative primal residual `||A x - y|| / max(||A x||, ||y||)`.
    pub primal_residual: f64,
    /// Final relative dual residual `rho ||y - y_prev|| / (rho ||u||)`.
    pub dual_residual: f64,
}

/// `mu` of Wohlberg 2015 eq. (20) at the start: `rho` changes when `r / (xi s)`
/// leaves `[1 / mu, mu]`.
const BALANCE_RATIO: f64 = 1.2;
/// The largest `mu` that reversals widen the band to (Boyd et al. 2011 Sec. 3.4.1).
const MAX_BALANCE_RATIO: f64 = 10.0;
/// `tau_max` of Wohlberg 2015 Sec. IV.C: the largest factor `rho` changes by at once.
const MAX_BALANCE_FACTOR: f64 = 1000.0;

/// The factor residual balancing multiplies `rho` by after an iteration with
/// relative residuals `primal` and `dual`, target ratio `target` and ratio
/// `band` (module docs): `sqrt(r / (xi s))` or its inverse, at most `bound`
/// (a zero residual takes the bound), or 1 inside the band.
fn balance_factor(primal: f64, dual: f64, target: f64, band: f64, bound: f64) -> f64 {
    let scaled = dual * target;
    let step = if primal == 0.0 || dual == 0.0 {
        bound
    } else if primal > scaled {
        (primal / scaled).sqrt().min(bound)
    } else {
        (scaled / primal).sqrt().min(bound)
    };
    if primal > band * scaled {
        step
    } else if scaled > band * primal {
        1.0 / step
    } else {
        1.0
    }
}

/// The factor of [`Balancing::Periodic`] after the iteration numbered
/// `n_iter` (from 0 over the whole solve): `factor` or its inverse on every
/// `period`-th iteration when `r / (xi s)` leaves `[1 / ratio, ratio]`, else 1
/// (SPORCO's `ADMM.update_rho` without auto scaling).
fn periodic_factor(n_iter: usize, primal: f64, dual: f64, target: f64, factor: f64, ratio: f64, period: usize) -> f64 {
    if (n_iter + 1) % period != 0 {
        1.0
    } else if primal > ratio * target * dual {
        factor
    } else if target * dual > ratio * primal {
        1.0 / factor
    } else {
        1.0
    }
}

/// Runs ADMM on `problem` from `penalty` for at most `max_iter` iterations,
/// balancing the residuals towards the ratio `target` (`xi`), and stopping
/// when both relative residuals are below `tol`. `rho` is rebalanced after
/// every iteration (except the first of a cold start, as in SPORCO), the last
/// one included, so that the returned penalty and the problem's scaled duals
/// carry the adaptation into a continuation.
pub fn run<T: ConvFloat, P: AdmmProblem<T>>(
    problem: &mut P,
    options: &AdmmOptions,
    penalty: Penalty,
    target: f64,
    max_iter: usize,
    tol: f64,
) -> AdmmReport {
    let alpha = T::of(options.relaxation);
    let mut penalty = penalty;
    let mut report = AdmmReport {
        n_iter: 0,
        converged: false,
        penalty,
        primal_residual: f64::INFINITY,
        dual_residual: f64::INFINITY,
    };
    let tiny = f64::MIN_POSITIVE.sqrt();
    for it in 1..=max_iter {
        let rho = penalty.rho;
        problem.x_step(T::of(rho));
        let r = problem.y_and_dual_step(alpha, T::of(rho));
        let primal = r.primal_sq.sqrt() / r.ax_sq.sqrt().max(r.y_sq.sqrt()).max(tiny);
        let dual = r.y_change_sq.sqrt() / r.u_sq.sqrt().max(tiny);
        let converged = primal <= tol && dual <= tol;
        if options.adaptive_rho && penalty.n_iter > 0 {
            let factor = match options.balancing {
                Balancing::Scaled => balance_factor(primal, dual, target, penalty.band(), penalty.bound()),
                Balancing::Periodic { factor, ratio, period } => {
                    periodic_factor(penalty.n_iter, primal, dual, target, factor, ratio, period)
                }
            };
            if factor != 1.0 {
                penalty.change(factor);
                problem.scale_dual(T::of(1.0 / factor));
            }
        }
        penalty.n_iter += 1;
        report = AdmmReport { n_iter: it, converged, penalty, primal_residual: primal, dual_residual: dual };
        if converged {
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `min 0.5 ||x - b||^2 + lambda ||y||_1 s.t. x = y`, elementwise.
    struct Lasso {
        b: Vec<f64>,
        lambda: f64,
        x: Vec<f64>,
        y: Vec<f64>,
        u: Vec<f64>,
    }

    impl Lasso {
        fn new(b: Vec<f64>, lambda: f64) -> Self {
            let n = b.len();
            Self { b, lambda, x: vec![0.0; n], y: vec![0.0; n], u: vec![0.0; n] }
        }
    }

    impl AdmmProblem<f64> for Lasso {
        fn x_step(&mut self, rho: f64) {
            for i in 0..self.b.len() {
                self.x[i] = (self.b[i] + rho * (self.y[i] - self.u[i])) / (1.0 + rho);
            }
        }

        fn y_and_dual_step(&mut self, alpha: f64, rho: f64) -> Residuals {
            let mut r = Residuals::default();
            for i in 0..self.b.len() {
                let xr = alpha * self.x[i] + (1.0 - alpha) * self.y[i];
                let v = xr + self.u[i];
                let y = v.signum() * (v.abs() - self.lambda / rho).max(0.0);
                r.y_change_sq += (y - self.y[i]).powi(2);
                self.y[i] = y;
                self.u[i] += xr - y;
                r.primal_sq += (self.x[i] - y).powi(2);
                r.ax_sq += self.x[i].powi(2);
                r.y_sq += y.powi(2);
                r.u_sq += self.u[i].powi(2);
            }
            r
        }

        fn scale_dual(&mut self, factor: f64) {
            self.u.iter_mut().for_each(|u| *u *= factor);
        }
    }

    fn lasso() -> Lasso {
        Lasso::new((0..40).map(|i| ((i * 7 % 13) as f64 - 6.0) * 0.3).collect(), 0.5)
    }

    #[test]
    fn balancing_moves_rho_towards_the_target_ratio() {
        // r / (xi s) = 16: raise by sqrt(16); 1/16: lower by it; inside the band: keep.
        assert_eq!(balance_factor(0.16, 0.01, 1.0, 1.2, 1000.0), 4.0);
        assert_eq!(balance_factor(0.01, 0.16, 1.0, 1.2, 1000.0), 0.25);
        assert_eq!(balance_factor(0.011, 0.01, 1.0, 1.2, 1000.0), 1.0);
        // The target scales the dual residual: r = 2 s is balanced for xi = 2.
        assert_eq!(balance_factor(0.02, 0.01, 2.0, 1.2, 1000.0), 1.0);
        assert_eq!(balance_factor(0.02, 0.01, 0.5, 1.2, 1000.0), 2.0);
        // The bound caps the factor, and a zero residual takes the bound.
        assert_eq!(balance_factor(1.0, 1e-9, 1.0, 1.2, 3.0), 3.0);
        assert_eq!(balance_factor(0.0, 0.5, 1.0, 1.2, 3.0), 1.0 / 3.0);
        // A wider band tolerates a larger imbalance.
        assert_eq!(balance_factor(0.05, 0.01, 1.0, 10.0, 1000.0), 1.0);
    }

    #[test]
    fn the_periodic_rule_changes_rho_by_its_factor_every_period() {
        // Iterations 9 and 19 (the 10th and 20th) rebalance; the others keep rho.
        assert_eq!(periodic_factor(9, 0.5, 0.01, 1.0, 2.0, 10.0, 10), 2.0);
        assert_eq!(periodic_factor(19, 0.01, 0.5, 1.0, 2.0, 10.0, 10), 0.5);
        assert_eq!(periodic_factor(10, 0.5, 0.01, 1.0, 2.0, 10.0, 10), 1.0);
        assert_eq!(periodic_factor(8, 0.5, 0.01, 1.0, 2.0, 10.0, 10), 1.0);
        // The factor does not depend on the size of the imbalance, and within
        // the ratio (scaled by the target) rho stays.
        assert_eq!(periodic_factor(9, 1e6, 1e-9, 1.0, 2.0, 10.0, 10), 2.0);
        assert_eq!(periodic_factor(9, 0.09, 0.01, 1.0, 2.0, 10.0, 10), 1.0);
        assert_eq!(periodic_factor(9, 0.5, 0.01, 10.0, 2.0, 10.0, 10), 1.0);
        // A period of 1 rebalances after every iteration.
        assert_eq!(periodic_factor(0, 0.5, 0.01, 1.0, 3.0, 10.0, 1), 3.0);
    }

    #[test]
    fn a_periodic_solve_counts_its_period_across_continuations() {
        let options = AdmmOptions {
            balancing: Balancing::Periodic { factor: 2.0, ratio: 10.0, period: 5 },
            ..AdmmOptions::default()
        };
        let mut long = lasso();
        let whole = run(&mut long, &options, Penalty::new(300.0), 1.0, 30, 0.0);
        // rho is off by far: every change is by the factor 2, on every 5th iteration.
        assert!(whole.penalty.n_changes >= 2, "{:?}", whole.penalty);
        let log2 = (whole.penalty.rho / 300.0).log2();
        assert!((log2 - log2.round()).abs() < 1e-12 && log2.round().abs() as usize == whole.penalty.n_changes);
        assert!(whole.penalty.n_changes <= 6);
        let mut pieces = lasso();
        let mut penalty = Penalty::new(300.0);
        for _ in 0..10 {
            penalty = run(&mut pieces, &options, penalty, 1.0, 3, 0.0).penalty;
        }
        assert_eq!(penalty, whole.penalty);
        assert_eq!((pieces.y, pieces.u), (long.y, long.u));
        assert!(AdmmOptions {
            balancing: Balancing::Periodic { factor: 1.0, ratio: 10.0, period: 5 },
            ..options.clone()
        }
        .check()
        .is_err());
        assert!(AdmmOptions { balancing: Balancing::Periodic { factor: 2.0, ratio: 10.0, period: 0 }, ..options }
            .check()
            .is_err());
    }

    #[test]
    fn reversals_widen_the_band_and_changes_are_summable() {
        let mut p = Penalty::new(1.0);
        assert_eq!((p.band(), p.bound()), (1.2, 1000.0));
        p.change(2.0);
        p.change(2.0);
        assert_eq!((p.n_reversals, p.band()), (0, 1.2));
        p.change(0.5);
        assert_eq!((p.n_reversals, p.band()), (1, 2.4));
        p.change(2.0);
        p.change(0.5);
        assert_eq!((p.n_reversals, p.band()), (3, 9.6));
        p.change(2.0);
        assert_eq!(p.band(), 10.0);
        assert_eq!(p.n_changes, 6);
        assert!((p.bound() - (1.0 + 999.0 / 49.0)).abs() < 1e-12);
        assert!((p.rho - 4.0).abs() < 1e-12);
    }

    #[test]
    fn a_continued_solve_takes_the_steps_of_one_long_run() {
        let options = AdmmOptions::default();
        // A poor initial penalty, so that rho changes early and often.
        let mut long = lasso();
        let whole = run(&mut long, &options, Penalty::new(300.0), 1.0, 40, 0.0);
        assert!(whole.penalty.n_changes >= 2, "{:?}", whole.penalty);
        // The same solve as one-iteration runs: rho adapts within them (the
        // first run of a cold start is the only one that leaves it alone).
        let mut pieces = lasso();
        let mut penalty = Penalty::new(300.0);
        for k in 0..40 {
            let report = run(&mut pieces, &options, penalty, 1.0, 1, 0.0);
            assert_eq!(report.n_iter, 1);
            if k == 0 {
                assert_eq!(report.penalty.rho, 300.0);
            } else if k == 1 {
                assert!(report.penalty.rho < 300.0, "a one-iteration run adapts rho");
            }
            penalty = report.penalty;
        }
        assert_eq!(penalty, whole.penalty);
        assert_eq!((pieces.y, pieces.u), (long.y, long.u));
    }

    #[test]
    fn converges_to_the_soft_threshold_from_a_poor_penalty() {
        for rho in [1e-4, 1.0, 1e4] {
            let mut p = lasso();
            let report = run(&mut p, &AdmmOptions::default(), Penalty::new(rho), 1.0, 200, 1e-10);
            assert!(report.converged, "rho0 {rho}: {report:?}");
            for (y, b) in p.y.iter().zip(&p.b) {
                assert!((y - b.signum() * (b.abs() - 0.5).max(0.0)).abs() < 1e-8);
            }
        }
    }
}
