//! Which circuit breaker a delivery goes through. Email, SMS and push each talk to one provider
//! endpoint, so each has one breaker. Webhooks go to every recipient's own receiver, so each
//! receiving endpoint (scheme, host and port) has its own: a receiver that is down opens only its
//! breaker, and webhooks to every other receiver go ahead.
//!
//! A webhook endpoint's breaker exists only while it matters: it is created at the endpoint's
//! first retryable failure and dropped when the endpoint accepts or refuses a delivery (it is up).
//! At most [`MAX_WEBHOOK_ENDPOINTS`] are kept; when full, breakers that are no longer open are
//! pruned, and if every one is open, a new failing endpoint goes without a breaker (its
//! deliveries still move through the retry tiers, they just call the endpoint each time).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::breaker::{Breaker, CLOSED, HALF_OPEN, OPEN};
use crate::channel::Channel;
use crate::send::parse_url;

/// Webhook endpoints with a breaker at most (bounds memory when many receivers fail).
pub const MAX_WEBHOOK_ENDPOINTS: usize = 4096;

/// What a provider call said about the endpoint's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Accepted, or refused for the recipient's sake (4xx): the endpoint is up.
    Up,
    /// A retryable failure (5xx, 429, timeout, connection): counts towards opening.
    Failing,
}

/// A channel's breakers, as the `notification_circuit_state` and `notification_circuits_open`
/// gauges show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The worst state: [`OPEN`] if any is open, else [`HALF_OPEN`] if any is, else [`CLOSED`].
    pub state: i64,
    /// How many are open.
    pub open: i64,
}

/// Every breaker of the worker.
#[derive(Debug)]
pub struct Circuits {
    threshold: u32,
    cool_down: Duration,
    providers: BTreeMap<Channel, Breaker>,
    webhooks: Mutex<HashMap<String, Breaker>>,
}

/// The endpoint a delivery calls, as far as breakers are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The channel's one provider (email, SMS, push).
    Provider(Channel),
    /// A webhook receiver, by [`webhook_endpoint`] key.
    Webhook(String),
    /// A webhook address that is not a URL: the send fails permanently, no breaker is involved.
    Unknown,
}

impl Endpoint {
    /// The endpoint a delivery on `channel` to `address` calls.
    pub fn of(channel: Channel, address: &str) -> Endpoint {
        match channel {
            Channel::Webhook => webhook_endpoint(address).map_or(Endpoint::Unknown, Endpoint::Webhook),
            other => Endpoint::Provider(other),
        }
    }
}

/// The breaker key of a webhook URL: `scheme://host:port`, lower-cased; `None` when it is not an
/// absolute URL.
pub fn webhook_endpoint(url: &str) -> Option<String> {
    let uri = parse_url(url).ok()?;
    let authority = uri.authority()?;
    let https = uri.scheme() == Some(&hyper::http::uri::Scheme::HTTPS);
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let scheme = if https { "https" } else { "http" };
    Some(format!("{scheme}://{}:{port}", authority.host()).to_ascii_lowercase())
}

impl Circuits {
    /// Closed breakers opening after `threshold` consecutive retryable failures of one endpoint
    /// and letting one probe through after `cool_down`.
    pub fn new(threshold: u32, cool_down: Duration) -> Circuits {
        let providers = Channel::ALL
            .into_iter()
            .filter(|c| *c != Channel::Webhook)
            .map(|c| (c, Breaker::new(threshold, cool_down)))
            .collect();
        Circuits {
            threshold,
            cool_down,
            providers,
            webhooks: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a delivery to `endpoint` may call it at `now`.
    pub fn allow(&self, endpoint: &Endpoint, now: Instant) -> bool {
        match endpoint {
            Endpoint::Provider(channel) => self.providers.get(channel).is_none_or(|b| b.allow(now)),
            Endpoint::Webhook(key) => self.lock().get(key).is_none_or(|b| b.allow(now)),
            Endpoint::Unknown => true,
        }
    }

    /// Records what a call to `endpoint` said about its health at `now`.
    pub fn report(&self, endpoint: &Endpoint, health: Health, now: Instant) {
        match endpoint {
            Endpoint::Provider(channel) => {
                if let Some(b) = self.providers.get(channel) {
                    match health {
                        Health::Up => b.on_success(),
                        Health::Failing => b.on_failure(now),
                    }
                }
            }
            Endpoint::Webhook(key) => {
                let mut webhooks = self.lock();
                match health {
                    Health::Up => {
                        webhooks.remove(key);
                    }
                    Health::Failing => {
                        if !webhooks.contains_key(key) && webhooks.len() >= MAX_WEBHOOK_ENDPOINTS {
                            webhooks.retain(|_, b| b.state(now) == OPEN);
                        }
                        if webhooks.contains_key(key) || webhooks.len() < MAX_WEBHOOK_ENDPOINTS {
                            webhooks
                                .entry(key.clone())
                                .or_insert_with(|| Breaker::new(self.threshold, self.cool_down))
                                .on_failure(now);
                        }
                    }
                }
            }
            Endpoint::Unknown => {}
        }
    }

    /// The state of `channel`'s breakers at `now`.
    pub fn summary(&self, channel: Channel, now: Instant) -> Summary {
        if let Some(b) = self.providers.get(&channel) {
            let state = b.state(now);
            return Summary {
                state,
                open: i64::from(state == OPEN),
            };
        }
        let webhooks = self.lock();
        let states = webhooks.values().map(|b| b.state(now));
        let (mut open, mut half_open) = (0i64, false);
        for s in states {
            open += i64::from(s == OPEN);
            half_open |= s == HALF_OPEN;
        }
        let state = if open > 0 {
            OPEN
        } else if half_open {
            HALF_OPEN
        } else {
            CLOSED
        };
        Summary { state, open }
    }

    /// Webhook endpoints that currently have a breaker.
    pub fn webhook_endpoints(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Breaker>> {
        // The map holds plain values, valid even if a holder panicked.
        self.webhooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(30);
    const DOWN: &str = "https://Down.Example.test/hooks/a";
    const UP: &str = "https://up.example.test/hooks/b";

    #[test]
    fn endpoints_are_scheme_host_and_port_whatever_the_path_or_case() {
        assert_eq!(webhook_endpoint(DOWN).as_deref(), Some("https://down.example.test:443"));
        assert_eq!(
            webhook_endpoint("https://down.example.test:443/other?x=1").as_deref(),
            Some("https://down.example.test:443")
        );
        assert_eq!(
            webhook_endpoint("http://127.0.0.1:8080/h").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_ne!(webhook_endpoint("http://h.test/"), webhook_endpoint("https://h.test/"));
        assert_eq!(webhook_endpoint("not a url"), None);
        assert_eq!(webhook_endpoint("/relative"), None);
        assert_eq!(webhook_endpoint("ftp://h.test/x"), None, "only what the sender accepts");
        assert_eq!(Endpoint::of(Channel::Webhook, "/relative"), Endpoint::Unknown);
        assert_eq!(Endpoint::of(Channel::Sms, "+49"), Endpoint::Provider(Channel::Sms));
    }

    fn hook(url: &str) -> Endpoint {
        Endpoint::of(Channel::Webhook, url)
    }

    #[test]
    fn a_failing_webhook_receiver_opens_only_its_own_breaker() {
        let t0 = Instant::now();
        let c = Circuits::new(2, COOL);
        c.report(&hook(DOWN), Health::Failing, t0);
        assert!(c.allow(&hook(DOWN), t0), "one failure is below the threshold");
        c.report(&hook("https://down.example.test/hooks/other"), Health::Failing, t0);
        assert!(!c.allow(&hook(DOWN), t0), "two failures of the endpoint open it");
        assert!(c.allow(&hook(UP), t0), "another receiver is unaffected");
        assert!(
            c.allow(&Endpoint::of(Channel::Sms, "+491510000000"), t0),
            "so is every provider channel"
        );
        assert_eq!(c.summary(Channel::Webhook, t0), Summary { state: OPEN, open: 1 });
        assert_eq!(c.summary(Channel::Sms, t0), Summary { state: CLOSED, open: 0 });
    }

    #[test]
    fn a_receiver_that_is_up_again_drops_its_breaker() {
        let t0 = Instant::now();
        let c = Circuits::new(1, COOL);
        c.report(&hook(DOWN), Health::Failing, t0);
        assert_eq!(c.webhook_endpoints(), 1);
        assert_eq!(c.summary(Channel::Webhook, t0 + COOL).state, HALF_OPEN);
        assert!(c.allow(&hook(DOWN), t0 + COOL), "the probe");
        assert!(!c.allow(&hook(DOWN), t0 + COOL), "one probe at a time");
        c.report(&hook(DOWN), Health::Up, t0 + COOL);
        assert_eq!(c.webhook_endpoints(), 0);
        assert!(c.allow(&hook(DOWN), t0 + COOL));
        assert_eq!(
            c.summary(Channel::Webhook, t0 + COOL),
            Summary { state: CLOSED, open: 0 }
        );
    }

    #[test]
    fn provider_channels_keep_one_breaker_each() {
        let t0 = Instant::now();
        let c = Circuits::new(1, COOL);
        c.report(&Endpoint::of(Channel::Email, "a@example.test"), Health::Failing, t0);
        assert!(
            !c.allow(&Endpoint::of(Channel::Email, "b@example.test"), t0),
            "every address shares the SMTP relay"
        );
        assert!(c.allow(&Endpoint::of(Channel::Push, "token"), t0));
        c.report(&Endpoint::of(Channel::Email, "b@example.test"), Health::Up, t0);
        assert!(c.allow(&Endpoint::of(Channel::Email, "a@example.test"), t0));
    }

    #[test]
    fn the_endpoint_map_is_bounded_and_prunes_breakers_that_are_no_longer_open() {
        let t0 = Instant::now();
        let c = Circuits::new(1, COOL);
        let url = |i: usize| format!("https://r{i}.example.test/h");
        for i in 0..MAX_WEBHOOK_ENDPOINTS {
            c.report(&hook(&url(i)), Health::Failing, t0);
        }
        assert_eq!(c.webhook_endpoints(), MAX_WEBHOOK_ENDPOINTS);
        // Full and all open: a new failing endpoint is not tracked.
        c.report(&hook(&url(MAX_WEBHOOK_ENDPOINTS)), Health::Failing, t0);
        assert_eq!(c.webhook_endpoints(), MAX_WEBHOOK_ENDPOINTS);
        assert!(c.allow(&hook(&url(MAX_WEBHOOK_ENDPOINTS)), t0));
        // After the cool-down none is open any more: the next new endpoint prunes them.
        let later = t0 + COOL;
        c.report(&hook(&url(MAX_WEBHOOK_ENDPOINTS + 1)), Health::Failing, later);
        assert_eq!(c.webhook_endpoints(), 1);
        assert!(!c.allow(&hook(&url(MAX_WEBHOOK_ENDPOINTS + 1)), later));
    }
}
