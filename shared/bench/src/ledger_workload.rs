//! The ledger case's preloaded input: N `TransactionRequested` events keyed by transaction id,
//! drawn from a seeded generator so a run is reproducible and every input's final outcome is
//! known in advance. The mix, per mille of N:
//!
//! - [`Kind::Transfer`] (the rest, ~85 %): 2 legs, one currency, between two of the `acc-*`
//!   accounts;
//! - [`Kind::CrossCurrency`] (100 ‰): 4 legs — payer → FX desk in one currency, FX desk → payee in
//!   another (3 steps; the desk posts two legs);
//! - [`Kind::Overdraft`] (5 ‰): 3 legs where the second debited account is a never-funded `cust-*`
//!   account that may not overdraw: refused at step 2, step 1 compensated;
//! - [`Kind::Invalid`] (15 ‰): unbalanced, unknown currency or a single leg — rejected at intake;
//! - [`Kind::Duplicate`] (20 ‰): an earlier transfer sent again with a new event id (a client
//!   retry) — ignored by the sequencer;
//! - [`Kind::Conflict`] (5 ‰): an earlier transfer's id reused with another amount — rejected.
//!
//! `acc-*` and `sys-*` accounts may overdraw ([`OVERDRAFT_ALLOWED_PREFIXES`]), so no balance
//! needs funding and the outcomes do not depend on the order the partitions are processed in.

use std::collections::BTreeMap;

use shared::codec::Codec;
use shared::events::{Leg, TransactionRequested};

use crate::error::BenchError;
use crate::workload::{Record, encode};

/// `LEDGER_OVERDRAFT_ALLOWED_PREFIXES` of the run: every account of the mix but `cust-*`.
pub const OVERDRAFT_ALLOWED_PREFIXES: &str = "acc-,sys-,ext-";
/// Distinct `acc-*` accounts by default.
pub const DEFAULT_ACCOUNTS: u64 = 1_000;
/// FX desk accounts (`sys-fx-<n>`) the cross-currency transactions go through.
pub const FX_DESKS: u64 = 4;
/// Never-funded accounts that may not overdraw (`cust-<n>`).
pub const UNFUNDED_ACCOUNTS: u64 = 10;
/// Earlier transfers a duplicate or a conflict may copy (the most recent ones).
const RECENT: usize = 256;
/// Currencies of the mix.
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

/// What a generated transaction is, and so how the ledger ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// 2 legs, posted.
    Transfer,
    /// 4 legs in two currencies, posted.
    CrossCurrency,
    /// Refused for overdraft at its second step, the first compensated.
    Overdraft,
    /// Rejected at intake.
    Invalid,
    /// A resend of an earlier transfer, ignored.
    Duplicate,
    /// An earlier transfer's id with other content, rejected.
    Conflict,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 6] = [
        Kind::Transfer,
        Kind::CrossCurrency,
        Kind::Overdraft,
        Kind::Invalid,
        Kind::Duplicate,
        Kind::Conflict,
    ];

    /// Name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "2-leg transfers",
            Kind::CrossCurrency => "4-leg cross-currency",
            Kind::Overdraft => "overdraft-refused (3 legs, compensated)",
            Kind::Invalid => "invalid",
            Kind::Duplicate => "duplicates",
            Kind::Conflict => "id reused with other content",
        }
    }

    /// The `outcome` label of `ledger_transactions_total` the ledger counts it under.
    pub fn outcome(self) -> &'static str {
        match self {
            Kind::Transfer | Kind::CrossCurrency => "posted",
            Kind::Overdraft | Kind::Invalid | Kind::Conflict => "rejected",
            Kind::Duplicate => "duplicate",
        }
    }

    /// The kind of the `draw`-th per mille (`draw` < 1000).
    fn of_draw(draw: u64) -> Kind {
        match draw {
            0..5 => Kind::Conflict,
            5..25 => Kind::Duplicate,
            25..40 => Kind::Invalid,
            40..45 => Kind::Overdraft,
            45..145 => Kind::CrossCurrency,
            _ => Kind::Transfer,
        }
    }
}

/// One generated input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// What it is.
    pub kind: Kind,
    /// The event.
    pub request: TransactionRequested,
}

/// SplitMix64: a tiny generator whose sequence is fixed by its seed, whatever the `rand` version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for a workload (`n` ≥ 1).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn leg(account_id: String, currency: &str, amount_minor: i64) -> Leg {
    Leg {
        account_id,
        currency: currency.to_owned(),
        amount_minor,
    }
}

/// `events` transactions over `accounts` `acc-*` accounts, fixed by `seed`; `requested_at` is `now_ms`.
pub fn generate(events: u64, accounts: u64, seed: u64, now_ms: i64) -> Vec<Transaction> {
    let accounts = accounts.max(2);
    let mut rng = SplitMix64(seed);
    let mut recent: Vec<TransactionRequested> = Vec::with_capacity(RECENT);
    let mut out = Vec::with_capacity(usize::try_from(events).unwrap_or(0));
    for i in 0..events {
        let mut kind = Kind::of_draw(rng.below(1000));
        if recent.is_empty() && matches!(kind, Kind::Duplicate | Kind::Conflict) {
            kind = Kind::Transfer;
        }
        let payer = rng.below(accounts);
        let payee = (payer + 1 + rng.below(accounts - 1)) % accounts;
        let (payer, payee) = (format!("acc-{payer:05}"), format!("acc-{payee:05}"));
        // 1.00 to 500.99 in minor units.
        let amount = 100 + rng.below(50_000) as i64;
        let currency = CURRENCIES[rng.below(CURRENCIES.len() as u64) as usize];
        let mut request = TransactionRequested {
            event_id: uuid::Uuid::from_u64_pair(seed, i).to_string(),
            transaction_id: format!("txn-{seed:x}-{i:08}"),
            kind: "transfer".to_owned(),
            legs: vec![
                leg(payer.clone(), currency, -amount),
                leg(payee.clone(), currency, amount),
            ],
            description: i.is_multiple_of(4).then(|| format!("invoice {i}")),
            requested_at: now_ms,
        };
        match kind {
            Kind::Transfer => {}
            Kind::CrossCurrency => {
                let other = CURRENCIES[(CURRENCIES.iter().position(|c| *c == currency).unwrap_or(0)
                    + 1
                    + rng.below(CURRENCIES.len() as u64 - 1) as usize)
                    % CURRENCIES.len()];
                // A rate between 0.80 and 1.29.
                let converted = amount * (80 + rng.below(50) as i64) / 100;
                let desk = format!("sys-fx-{}", rng.below(FX_DESKS));
                request.legs = vec![
                    leg(payer, currency, -amount),
                    leg(desk.clone(), currency, amount),
                    leg(desk, other, -converted),
                    leg(payee, other, converted),
                ];
            }
            Kind::Overdraft => {
                // `cust-` sorts after `acc-`: the funded-by-policy payer is posted first.
                let unfunded = format!("cust-{:03}", rng.below(UNFUNDED_ACCOUNTS));
                request.legs = vec![
                    leg(payer, currency, -amount),
                    leg(unfunded, currency, -amount),
                    leg(payee, currency, 2 * amount),
                ];
            }
            Kind::Invalid => match rng.below(3) {
                0 => request.legs[1].amount_minor -= 1,
                1 => request.legs.iter_mut().for_each(|l| l.currency = "XYZ".to_owned()),
                _ => request.legs.truncate(1),
            },
            Kind::Duplicate | Kind::Conflict => {
                let original = &recent[rng.below(recent.len() as u64) as usize];
                let event_id = request.event_id;
                request = original.clone();
                request.event_id = event_id;
                if kind == Kind::Conflict {
                    request.legs[0].amount_minor -= 1;
                    request.legs[1].amount_minor += 1;
                }
            }
        }
        if kind == Kind::Transfer {
            if recent.len() == RECENT {
                recent.remove(0);
            }
            recent.push(request.clone());
        }
        out.push(Transaction { kind, request });
    }
    out
}

/// How many of each kind a workload has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mix(pub BTreeMap<Kind, u64>);

impl Mix {
    /// Counts the kinds of `transactions`.
    pub fn of(transactions: &[Transaction]) -> Self {
        let mut counts = BTreeMap::new();
        for t in transactions {
            *counts.entry(t.kind).or_default() += 1;
        }
        Self(counts)
    }

    /// Inputs of `kind`.
    pub fn count(&self, kind: Kind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    /// Inputs the ledger should count under `outcome`.
    pub fn expected(&self, outcome: &str) -> u64 {
        Kind::ALL
            .iter()
            .filter(|k| k.outcome() == outcome)
            .map(|k| self.count(*k))
            .sum()
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = Kind::ALL
            .iter()
            .map(|k| format!("{} {}", self.count(*k), k.name()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The records to produce: each request encoded for `topic`, keyed by its transaction id.
pub fn records(codec: &Codec, topic: &str, transactions: &[Transaction]) -> Result<Vec<Record>, BenchError> {
    (0u64..)
        .zip(transactions)
        .map(|(i, t)| {
            Ok(Record {
                key: t.request.transaction_id.clone(),
                payload: encode(codec, topic, i, &t.request)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
