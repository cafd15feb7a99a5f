//! Provisioning library behind the `hubctl` CLI.
