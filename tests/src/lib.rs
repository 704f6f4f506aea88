//! End-to-end tests that run the real `rbtcd` binaries live in `tests/tests/`.
