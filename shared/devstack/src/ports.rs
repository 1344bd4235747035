//! Loopback port selection.
//!
//! Listeners that live in this process (TLS proxy, schema registry) bind `127.0.0.1:0` and keep
//! the socket, so they cannot race anyone. The broker is a child process that binds its own
//! socket, so for it a free port is chosen here, released, and handed over; the tiny window in
//! between is acceptable for a development stack and surfaces as a clear "did not listen" error.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::DevstackError;

/// The only address anything in the stack binds to.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Binds a listener on `127.0.0.1:0` and keeps it.
pub async fn bind_loopback(purpose: &'static str) -> Result<TcpListener, DevstackError> {
    let addr = SocketAddr::from((LOOPBACK, 0));
    TcpListener::bind(addr).await.map_err(|source| DevstackError::Net {
        action: purpose,
        addr,
        source,
    })
}

/// The address a listener is bound to.
pub fn local_addr(listener: &TcpListener) -> Result<SocketAddr, DevstackError> {
    listener.local_addr().map_err(|source| DevstackError::Net {
        action: "read local address of listener",
        addr: SocketAddr::from((LOOPBACK, 0)),
        source,
    })
}

/// Returns a loopback address whose port was free a moment ago (for a child process to bind).
pub async fn free_loopback_addr() -> Result<SocketAddr, DevstackError> {
    let listener = bind_loopback("bind to pick a free broker port").await?;
    let addr = local_addr(&listener)?;
    drop(listener);
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_free_port_is_on_loopback_and_not_zero() -> Result<(), DevstackError> {
        let addr = free_loopback_addr().await?;
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        Ok(())
    }
}
