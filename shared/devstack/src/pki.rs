//! Throw-away PKI for the development stack.
//!
//! One CA is generated per stack start; it signs the TLS proxy's server certificate (valid for
//! `localhost` and `127.0.0.1`) and, on request, client certificates for mTLS tests. Only the CA
//! certificate is written to disk (`ca.pem`, handed to clients as `KAFKA_CA_FILE`); the server key
//! never leaves the process. Keys are ECDSA P-256, which both rustls and OpenSSL accept.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::{
    ClientConfig, RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    server::WebPkiClientVerifier,
};
use time::OffsetDateTime;

use crate::{DevstackError, fsutil};

/// How long the CA and the server certificate are valid; a stack never lives this long.
const STACK_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);
/// Certificates start one hour in the past so small clock differences never matter.
const BACKDATE: Duration = Duration::from_secs(3600);
/// Names the server certificate is valid for; IP strings become IP SANs (rcgen parses them).
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A generated CA plus the server certificate it signed.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    server_cert: CertificateDer<'static>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

impl fmt::Debug for Pki {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki")
            .field("server_names", &SERVER_NAMES)
            .finish_non_exhaustive()
    }
}

/// A client certificate and key issued by the stack CA (PEM), for mTLS tests.
#[derive(Clone)]
pub struct ClientCert {
    /// PEM certificate.
    pub cert_pem: String,
    /// PEM PKCS#8 private key.
    pub key_pem: String,
    /// DER certificate.
    pub cert_der: CertificateDer<'static>,
    /// End of validity (second precision).
    pub not_after: SystemTime,
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Paths of a client certificate written by [`ClientCert::write`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertFiles {
    /// PEM certificate file (for `KAFKA_CLIENT_CERT_FILE`).
    pub cert_file: PathBuf,
    /// PEM key file, mode 0600 (for `KAFKA_CLIENT_KEY_FILE`).
    pub key_file: PathBuf,
}

impl ClientCert {
    /// Writes `{stem}.crt.pem` and `{stem}.key.pem` (0600) into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<ClientCertFiles, DevstackError> {
        let cert_file = dir.join(format!("{stem}.crt.pem"));
        let key_file = dir.join(format!("{stem}.key.pem"));
        fsutil::write_public(&cert_file, self.cert_pem.as_bytes())?;
        fsutil::write_secret(&key_file, self.key_pem.as_bytes())?;
        Ok(ClientCertFiles { cert_file, key_file })
    }
}

fn pki_err(what: &'static str) -> impl FnOnce(rcgen::Error) -> DevstackError {
    move |source| DevstackError::Pki { what, source }
}

fn tls_err<E>(what: &'static str) -> impl FnOnce(E) -> DevstackError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| DevstackError::Tls {
        what,
        source: Box::new(source),
    }
}

/// Sets `not_before = now - BACKDATE` and `not_after = now + valid_for` (seconds precision).
fn set_validity(params: &mut CertificateParams, valid_for: Duration) -> SystemTime {
    let now = OffsetDateTime::now_utc();
    // Certificates carry whole seconds; truncate so the returned `not_after` matches exactly.
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = now + valid_for;
    params.not_before = now - BACKDATE;
    params.not_after = not_after;
    SystemTime::from(not_after)
}

/// The crypto provider used everywhere in this crate; explicit so another crate enabling
/// `aws-lc-rs` in the same build cannot make the process-wide default ambiguous.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pki {
    /// Generates a fresh CA and a server certificate for [`SERVER_NAMES`].
    pub fn generate() -> Result<Self, DevstackError> {
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "paystream devstack CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut ca_params, STACK_VALIDITY);
        let ca_key = KeyPair::generate().map_err(pki_err("ca key"))?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(pki_err("ca certificate"))?;

        let mut server_params = CertificateParams::new(SERVER_NAMES.map(String::from).to_vec())
            .map_err(pki_err("server certificate parameters"))?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "paystream devstack broker");
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(&mut server_params, STACK_VALIDITY);
        let server_key = KeyPair::generate().map_err(pki_err("server key"))?;
        let server_cert = server_params
            .signed_by(&server_key, &ca)
            .map_err(pki_err("server certificate"))?;

        Ok(Self {
            ca,
            server_cert: server_cert.der().clone(),
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        })
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The CA certificate, DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        self.ca.der()
    }

    /// The server certificate, DER.
    pub fn server_cert_der(&self) -> &CertificateDer<'static> {
        &self.server_cert
    }

    /// Writes the CA certificate as `DIR/ca.pem` and returns the path.
    pub fn write_ca(&self, dir: &Path) -> Result<PathBuf, DevstackError> {
        let path = dir.join("ca.pem");
        fsutil::write_public(&path, self.ca_pem().as_bytes())?;
        Ok(path)
    }

    /// A root store containing only the stack CA.
    pub fn root_store(&self) -> Result<RootCertStore, DevstackError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der().clone()).map_err(tls_err("ca root store"))?;
        Ok(roots)
    }

    /// Server config for the TLS proxy: the generated server certificate; client certificates are
    /// optional, but one that is presented must chain to the stack CA (so mTLS can be tested).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, DevstackError> {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(self.root_store()?), provider())
            .allow_unauthenticated()
            .build()
            .map_err(tls_err("client certificate verifier"))?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_err("server"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![self.server_cert.clone()],
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .map_err(tls_err("server"))?;
        Ok(Arc::new(config))
    }

    /// Client config that trusts only the stack CA (no client certificate).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, DevstackError> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_err("client"))?
            .with_root_certificates(self.root_store()?)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// Issues a client certificate (`CN=common_name`, clientAuth) valid for `valid_for`.
    pub fn issue_client_cert(&self, common_name: &str, valid_for: Duration) -> Result<ClientCert, DevstackError> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let not_after = set_validity(&mut params, valid_for);
        let key = KeyPair::generate().map_err(pki_err("client key"))?;
        let cert = params
            .signed_by(&key, &self.ca)
            .map_err(pki_err("client certificate"))?;
        Ok(ClientCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            not_after,
        })
    }
}
