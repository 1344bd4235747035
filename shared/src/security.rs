//! Startup security self-check: refuses unencrypted protocols without the dev override, proves
//! that the configured CA, client certificate and key files parse, reads the client certificate's
//! expiry for the metrics, and logs what security is in use — never the secrets themselves.

use std::path::Path;

use crate::config::{KafkaConfig, read_secret_file};
use crate::error::RuntimeError;

/// What the self-check found; safe to log.
#[derive(Debug, Clone)]
pub struct SecurityReport {
    /// librdkafka `security.protocol`.
    pub protocol: &'static str,
    /// SASL mechanism, when SASL is used.
    pub sasl_mechanism: Option<&'static str>,
    /// SASL user, when SASL is used.
    pub username: Option<String>,
    /// Certificates found in the CA file, when one is configured.
    pub ca_certificates: Option<usize>,
    /// The client certificate's notAfter as a Unix timestamp, when mTLS is configured.
    pub client_cert_not_after: Option<i64>,
}

/// Runs the self-check. Also reads the password file so an unreadable secret fails at startup.
pub fn self_check(kafka: &KafkaConfig) -> Result<SecurityReport, RuntimeError> {
    let protocol = kafka.security_protocol;
    if !protocol.uses_tls() && !kafka.allow_insecure_dev {
        return Err(RuntimeError::Config(format!(
            "refusing to start with {} without --allow-insecure-dev",
            protocol.as_librdkafka()
        )));
    }
    if protocol.uses_sasl()
        && let Some(path) = &kafka.password_file
    {
        read_secret_file("kafka password", path)?;
    }
    let ca_certificates = match &kafka.ca_file {
        Some(path) => Some(parse_certificates("kafka CA", path)?.len()),
        None => None,
    };
    let client_cert_not_after = match (&kafka.client_cert_file, &kafka.client_key_file) {
        (Some(cert), Some(key)) => {
            check_private_key("kafka client key", key)?;
            let certs = parse_certificates("kafka client certificate", cert)?;
            certs.first().map(|c| c.not_after)
        }
        _ => None,
    };
    Ok(SecurityReport {
        protocol: protocol.as_librdkafka(),
        sasl_mechanism: protocol.uses_sasl().then(|| kafka.sasl_mechanism.as_librdkafka()),
        username: if protocol.uses_sasl() {
            kafka.username.clone()
        } else {
            None
        },
        ca_certificates,
        client_cert_not_after,
    })
}

/// One parsed certificate's facts we use.
#[derive(Debug, Clone)]
pub struct CertificateFacts {
    /// Subject distinguished name.
    pub subject: String,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

/// Parses every PEM certificate in `path`; fails when there is none or one does not parse.
pub fn parse_certificates(what: &'static str, path: &Path) -> Result<Vec<CertificateFacts>, RuntimeError> {
    let pem_err = |reason: String| RuntimeError::Pem {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| RuntimeError::ReadFile {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    let mut facts = Vec::new();
    for der in rustls_pemfile::certs(&mut bytes.as_slice()) {
        let der = der.map_err(|e| pem_err(format!("bad PEM block: {e}")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|e| pem_err(format!("not an X.509 certificate: {e}")))?;
        facts.push(CertificateFacts {
            subject: cert.subject().to_string(),
            not_after: cert.validity().not_after.timestamp(),
        });
    }
    if facts.is_empty() {
        return Err(pem_err("no PEM certificate found".into()));
    }
    Ok(facts)
}

fn check_private_key(what: &'static str, path: &Path) -> Result<(), RuntimeError> {
    let bytes = std::fs::read(path).map_err(|source| RuntimeError::ReadFile {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    match rustls_pemfile::private_key(&mut bytes.as_slice()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(RuntimeError::Pem {
            what,
            path: path.to_path_buf(),
            reason: "no PEM private key found".into(),
        }),
        Err(e) => Err(RuntimeError::Pem {
            what,
            path: path.to_path_buf(),
            reason: format!("bad PEM block: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = parse_certificates("kafka CA", &path).expect_err("must fail");
        let text = err.to_string();
        assert!(
            text.contains("kafka CA") && text.contains("ca.pem") && text.contains("no PEM certificate"),
            "{text}"
        );
    }

    #[test]
    fn a_client_certificate_and_key_are_checked_and_its_expiry_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut params = rcgen::CertificateParams::new(vec!["payments".to_owned()]).expect("params");
        params.not_after = rcgen::date_time_ymd(2031, 1, 2);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let (cert_path, key_path) = (dir.path().join("client.pem"), dir.path().join("client.key"));
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        let config = KafkaConfig {
            bootstrap_servers: "127.0.0.1:9093".into(),
            security_protocol: crate::config::SecurityProtocol::Ssl,
            sasl_mechanism: crate::config::SaslMechanism::ScramSha512,
            username: None,
            password_file: None,
            ca_file: Some(cert_path.clone()),
            client_cert_file: Some(cert_path),
            client_key_file: Some(key_path.clone()),
            allow_insecure_dev: false,
            group_id: None,
            group_instance_id: None,
            create_topics: false,
            topic_replication_factor: 3,
            max_poll_interval_ms: 300_000,
            topic_refresh_interval_ms: 10_000,
        };
        let report = self_check(&config).expect("self check");
        assert_eq!(
            report.client_cert_not_after,
            Some(1_925_078_400),
            "2031-01-02T00:00:00Z"
        );
        assert_eq!(report.protocol, "SSL");
        assert_eq!(report.sasl_mechanism, None);

        std::fs::write(&key_path, "garbage").expect("write");
        let err = self_check(&config).expect_err("bad key");
        assert!(err.to_string().contains("kafka client key"), "{err}");
    }

    #[test]
    fn a_missing_file_names_what_it_was_for() {
        let err = parse_certificates("kafka CA", Path::new("/nonexistent/ca.pem")).expect_err("must fail");
        assert!(
            err.to_string().starts_with("read kafka CA file /nonexistent/ca.pem"),
            "{err}"
        );
    }
}
