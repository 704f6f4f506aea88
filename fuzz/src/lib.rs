//! Fuzz targets over rbtcd-core. See `fuzz/README.md`.
