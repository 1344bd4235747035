//! The TLS proxy against a local echo server, with real rustls clients: round trip, hostname
//! and trust checks, optional mTLS, and shutdown closing open tunnels.

use std::{error::Error, net::SocketAddr, sync::Arc, time::Duration};

use devstack::{pki::Pki, ports, tls_proxy};
use rustls::{
    ClientConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, pem::PemObject as _},
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    task::JoinHandle,
    time::timeout,
};
use tokio_rustls::{TlsAcceptor, TlsConnector, client::TlsStream};
use tokio_util::sync::CancellationToken;

type TestResult = Result<(), Box<dyn Error>>;

const STEP: Duration = Duration::from_secs(10);

/// A TCP echo server on loopback; returns its address.
async fn echo_server() -> Result<SocketAddr, Box<dyn Error>> {
    let listener = ports::bind_loopback("bind echo server").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ignored = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    Ok(addr)
}

struct Proxy {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), devstack::DevstackError>>,
}

async fn start_proxy(pki: &Pki, upstream: SocketAddr) -> Result<Proxy, Box<dyn Error>> {
    let listener = ports::bind_loopback("bind tls proxy").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let acceptor = TlsAcceptor::from(pki.server_config()?);
    let task = tokio::spawn(tls_proxy::serve(listener, acceptor, upstream, shutdown.clone()));
    Ok(Proxy { addr, shutdown, task })
}

async fn connect(
    config: Arc<ClientConfig>,
    proxy: SocketAddr,
    name: &str,
) -> Result<TlsStream<TcpStream>, Box<dyn Error>> {
    let tcp = timeout(STEP, TcpStream::connect(proxy)).await??;
    let server_name = ServerName::try_from(name.to_owned())?;
    Ok(timeout(STEP, TlsConnector::from(config).connect(server_name, tcp)).await??)
}

async fn echo(stream: &mut TlsStream<TcpStream>, payload: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
    stream.write_all(payload).await?;
    stream.flush().await?;
    let mut back = vec![0; payload.len()];
    timeout(STEP, stream.read_exact(&mut back)).await??;
    Ok(back)
}

#[tokio::test]
async fn bytes_round_trip_through_the_proxy_for_ip_and_localhost_names() -> TestResult {
    let pki = Pki::generate()?;
    let proxy = start_proxy(&pki, echo_server().await?).await?;
    for name in ["127.0.0.1", "localhost"] {
        let mut stream = connect(pki.client_config()?, proxy.addr, name).await?;
        let payload: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        assert_eq!(echo(&mut stream, &payload).await?, payload, "via {name}");
    }
    proxy.shutdown.cancel();
    timeout(STEP, proxy.task).await???;
    Ok(())
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_or_dials_another_name_is_refused() -> TestResult {
    let pki = Pki::generate()?;
    let other = Pki::generate()?;
    let proxy = start_proxy(&pki, echo_server().await?).await?;
    assert!(connect(other.client_config()?, proxy.addr, "127.0.0.1").await.is_err());
    assert!(connect(pki.client_config()?, proxy.addr, "example.com").await.is_err());
    // The proxy survives failed handshakes.
    let mut stream = connect(pki.client_config()?, proxy.addr, "127.0.0.1").await?;
    assert_eq!(echo(&mut stream, b"still up").await?, b"still up");
    proxy.shutdown.cancel();
    Ok(())
}

fn mtls_config(pki: &Pki, issuer: &Pki) -> Result<Arc<ClientConfig>, Box<dyn Error>> {
    let cert = issuer.issue_client_cert("test-client", Duration::from_secs(3600))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from_pem_slice(cert.key_pem.as_bytes())?);
    let chain = vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes())?];
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(pki.root_store()?)
        .with_client_auth_cert(chain, key)?;
    Ok(Arc::new(config))
}

#[tokio::test]
async fn client_certificates_are_optional_but_must_chain_to_the_stack_ca() -> TestResult {
    let pki = Pki::generate()?;
    let stranger = Pki::generate()?;
    let proxy = start_proxy(&pki, echo_server().await?).await?;

    let mut stream = connect(mtls_config(&pki, &pki)?, proxy.addr, "127.0.0.1").await?;
    assert_eq!(echo(&mut stream, b"mtls").await?, b"mtls");

    // TLS 1.3 reports a rejected client certificate on the first read, not in the handshake.
    let refused = match connect(mtls_config(&pki, &stranger)?, proxy.addr, "127.0.0.1").await {
        Err(_) => true,
        Ok(mut stream) => echo(&mut stream, b"x").await.is_err(),
    };
    assert!(refused, "a client certificate from another CA was accepted");
    proxy.shutdown.cancel();
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_open_tunnels_and_stops_accepting() -> TestResult {
    let pki = Pki::generate()?;
    let proxy = start_proxy(&pki, echo_server().await?).await?;
    let mut stream = connect(pki.client_config()?, proxy.addr, "127.0.0.1").await?;
    assert_eq!(echo(&mut stream, b"before").await?, b"before");

    proxy.shutdown.cancel();
    timeout(STEP, proxy.task).await???;

    let mut buf = [0u8; 16];
    let read = timeout(STEP, stream.read(&mut buf)).await?;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "tunnel still open after shutdown: {read:?}"
    );
    assert!(TcpStream::connect(proxy.addr).await.is_err(), "proxy still accepting");
    Ok(())
}
