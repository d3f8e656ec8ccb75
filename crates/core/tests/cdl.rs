//! Convolutional dictionary learning: planted-filter recovery with both filter
//! updates over several seeds, online CDL on a stream.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use sparsecode::conv::{
    csc, learn_filters, reconstruct, Boundary, CdlOptions, ConvArray, CscOptions, FilterUpdate, OnlineCdl,
    OnlineCdlOptions,
};
use sparsecode::rng;

mod common;
use common::best_shift_correlation;

/// `k` random unit-norm filters of `l` samples and `n_signals` circular
/// signals of `len` samples, each the sum of `n_events` scaled copies of
/// random filters at random places.
fn planted(
    seed: u64,
    k: usize,
    l: usize,
    n_signals: usize,
    len: usize,
    n_events: usize,
) -> (Vec<Vec<f64>>, ConvArray<f64>) {
    let mut r = rng::seeded(seed);
    let truth: Vec<Vec<f64>> = (0..k)
        .map(|_| {
            let v: Vec<f64> = (0..l).map(|_| r.random::<f64>() - 0.5).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter().map(|x| x / norm).collect()
        })
        .collect();
    let mut data = vec![0.0; n_signals * len];
    for s in 0..n_signals {
        for _ in 0..n_events {
            let kk = r.random_range(0..k);
            let p = r.random_range(0..len);
            let a = if r.random::<bool>() { 1.0 } else { -1.0 } * (0.5 + r.random::<f64>());
            for j in 0..l {
                data[s * len + (p + j) % len] += a * truth[kk][j];
            }
        }
    }
    (truth, ConvArray::new(n_signals, 1, &[len], data).unwrap())
}

/// For each planted filter, the best correlation with a learned one.
fn recovery(truth: &[Vec<f64>], filters: &ConvArray<f64>) -> Vec<f64> {
    truth
        .iter()
        .map(|t| (0..filters.n_items()).map(|kk| best_shift_correlation(t, filters.channel(kk, 0))).fold(0.0, f64::max))
        .collect()
}

/// Both filter updates recover every planted filter (from seed 1; CDL is
/// non-convex, see the seed test), keep the filters in the unit ball, and
/// report the objective of the filters and maps they return.
#[test]
fn both_filter_updates_recover_planted_filters() {
    let (truth, signals) = planted(30, 3, 12, 8, 256, 10);
    for update in [FilterUpdate::Fista, FilterUpdate::consensus()] {
        let mut options = CdlOptions::new(3, &[12], 0.05);
        options.coding_iter = 10;
        options.filter_iter = 10;
        options.n_iter = 100;
        options.seed = 1;
        options.filter_update = update.clone();
        let out = learn_filters(&signals, None, None, &options).unwrap();
        let rec = recovery(&truth, &out.filters);
        assert!(rec.iter().all(|c| *c > 0.99), "{update:?}: correlations {rec:?}");
        for kk in 0..3 {
            let norm = out.filters.item(kk).iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(norm <= 1.0 + 1e-12, "{update:?}: filter {kk} norm {norm}");
        }
        let obj = &out.objective;
        assert!(obj[obj.len() - 1] < 0.5 * obj[0], "{update:?}: objective {} -> {}", obj[0], obj[obj.len() - 1]);
        let rec = reconstruct(&out.filters, &out.maps, Boundary::Circular).unwrap();
        let data_term: f64 = rec.data().iter().zip(signals.data()).map(|(a, b)| (a - b).powi(2)).sum::<f64>() * 0.5;
        let l1: f64 = out.maps.data().iter().map(|v| v.abs()).sum();
        let last = obj[obj.len() - 1];
        assert!((data_term + 0.05 * l1 - last).abs() < 1e-9 * last, "{update:?}: {} vs {last}", data_term + 0.05 * l1);
    }
}

/// Masked CDL with zero-mean 2-D filters and the linear boundary by the
/// consensus update (its mask-decoupled form): the objective decreases and
/// the filters are zero-mean and in the unit ball.
#[test]
fn masked_consensus_cdl_with_zero_mean_2d_filters() {
    let mut r = rng::seeded(31);
    let (h, w) = (24, 24);
    let x: Vec<f64> = (0..2 * h * w).map(|_| r.random::<f64>() - 0.5).collect();
    let mask: Vec<f64> = (0..2 * h * w).map(|i| if (i * 31 + 7) % 5 == 0 { 0.0 } else { 1.0 }).collect();
    let signals = ConvArray::new(2, 1, &[h, w], x).unwrap();
    let mask = ConvArray::new(2, 1, &[h, w], mask).unwrap();
    let mut options = CdlOptions::new(4, &[5, 5], 0.05);
    options.n_iter = 15;
    options.zero_mean = true;
    options.boundary = Boundary::Linear;
    options.filter_update = FilterUpdate::consensus();
    let out = learn_filters(&signals, Some(&mask), None, &options).unwrap();
    let obj = &out.objective;
    assert!(obj[obj.len() - 1] < 0.9 * obj[0], "objective {obj:?}");
    for kk in 0..4 {
        let f = out.filters.item(kk);
        assert!(f.iter().sum::<f64>().abs() < 1e-12, "filter {kk} mean");
        assert!(f.iter().map(|v| v * v).sum::<f64>() <= 1.0 + 1e-12);
    }
}

/// Online CDL on a stream of synthetic 1-D segments, one at a time: the
/// held-out CBPDN objective under the current filters improves along the
/// stream and the planted filters are recovered.
#[test]
fn online_cdl_recovers_planted_filters_from_a_stream() {
    let (truth, signals) = planted(30, 3, 12, 64, 256, 10);
    let len = 256;
    let segment = |i: usize| ConvArray::new(1, 1, &[len], signals.item(i).to_vec()).unwrap();
    let held_out = ConvArray::new(4, 1, &[len], signals.data()[60 * len..].to_vec()).unwrap();
    let held_out_objective =
        |filters: &ConvArray<f64>| csc(filters, &held_out, None, &CscOptions::new(0.05)).unwrap().objective;
    let mut options = OnlineCdlOptions::new(3, &[12], 0.05);
    // Non-convex like batch CDL: from this seed every planted filter is
    // recovered (seeds 0..6: one of six recovers all three above 0.95).
    options.seed = 2;
    let mut learner = OnlineCdl::new(options.clone(), None).unwrap();
    assert!(learner.filters().is_none());
    let mut curve = Vec::new();
    for _ in 0..3 {
        for i in 0..60 {
            let batch_objective = learner.partial_fit(&segment(i)).unwrap();
            assert!(batch_objective.is_finite());
            if i % 20 == 0 {
                curve.push(held_out_objective(&learner.filters().unwrap()));
            }
        }
    }
    assert_eq!(learner.n_signals_seen(), 180);
    let last = held_out_objective(&learner.filters().unwrap());
    assert!(last < 0.7 * curve[0], "held-out objective {curve:?} -> {last}");
    let rec = recovery(&truth, &learner.filters().unwrap());
    assert!(rec.iter().all(|c| *c > 0.99), "correlations {rec:?}");
    let wrong = ConvArray::new(1, 1, &[128], vec![0.0; 128]).unwrap();
    assert!(matches!(learner.partial_fit(&wrong), Err(sparsecode::Error::Shape(_))));
    // A learner rebuilt from the exported state continues exactly alike.
    let mut resumed = OnlineCdl::from_state(options.clone(), learner.state().unwrap()).unwrap();
    assert_eq!(resumed.partial_fit(&segment(0)).unwrap(), learner.partial_fit(&segment(0)).unwrap());
    assert_eq!(resumed.filters(), learner.filters());
    let mut other = options;
    other.n_filters = 4;
    assert!(matches!(OnlineCdl::from_state(other, learner.state().unwrap()), Err(sparsecode::Error::Shape(_))));
}

/// Seed sensitivity: CDL is non-convex, and from random starts it stalls in
/// local minima where one filter serves two planted patterns or holds a
/// shifted, truncated copy of one (no filter is unused). The trial
/// replacements of stalled filters by the largest residual window (kept only
/// when they lower the objective) help but do not cure it: in 200 iterations
/// every planted filter is recovered from 5 of 8 seeds with FISTA and 6 of 8
/// with the consensus update at its default fixed penalty (7 of 8 with an
/// adaptive one; with the anchoring on, before the coding step followed
/// SPORCO's dictionary-learning schedule: 4 and 6 of 8).
#[test]
fn planted_recovery_over_seeds() {
    let (truth, signals) = planted(30, 3, 12, 8, 256, 10);
    for (update, needed) in [(FilterUpdate::Fista, 5), (FilterUpdate::consensus(), 6)] {
        let mut recovered = 0;
        for seed in 0..8 {
            let mut options = CdlOptions::new(3, &[12], 0.05);
            options.coding_iter = 10;
            options.filter_iter = 10;
            options.n_iter = 200;
            options.seed = seed;
            options.filter_update = update.clone();
            let out = learn_filters(&signals, None, None, &options).unwrap();
            if recovery(&truth, &out.filters).iter().all(|c| *c > 0.95) {
                recovered += 1;
            }
        }
        assert!(recovered >= needed, "{update:?}: {recovered} of 8 seeds recover every planted filter");
    }
}

/// alphacsc's kind of problem (Jas et al. 2017; its `simulate_data`): a
/// zero-mean triangle and a square atom that fill their whole window, one
/// non-negative activation of each per trial, little noise, non-negative maps
/// and the linear boundary. From random Gaussian starts the learning reaches
/// the objective that learning from the true atoms reaches, from 5 of these 8
/// starts (the other 3 stall about 25% higher, with or without `anchor`; on
/// the larger problem of `bench/bench_cdl.py` the anchoring, since off by
/// default, stalled 2 of 5 starts).
#[test]
fn planted_1d_atoms_from_random_starts_reach_the_objective_of_the_true_atoms() {
    let (l, len, n_signals) = (32, 256, 24);
    let mut r = rng::seeded(7);
    let half = l / 2;
    let mut triangle: Vec<f64> = (0..l).map(|i| if i < half { i as f64 } else { (l - 1 - i) as f64 }).collect();
    let mean = triangle.iter().sum::<f64>() / l as f64;
    triangle.iter_mut().for_each(|v| *v -= mean);
    let square: Vec<f64> = (0..l).map(|i| if i < half { 0.5 } else { -0.5 }).collect();
    let atoms: Vec<Vec<f64>> = [triangle, square]
        .into_iter()
        .map(|a| {
            let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
            a.into_iter().map(|v| v / norm).collect()
        })
        .collect();
    let mut data = vec![0.0; n_signals * len];
    for s in 0..n_signals {
        for atom in &atoms {
            let p = r.random_range(0..=len - l);
            let a: f64 = r.random();
            for (j, v) in atom.iter().enumerate() {
                data[s * len + p + j] += a * v;
            }
        }
        for v in &mut data[s * len..(s + 1) * len] {
            *v += 0.01 * (r.random::<f64>() - 0.5) * 12f64.sqrt();
        }
    }
    let signals = ConvArray::new(n_signals, 1, &[len], data).unwrap();
    let mut options = CdlOptions::new(2, &[l], 0.1);
    options.boundary = Boundary::Linear;
    options.non_negative = true;
    // The settings of the alphacsc comparison in bench/bench_cdl.py.
    options.filter_update = FilterUpdate::Fista;
    options.coding_iter = 10;
    options.filter_iter = 10;
    options.n_iter = 100;
    let truth = ConvArray::new(2, 1, &[l], atoms.concat()).unwrap();
    let reference = *learn_filters(&signals, None, Some(&truth), &options).unwrap().objective.last().unwrap();
    let mut reached = 0;
    for start in 0..8 {
        let mut g = rng::seeded(100 + start);
        let init: Vec<f64> = (0..2 * l).map(|_| StandardNormal.sample(&mut g)).collect();
        let init = ConvArray::new(2, 1, &[l], init).unwrap();
        let out = learn_filters(&signals, None, Some(&init), &options).unwrap();
        let last = *out.objective.last().unwrap();
        if last <= 1.01 * reference {
            reached += 1;
        }
    }
    assert!(reached >= 5, "{reached} of 8 starts reach within 1% of {reference}");
}
