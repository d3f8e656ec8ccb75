//! Helpers shared by the convolutional test files.

/// Largest absolute normalised correlation of `a` and `b` over all relative shifts.
pub fn best_shift_correlation(a: &[f64], b: &[f64]) -> f64 {
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let (la, lb) = (a.len() as isize, b.len() as isize);
    let mut best: f64 = 0.0;
    for s in -lb..la {
        let mut acc = 0.0;
        for (i, av) in a.iter().enumerate() {
            let j = i as isize - s;
            if (0..lb).contains(&j) {
                acc += av * b[j as usize];
            }
        }
        best = best.max((acc / (na * nb)).abs());
    }
    best
}
