//! (module under construction in this branch)
