//! `desk-benches`: criterion benchmarks of the desk's hot paths. The benchmarks are in
//! `benches/benches/`; run them with `cargo bench -p desk-benches`. This library holds nothing:
//! it exists because a package needs a library or binary target beside its benchmarks.
