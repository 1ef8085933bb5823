//! Estimation: Poisson pseudo-maximum likelihood with high-dimensional fixed effects.
