//! A small real SMTP server on `127.0.0.1:0`: EHLO/HELO, STARTTLS, AUTH PLAIN and LOGIN,
//! MAIL/RCPT/DATA (with dot-unstuffing), RSET, NOOP, QUIT. It records every accepted message and
//! can refuse recipients with a chosen reply (e.g. 451 or 550).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::lock;
use super::tls::TestPki;

/// How clients connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// No TLS offered.
    None,
    /// STARTTLS offered after EHLO.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// `MAIL FROM` address.
    pub mail_from: String,
    /// `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
    /// The message (headers and body), CRLF line ends, dot-unstuffed.
    pub data: String,
    /// Credentials given with AUTH, if any.
    pub auth: Option<(String, String)>,
    /// Whether the session was encrypted when the message arrived.
    pub tls: bool,
}

impl ReceivedMail {
    /// The first header `name` (any case), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

#[derive(Default)]
struct State {
    mails: Mutex<Vec<ReceivedMail>>,
    rcpt_reply: Mutex<Option<String>>,
}

/// The SMTP server; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Starts a server; `pki` is required for [`SinkTls::Starttls`] and [`SinkTls::Implicit`].
    pub async fn start(tls: SinkTls, pki: Option<&TestPki>) -> std::io::Result<SmtpSink> {
        let acceptor = match (tls, pki) {
            (SinkTls::None, _) => None,
            (_, Some(pki)) => Some(pki.acceptor().map_err(std::io::Error::other)?),
            (_, None) => return Err(std::io::Error::other("a TLS SMTP sink needs a TestPki")),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let task_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&task_state);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A session that breaks off only ends itself.
                    let _ = match (tls, acceptor) {
                        (SinkTls::Implicit, Some(a)) => match a.accept(stream).await {
                            Ok(s) => session(s, &state, Offer::Implicit).await.map(|_| ()),
                            Err(e) => Err(e),
                        },
                        (SinkTls::Starttls, Some(a)) => match session(stream, &state, Offer::Starttls).await {
                            Ok(Some(plain)) => match a.accept(plain).await {
                                Ok(s) => session(s, &state, Offer::Encrypted).await.map(|_| ()),
                                Err(e) => Err(e),
                            },
                            other => other.map(|_| ()),
                        },
                        _ => session(stream, &state, Offer::Plain).await.map(|_| ()),
                    };
                });
            }
        });
        Ok(SmtpSink { addr, state, task })
    }

    /// The port to connect to (host `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Messages accepted so far.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        lock(&self.state.mails).clone()
    }

    /// Answer `RCPT TO` with `reply` (e.g. `"451 4.3.0 try later"`), or accept again with `None`.
    pub fn reject_recipients(&self, reply: Option<&str>) {
        *lock(&self.state.rcpt_reply) = reply.map(str::to_owned);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// No TLS.
    Plain,
    /// Plain, STARTTLS offered.
    Starttls,
    /// TLS from the first byte: greet over TLS.
    Implicit,
    /// Upgraded by STARTTLS: the client speaks first (EHLO again).
    Encrypted,
}

/// Runs one session; returns the stream when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    state: &State,
    offer: Offer,
) -> std::io::Result<Option<S>> {
    let mut s = BufReader::new(stream);
    if offer != Offer::Encrypted {
        s.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    }
    let mut auth = None;
    let mut mail_from = None;
    let mut rcpt_to = Vec::new();
    loop {
        let line = read_line(&mut s).await?;
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let starttls = if offer == Offer::Starttls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            format!("250-sink.test\r\n{starttls}250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8")
        } else if upper.starts_with("HELO") {
            "250 sink.test".into()
        } else if upper == "STARTTLS" && offer == Offer::Starttls {
            s.write_all(b"220 2.0.0 go ahead\r\n").await?;
            s.flush().await?;
            return Ok(Some(s.into_inner()));
        } else if upper.starts_with("AUTH PLAIN") {
            let arg = match line.get(11..).map(str::trim).filter(|a| !a.is_empty()) {
                Some(a) => a.to_owned(),
                None => {
                    s.write_all(b"334 \r\n").await?;
                    read_line(&mut s).await?
                }
            };
            auth = b64(&arg).and_then(|plain| {
                let mut parts = plain.split('\0').skip(1);
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            });
            "235 2.7.0 authenticated".into()
        } else if upper.starts_with("AUTH LOGIN") {
            s.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            let user = b64(&read_line(&mut s).await?).unwrap_or_default();
            s.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            let password = b64(&read_line(&mut s).await?).unwrap_or_default();
            auth = Some((user, password));
            "235 2.7.0 authenticated".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = Some(address(&line[10..]));
            rcpt_to.clear();
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            match lock(&state.rcpt_reply).clone() {
                Some(refusal) => refusal,
                None => {
                    rcpt_to.push(address(&line[8..]));
                    "250 2.1.5 ok".into()
                }
            }
        } else if upper == "DATA" {
            s.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let data = read_data(&mut s).await?;
            lock(&state.mails).push(ReceivedMail {
                mail_from: mail_from.take().unwrap_or_default(),
                rcpt_to: std::mem::take(&mut rcpt_to),
                data,
                auth: auth.clone(),
                tls: matches!(offer, Offer::Implicit | Offer::Encrypted),
            });
            "250 2.0.0 queued".into()
        } else if upper == "RSET" {
            mail_from = None;
            rcpt_to.clear();
            "250 2.0.0 ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            s.write_all(b"221 2.0.0 bye\r\n").await?;
            s.flush().await?;
            return Ok(None);
        } else {
            "502 5.5.2 not implemented".into()
        };
        s.write_all(reply.as_bytes()).await?;
        s.write_all(b"\r\n").await?;
        s.flush().await?;
    }
}

async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(s: &mut BufReader<S>) -> std::io::Result<String> {
    let mut line = String::new();
    if s.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn read_data<S: AsyncRead + AsyncWrite + Unpin>(s: &mut BufReader<S>) -> std::io::Result<String> {
    let mut data = String::new();
    loop {
        let line = read_line(s).await?;
        if line == "." {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}

fn address(arg: &str) -> String {
    let arg = arg.trim();
    let end = arg.find('>').map_or(arg.len(), |i| i + 1);
    arg[..end].trim_start_matches('<').trim_end_matches('>').to_owned()
}

fn b64(s: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()?;
    String::from_utf8(bytes).ok()
}
