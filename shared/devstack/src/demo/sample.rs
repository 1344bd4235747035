//! The demo's sample stream of `payments.payment-requested` records: a pure, seeded generator (no
//! I/O, no clock: the caller passes the time), so a `--seed` replays the same stream and unit
//! tests can check the mix against the payments worker's own rules.
//!
//! Mostly valid payments from a large pool of payers in several countries and currencies, with
//! amounts in minor units; plus every way the payments worker refuses a request: invalid fields,
//! a repeated `payment_id`, blocked countries, amounts above the review threshold, velocity bursts,
//! and now and then a poison record that is not Avro at all (it must end up in the DLQ).

use std::collections::VecDeque;

use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::IndexedRandom as _};
use shared::events::PaymentRequested;

/// The payments worker's default review threshold (`PAYMENTS_REVIEW_THRESHOLD_MINOR`).
pub const REVIEW_THRESHOLD_MINOR: i64 = 10_000_000;
/// The payments worker's default largest amount (`PAYMENTS_MAX_AMOUNT_MINOR`).
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000;
/// The payments worker's default velocity limit (`PAYMENTS_VELOCITY_MAX_REQUESTS`).
pub const VELOCITY_MAX_REQUESTS: usize = 5;
/// Requests in one velocity burst: two over the limit, so the last two of each burst fail.
pub const BURST_LEN: usize = VELOCITY_MAX_REQUESTS + 2;
/// Valid payments remembered as candidates for a duplicate.
const RECENT_FOR_DUPLICATES: usize = 64;
/// Merchants (payees) in the pool.
const MERCHANTS: u32 = 500;

/// Payer countries and their weight in the pool.
const COUNTRIES: [(&str, u32); 10] = [
    ("DE", 20),
    ("FR", 15),
    ("NL", 10),
    ("ES", 10),
    ("IT", 10),
    ("IE", 5),
    ("BE", 5),
    ("GB", 15),
    ("US", 15),
    ("JP", 10),
];
/// Currencies used for cross-border payments.
pub const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "JPY"];
/// Not ISO-4217 (or not upper-case).
const UNKNOWN_CURRENCIES: [&str; 4] = ["EURO", "XYZ", "usd", "BTC"];
/// On the payments worker's default blocked list.
const BLOCKED_COUNTRIES: [&str; 2] = ["KP", "IR"];
const DESCRIPTIONS: [&str; 6] = ["invoice", "order", "rent", "subscription", "dinner split", "refund"];

/// What a sample is meant to exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A well-formed payment that passes every rule.
    Valid,
    /// Amount 0.
    ZeroAmount,
    /// A negative amount.
    NegativeAmount,
    /// A currency that is not an ISO-4217 code.
    UnknownCurrency,
    /// A payment id that is not a UUID or a payee account with bad characters.
    MalformedId,
    /// Payer and payee are the same account.
    SamePayerAndPayee,
    /// A repeated `payment_id` (a client retry with a new event id).
    Duplicate,
    /// A payer in a blocked country.
    BlockedCountry,
    /// An amount above the review threshold.
    ReviewAmount,
    /// One of [`BURST_LEN`] requests from one payer in quick succession.
    VelocityBurst,
    /// Not in the wire format (JSON on an Avro topic).
    Poison,
}

/// Every category with its draw weight; a velocity burst draw yields [`BURST_LEN`] samples.
pub const WEIGHTS: [(Category, u32); 11] = [
    (Category::Valid, 800),
    (Category::ZeroAmount, 10),
    (Category::NegativeAmount, 10),
    (Category::UnknownCurrency, 15),
    (Category::MalformedId, 20),
    (Category::SamePayerAndPayee, 15),
    (Category::Duplicate, 30),
    (Category::BlockedCountry, 25),
    (Category::ReviewAmount, 25),
    (Category::VelocityBurst, 6),
    (Category::Poison, 5),
];

impl Category {
    /// The summary group: `valid`, `invalid`, `duplicate`, `risky` or `poison`.
    pub fn group(self) -> &'static str {
        match self {
            Category::Valid => "valid",
            Category::ZeroAmount
            | Category::NegativeAmount
            | Category::UnknownCurrency
            | Category::MalformedId
            | Category::SamePayerAndPayee => "invalid",
            Category::Duplicate => "duplicate",
            Category::BlockedCountry | Category::ReviewAmount | Category::VelocityBurst => "risky",
            Category::Poison => "poison",
        }
    }

    /// The payments worker's reason code for a sample of this category taken on its own
    /// (duplicates and bursts depend on what came before; poison never reaches the rules).
    pub fn expected_reason(self) -> Option<&'static str> {
        match self {
            Category::ZeroAmount | Category::NegativeAmount => Some("invalid_amount"),
            Category::UnknownCurrency => Some("unknown_currency"),
            Category::MalformedId => Some("malformed_id"),
            Category::SamePayerAndPayee => Some("same_payer_and_payee"),
            Category::BlockedCountry => Some("blocked_country"),
            Category::ReviewAmount => Some("review_required"),
            Category::Valid | Category::Duplicate | Category::VelocityBurst | Category::Poison => None,
        }
    }
}

/// The summary groups in display order.
pub const GROUPS: [&str; 5] = ["valid", "invalid", "duplicate", "risky", "poison"];

/// A record's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// An event to encode with the registered schema.
    Event(Box<PaymentRequested>),
    /// Raw bytes sent as they are.
    Poison(Vec<u8>),
}

/// One record of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// What it exercises.
    pub category: Category,
    /// Record key: the payer account (so a payer's requests stay in order on one partition).
    pub key: String,
    /// Record value.
    pub body: Body,
}

#[derive(Debug, Clone)]
struct Payer {
    account: String,
    country: &'static str,
}

/// The seeded generator.
#[derive(Debug)]
pub struct SampleGenerator {
    rng: StdRng,
    payers: Vec<Payer>,
    recent_valid: VecDeque<PaymentRequested>,
    burst: Option<(Payer, usize)>,
    serial: u64,
}

/// A pool this large keeps ordinary payers well under the velocity limit at `rate` events/s
/// (on average one request per payer every two minutes).
pub fn payers_for_rate(rate: f64) -> usize {
    let wanted = (rate.max(1.0) * 120.0).ceil();
    // In range by the clamp, so the cast is exact.
    wanted.clamp(1_000.0, 200_000.0) as usize
}

impl SampleGenerator {
    /// A generator for `seed` with `payers` ordinary payers (at least one).
    pub fn new(seed: u64, payers: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let payers = (0..payers.max(1))
            .map(|i| {
                let country = COUNTRIES
                    .choose_weighted(&mut rng, |(_, weight)| *weight)
                    .map_or("DE", |(country, _)| *country);
                Payer {
                    account: format!("acct-{}-{i:06}", country.to_ascii_lowercase()),
                    country,
                }
            })
            .collect();
        Self {
            rng,
            payers,
            recent_valid: VecDeque::with_capacity(RECENT_FOR_DUPLICATES),
            burst: None,
            serial: 0,
        }
    }

    /// The next record, stamped `now_ms` (Unix ms).
    pub fn next_sample(&mut self, now_ms: i64) -> Sample {
        self.serial += 1;
        if let Some((payer, left)) = self.burst.take() {
            if left > 1 {
                self.burst = Some((payer.clone(), left - 1));
            }
            return Self::event(Category::VelocityBurst, self.payment(&payer, now_ms));
        }
        let category = self.draw();
        let payer = self.pool_payer();
        // Every category but poison starts from a valid payment and breaks one thing.
        let payment = self.payment(&payer, now_ms);
        let broken = match category {
            Category::Valid => {
                if self.recent_valid.len() == RECENT_FOR_DUPLICATES {
                    self.recent_valid.pop_front();
                }
                self.recent_valid.push_back(payment.clone());
                payment
            }
            Category::ZeroAmount => PaymentRequested {
                amount_minor: 0,
                ..payment
            },
            Category::NegativeAmount => PaymentRequested {
                amount_minor: -payment.amount_minor,
                ..payment
            },
            Category::UnknownCurrency => PaymentRequested {
                currency: (*self.pick(&UNKNOWN_CURRENCIES)).to_owned(),
                ..payment
            },
            Category::MalformedId if self.rng.random_bool(0.5) => PaymentRequested {
                payment_id: format!("pay-{}", self.serial),
                ..payment
            },
            Category::MalformedId => PaymentRequested {
                payee_account: format!("acct #{}", self.serial),
                ..payment
            },
            Category::SamePayerAndPayee => PaymentRequested {
                payee_account: payment.payer_account.clone(),
                ..payment
            },
            Category::Duplicate => {
                let index = self.rng.random_range(0..self.recent_valid.len().max(1));
                match self.recent_valid.get(index).cloned() {
                    // A client retry: same payment, new event id.
                    Some(original) => PaymentRequested {
                        event_id: payment.event_id,
                        ..original
                    },
                    // Nothing to repeat yet.
                    None => return Self::event(Category::Valid, payment),
                }
            }
            Category::BlockedCountry => {
                let country = *self.pick(&BLOCKED_COUNTRIES);
                let blocked = self.fresh_payer(country, 'k');
                PaymentRequested {
                    payer_account: blocked.account,
                    payer_country: blocked.country.to_owned(),
                    ..payment
                }
            }
            Category::ReviewAmount => PaymentRequested {
                amount_minor: self
                    .rng
                    .random_range(REVIEW_THRESHOLD_MINOR + 1..=MAX_AMOUNT_MINOR / 10 * 9),
                ..payment
            },
            Category::VelocityBurst => {
                let burster = self.fresh_payer(payer.country, 'b');
                self.burst = Some((burster.clone(), BURST_LEN - 1));
                PaymentRequested {
                    payer_account: burster.account,
                    ..payment
                }
            }
            Category::Poison => {
                let json = format!(
                    r#"{{"payment_id":"{}","amount":"12.50","currency":"EUR"}}"#,
                    payment.payment_id
                );
                return Sample {
                    category,
                    key: payer.account,
                    body: Body::Poison(json.into_bytes()),
                };
            }
        };
        Self::event(category, broken)
    }

    fn draw(&mut self) -> Category {
        let total: u32 = WEIGHTS.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.random_range(0..total);
        for (category, weight) in WEIGHTS {
            if roll < weight {
                return category;
            }
            roll -= weight;
        }
        Category::Valid
    }

    fn event(category: Category, payment: PaymentRequested) -> Sample {
        Sample {
            category,
            key: payment.payer_account.clone(),
            body: Body::Event(Box::new(payment)),
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = self.rng.random_range(0..items.len());
        &items[index]
    }

    /// The accounts of the ordinary payer pool (the ones the demo funds in the ledger).
    pub fn pool_accounts(&self) -> impl Iterator<Item = &str> {
        self.payers.iter().map(|p| p.account.as_str())
    }

    fn pool_payer(&mut self) -> Payer {
        let index = self.rng.random_range(0..self.payers.len());
        self.payers[index].clone()
    }

    /// A payer outside the pool (blocked countries, bursts), so it shares no history.
    fn fresh_payer(&self, country: &'static str, tag: char) -> Payer {
        Payer {
            account: format!("acct-{}-{tag}{:06}", country.to_ascii_lowercase(), self.serial),
            country,
        }
    }

    fn uuid(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.rng.random())
            .into_uuid()
            .to_string()
    }

    /// A valid payment from `payer`: home currency mostly, a merchant or another payer as payee.
    fn payment(&mut self, payer: &Payer, now_ms: i64) -> PaymentRequested {
        let home = match payer.country {
            "GB" => "GBP",
            "US" => "USD",
            "JP" => "JPY",
            _ => "EUR",
        };
        let currency = if self.rng.random_bool(0.9) {
            home
        } else {
            *self.pick(&CURRENCIES)
        };
        let other = self.pool_payer();
        let payee_account = if self.rng.random_bool(0.7) || other.account == payer.account {
            format!("merch-{:04}", self.rng.random_range(0..MERCHANTS))
        } else {
            other.account
        };
        let description = self.rng.random_bool(0.6).then(|| {
            let what = self.pick(&DESCRIPTIONS);
            format!("{what} {}", 1000 + self.serial)
        });
        PaymentRequested {
            event_id: self.uuid(),
            payment_id: self.uuid(),
            payer_account: payer.account.clone(),
            payee_account,
            amount_minor: self.amount_minor(currency),
            currency: currency.to_owned(),
            payer_country: payer.country.to_owned(),
            // The client asked a moment before the record was produced.
            requested_at: now_ms - self.rng.random_range(0..500),
            description,
        }
    }

    /// Log-uniform between 1 and 2 500 units (JPY: 100 to 300 000 yen), often whole units.
    fn amount_minor(&mut self, currency: &str) -> i64 {
        let (low, high): (f64, f64) = if currency == "JPY" {
            (100.0, 300_000.0)
        } else {
            (100.0, 250_000.0)
        };
        let amount = (low.ln() + self.rng.random::<f64>() * (high.ln() - low.ln())).exp();
        // Between `low` and `high` by construction, so the cast is exact enough and positive.
        let amount = amount as i64;
        if currency != "JPY" && self.rng.random_bool(0.4) {
            (amount / 100).max(1) * 100
        } else {
            amount.max(1)
        }
    }
}

#[cfg(test)]
#[path = "sample_tests.rs"]
mod tests;
