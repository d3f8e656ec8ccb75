//! Speed of dictionary learning on natural-image patches.
//!
//! - Online learning of 256 atoms from 200,000 random 8x8 patches (mean
//!   removed) of the 256x256 crops in `shared/data/images/crops`, with OMP
//!   (5 non-zeros): time per epoch and the mean objective on 10,000 held-out
//!   patches after each epoch.
//! - K-SVD and approximate K-SVD on 20,000 patches, 128 atoms, 5 non-zeros:
//!   time per iteration.
//!
//! Run: `cargo run --release -p sparsecode --example learn_speed [epochs] [batch_size] [forget_rate]`
//! (the data folder is `shared/data` next to the repository, or `$SPARSECODE_DATA`).

use faer::Mat;
use sparsecode::encode::omp::Omp;
use sparsecode::encode::{encode, Encoder};
use sparsecode::image::patches::PatchGrid;
use sparsecode::learn::batch::{self, BatchOptions, DictionaryUpdate};
use sparsecode::learn::online::{OnlineLearner, OnlineParams, OnlineSchedule};
use sparsecode::learn::Init;
use sparsecode::Dictionary;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const IMAGES: [&str; 7] = ["astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel"];

/// `train` and `held_out` patches per image, disjoint, each with its mean removed.
fn patches(crops: &Path, train: usize, held_out: usize) -> Option<(Mat<f64>, Mat<f64>)> {
    let grid = PatchGrid::new((256, 256), (8, 8)).unwrap();
    let per_image = (train + held_out).div_ceil(IMAGES.len());
    let mut rows = Vec::new();
    for (k, name) in IMAGES.iter().enumerate() {
        let path = crops.join(format!("{name}_256.npy"));
        let array: ndarray::Array2<f64> = ndarray_npy::read_npy(&path).ok()?;
        let image = Mat::from_fn(256, 256, |i, j| array[[i, j]]);
        let indices = grid.sample_indices(per_image, k as u64).unwrap();
        let p = grid.extract_subset(image.as_ref(), &indices).unwrap();
        for r in 0..p.nrows() {
            let mean = (0..64).map(|f| p[(r, f)]).sum::<f64>() / 64.0;
            rows.push((0..64).map(|f| p[(r, f)] - mean).collect::<Vec<f64>>());
        }
    }
    // Interleave images with a fixed shuffle, then split.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut sparsecode::rng::seeded(99));
    let take = |from: usize, n: usize| Mat::from_fn(n, 64, |i, f| rows[order[from + i]][f]);
    Some((take(0, train), take(train, held_out)))
}

fn mean_objective<E: Encoder<f64>>(encoder: &E, dict: &Dictionary<f64>, x: &Mat<f64>) -> f64 {
    let out = encode(encoder, dict, x.as_ref()).unwrap();
    out.reports.iter().map(|r| r.objective).sum::<f64>() / out.reports.len() as f64
}

fn main() {
    let epochs: usize = std::env::args().nth(1).map_or(2, |a| a.parse().expect("epochs"));
    let batch_size: usize = std::env::args().nth(2).map_or(256, |a| a.parse().expect("batch size"));
    let defaults = OnlineParams::default();
    let forget_rate: f64 = std::env::args().nth(3).map_or(defaults.forget_rate, |a| a.parse().expect("forget rate"));
    let data = std::env::var("SPARSECODE_DATA").unwrap_or_else(|_| DATA.to_string());
    let crops = Path::new(&data).join("images/crops");
    let Some((train, held_out)) = patches(&crops, 200_000, 10_000) else {
        println!("skipping: no image crops at {} (set SPARSECODE_DATA to the data folder)", crops.display());
        return;
    };
    println!("threads: {}", rayon::current_num_threads());
    let omp = Omp::with_n_nonzero(5);

    let mut learner =
        OnlineLearner::from_data(omp, train.as_ref(), 256, &Init::Samples, OnlineParams { forget_rate, ..defaults })
            .unwrap();
    println!(
        "online, 256 atoms, {} patches, batch {batch_size}, forget rate {forget_rate}: held-out objective at start {:.5}",
        train.nrows(),
        mean_objective(&omp, learner.dictionary(), &held_out)
    );
    let schedule = OnlineSchedule { batch_size, max_epochs: 1, tol: 0.0, max_no_improvement: 0, shuffle: true };
    for epoch in 1..=epochs {
        let start = Instant::now();
        let fitted = learner.fit(train.as_ref(), &schedule, |_| ControlFlow::Continue(())).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "epoch {epoch}: {seconds:.2} s ({} steps), smoothed objective {:.5}, held-out objective {:.5}",
            fitted.n_iter,
            fitted.objective.last().unwrap(),
            mean_objective(&omp, &fitted.dictionary, &held_out)
        );
    }

    let small = train.as_ref().subrows(0, 20_000);
    for update in [DictionaryUpdate::Ksvd, DictionaryUpdate::ApproxKsvd] {
        let mut options = BatchOptions::new(128, update);
        options.max_iter = 5;
        options.tol = 0.0;
        let mut last = Instant::now();
        let mut times = Vec::new();
        let fitted = batch::fit(small, &omp, &options, |_| {
            times.push(last.elapsed().as_secs_f64());
            last = Instant::now();
            ControlFlow::Continue(())
        })
        .unwrap();
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "{update:?}, 20000 patches, 128 atoms, 5 non-zeros: {mean:.3} s per iteration (first {:.3} s incl. init), \
             objective {:.5} -> {:.5}",
            times[0],
            fitted.objective[0],
            fitted.objective.last().unwrap()
        );
    }
}
