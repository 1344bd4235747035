//! The generated certificates parse with x509-parser and say what clients rely on.

use std::{
    error::Error,
    net::{IpAddr, Ipv4Addr},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use devstack::pki::Pki;
use x509_parser::{
    certificate::X509Certificate, extensions::GeneralName, parse_x509_certificate, pem::parse_x509_pem, time::ASN1Time,
};

type TestResult = Result<(), Box<dyn Error>>;

fn now() -> Result<ASN1Time, Box<dyn Error>> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    Ok(ASN1Time::from_timestamp(i64::try_from(secs)?)?)
}

fn sans(cert: &X509Certificate<'_>) -> Result<(Vec<IpAddr>, Vec<String>), Box<dyn Error>> {
    let mut ips = Vec::new();
    let mut names = Vec::new();
    let ext = cert
        .subject_alternative_name()?
        .ok_or("server certificate has no subjectAltName")?;
    for name in &ext.value.general_names {
        match name {
            GeneralName::IPAddress(bytes) => {
                let octets: [u8; 4] = (*bytes).try_into()?;
                ips.push(IpAddr::from(octets));
            }
            GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
            _ => {}
        }
    }
    Ok((ips, names))
}

#[test]
fn the_server_certificate_is_valid_now_for_127_0_0_1_and_localhost_and_signed_by_the_ca() -> TestResult {
    let pki = Pki::generate()?;
    let (_, ca) = parse_x509_certificate(pki.ca_der())?;
    let (_, server) = parse_x509_certificate(pki.server_cert_der())?;

    assert!(ca.is_ca());
    assert!(!server.is_ca());
    assert_eq!(server.issuer(), ca.subject());
    server.verify_signature(Some(ca.public_key()))?;
    assert!(server.validity().is_valid_at(now()?));
    assert!(ca.validity().is_valid_at(now()?));

    let (ips, names) = sans(&server)?;
    assert!(ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{ips:?}");
    assert!(names.iter().any(|name| name == "localhost"), "{names:?}");
    let eku = server.extended_key_usage()?.ok_or("no extendedKeyUsage")?;
    assert!(eku.value.server_auth);
    Ok(())
}

#[test]
fn ca_pem_on_disk_is_the_ca() -> TestResult {
    let pki = Pki::generate()?;
    let dir = std::env::temp_dir().join(format!("devstack-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = pki.write_ca(&dir)?;
    let pem_bytes = std::fs::read(&path)?;
    let (_, pem) = parse_x509_pem(&pem_bytes)?;
    assert_eq!(pem.label, "CERTIFICATE");
    assert_eq!(pem.contents.as_slice(), pki.ca_der().as_ref());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_client_certificate_is_for_client_auth_and_expires_when_asked() -> TestResult {
    let pki = Pki::generate()?;
    let valid_for = Duration::from_secs(2 * 3600);
    let client = pki.issue_client_cert("payments-worker", valid_for)?;
    let (_, ca) = parse_x509_certificate(pki.ca_der())?;
    let (_, cert) = parse_x509_certificate(&client.cert_der)?;

    cert.verify_signature(Some(ca.public_key()))?;
    assert!(cert.validity().is_valid_at(now()?));
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .ok_or("no common name")?
        .as_str()?;
    assert_eq!(cn, "payments-worker");
    let eku = cert.extended_key_usage()?.ok_or("no extendedKeyUsage")?;
    assert!(eku.value.client_auth && !eku.value.server_auth);

    let not_after = cert.validity().not_after.timestamp();
    let expected = i64::try_from(client.not_after.duration_since(UNIX_EPOCH)?.as_secs())?;
    assert_eq!(not_after, expected);
    let from_now = expected - i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    assert!((7000..=7200).contains(&from_now), "expires in {from_now}s");
    Ok(())
}
