//! Seeded random number generation: every random choice in sparsecode comes
//! from a ChaCha stream seeded by the user, so runs are reproducible on every
//! machine and thread count.

use rand::SeedableRng;

/// The generator used throughout the library.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator for `seed`.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}
