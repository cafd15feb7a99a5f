//! The rustls client configuration: ring as the one crypto provider, the Mozilla roots from webpki-roots,
//! plus an optional PEM file of extra CAs for a hub behind a private CA. No OpenSSL, so it cross-builds.
//!
//! tokio-tungstenite's rustls features bring rustls without a crypto provider; building the config with an
//! explicit provider here is what keeps the first `wss://` connect from panicking.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read or parsed.
    #[error("ca_file {path}: {reason}")]
    CaFile {
        /// The configured file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the protocol versions or a certificate.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the client config: web roots, plus every certificate in `ca_file` if given.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        add_ca_file(&mut roots, path)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsError> {
    let fail = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| fail(e.to_string()))?;
    let mut added = 0;
    for cert in certs {
        let cert = cert.map_err(|e| fail(e.to_string()))?;
        roots.add(cert).map_err(|e| fail(e.to_string()))?;
        added += 1;
    }
    if added == 0 {
        return Err(fail("holds no PEM certificate".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_builds_without_panicking() {
        let config = client_config(None).expect("builds");
        assert!(config.crypto_provider().cipher_suites.len() >= 3);
    }

    #[test]
    fn a_bad_ca_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let missing = dir.path().join("missing.pem");
        let error = client_config(Some(&missing)).expect_err("missing");
        assert!(error.to_string().contains("missing.pem"), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let error = client_config(Some(&empty)).expect_err("empty");
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
    }

    #[test]
    fn a_ca_file_with_a_certificate_is_trusted() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, include_str!("tls/test_ca.pem")).expect("write");
        client_config(Some(&path)).expect("a real CA certificate is accepted");
    }
}
