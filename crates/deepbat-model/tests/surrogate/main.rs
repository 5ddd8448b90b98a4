//! Integration tests of the surrogate: one tiny model is trained once (see [`fixture`]) and
//! shared by the modules below.

mod bundle;
mod fixture;
mod scoring;
mod training;
