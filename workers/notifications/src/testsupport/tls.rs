//! A throwaway PKI for TLS tests: a CA, and a server certificate for `127.0.0.1` and `localhost`
//! signed by it; clients trust the CA PEM (e.g. through a CA file).

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// CA and server certificate.
#[derive(Debug)]
pub struct TestPki {
    /// CA certificate, PEM.
    pub ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl TestPki {
    /// Generates a fresh CA and server certificate.
    pub fn generate() -> Result<TestPki, rcgen::Error> {
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let server_key = KeyPair::generate()?;
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?
            .signed_by(&server_key, &ca)?;
        Ok(TestPki {
            ca_pem: ca.pem(),
            server_cert: server.der().clone(),
            server_key: server_key.serialize_der(),
        })
    }

    /// A rustls server configuration presenting the server certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.server_cert.clone()], key)?;
        Ok(Arc::new(config))
    }

    /// A TLS acceptor for the server certificate.
    pub fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, rustls::Error> {
        Ok(tokio_rustls::TlsAcceptor::from(self.server_config()?))
    }
}
