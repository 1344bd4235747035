//! Local stand-ins for the providers, for this crate's tests and the worker's broker tests
//! (feature `test-support`). Each listens on `127.0.0.1:0`, records what it received, and can be
//! told how to answer, so a test asserts on what a provider actually got.
//!
//! - [`smtp::SmtpSink`]: an SMTP server (plain, STARTTLS or implicit TLS; AUTH PLAIN/LOGIN) that
//!   records each message and can refuse recipients with a given reply code;
//! - [`http::HttpSink`]: an HTTP(S) server recording requests, answering through a closure; with
//!   ready-made behaviours: [`http::WebhookSink`] (verifies signatures, records idempotency key,
//!   body and arrival time, fails chosen recipients with 500), [`http::HttpSink::sms`] and
//!   [`http::HttpSink::push`];
//! - [`tls::TestPki`]: a throwaway CA and a server certificate for `127.0.0.1` and `localhost`.

pub mod http;
pub mod smtp;
pub mod tls;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, ignoring poisoning (a panicking test thread must not hide what was recorded).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A port on `127.0.0.1` where nothing listens (bound once, then released), for "connection
/// refused" cases.
pub fn closed_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.local_addr().map(|a| a.port())
}
