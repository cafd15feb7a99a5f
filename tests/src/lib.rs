//! Harness for the end-to-end tests: starts the real Worker under `wrangler dev`.
