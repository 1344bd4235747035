//! A minimal TLS terminator in front of the broker's plaintext listener.
//!
//! nisshi 0.7.0-pre.2 cannot serve TLS itself (its `--cert`/`--key` flags are mutually exclusive
//! and the acceptor is never used), so clients speak TLS to this proxy, which decrypts and pipes
//! the bytes to the broker with `copy_bidirectional`. SASL is untouched: the SCRAM exchange runs
//! end to end between client and broker inside the tunnel. The broker advertises the proxy's
//! address, so every connection a client opens after bootstrap also goes through here.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    task::JoinSet,
    time::timeout,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::DevstackError;

/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for connecting to the broker on loopback.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop cannot spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts TLS connections on `listener` and forwards each to `upstream` until `shutdown` is
/// cancelled; then every open tunnel is closed and the function returns.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    upstream: SocketAddr,
    shutdown: CancellationToken,
) -> Result<(), DevstackError> {
    let local = listener.local_addr().map_err(|source| DevstackError::Net {
        action: "read local address of tls proxy for",
        addr: upstream,
        source,
    })?;
    info!(%local, %upstream, "tls proxy listening");
    let mut tunnels = JoinSet::new();
    loop {
        // Reap finished tunnels so the set does not grow with the connection count.
        while tunnels.try_join_next().is_some() {}
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let acceptor = acceptor.clone();
                    tunnels.spawn(async move {
                        if let Err(reason) = tunnel(client, acceptor, upstream).await {
                            debug!(%peer, %upstream, %reason, "tls tunnel closed with an error");
                        }
                    });
                }
                Err(err) => {
                    warn!(%local, error = %err, "tls proxy accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    // Aborting the tunnels closes both sockets, which the broker sees as client disconnects.
    tunnels.shutdown().await;
    info!(%local, "tls proxy stopped");
    Ok(())
}

/// One client connection: TLS handshake, connect upstream, pipe until either side closes.
async fn tunnel(client: TcpStream, acceptor: TlsAcceptor, upstream: SocketAddr) -> Result<(), String> {
    // Kafka requests are small and latency-bound; do not let Nagle batch them.
    client.set_nodelay(true).map_err(|e| format!("set nodelay: {e}"))?;
    let mut tls = timeout(HANDSHAKE_TIMEOUT, acceptor.accept(client))
        .await
        .map_err(|_| format!("tls handshake timed out after {HANDSHAKE_TIMEOUT:?}"))?
        .map_err(|e| format!("tls handshake: {e}"))?;
    let mut broker = timeout(UPSTREAM_CONNECT_TIMEOUT, TcpStream::connect(upstream))
        .await
        .map_err(|_| format!("connect upstream timed out after {UPSTREAM_CONNECT_TIMEOUT:?}"))?
        .map_err(|e| format!("connect upstream: {e}"))?;
    broker.set_nodelay(true).map_err(|e| format!("set nodelay: {e}"))?;
    let (up, down) = copy_bidirectional(&mut tls, &mut broker)
        .await
        .map_err(|e| format!("copy: {e}"))?;
    debug!(%upstream, bytes_to_broker = up, bytes_to_client = down, "tls tunnel closed");
    Ok(())
}
