//! Balances and journal entries of one ledger partition, as plain data. One step of a transaction
//! posts that step's account legs against the partition's clearing account, so every entry is
//! balanced per currency on its own; a reversal posts the same legs with the opposite sign.
//! Nothing here knows Kafka: the handler loads these from the state store and saves them back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::events::Leg;

use crate::reason::{Reason, Refusal};

/// One account's balances (per currency) and its version: the number of balance changes so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Per-account sequence number of the last balance change (0: never moved).
    pub version: i64,
    /// Balance per currency, integer minor units.
    pub balances: BTreeMap<String, i64>,
}

/// One balance change, as recorded and as published in `ledger.balance-updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// Account moved.
    pub account: String,
    /// Currency moved.
    pub currency: String,
    /// Balance after the change.
    pub balance: i64,
    /// Signed change.
    pub delta: i64,
    /// The account's version after the change.
    pub version: i64,
}

/// Which accounts may go below zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverdraftPolicy {
    /// Accounts whose id starts with one of these may be overdrawn (e.g. `ext-` for the outside
    /// world, `sys-` for system accounts). Every other account may not.
    pub allowed_prefixes: Vec<String>,
}

impl OverdraftPolicy {
    /// Whether `account` may go below zero.
    pub fn may_overdraw(&self, account: &str) -> bool {
        self.allowed_prefixes.iter().any(|p| account.starts_with(p.as_str()))
    }
}

/// Direction of a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Post the legs as they are; debits are checked against the overdraft policy.
    Apply,
    /// Post the legs with the opposite sign, unchecked: a compensation must always succeed.
    Reverse,
}

/// Posts `legs` (all on `account_id`) against `clearing`, all or nothing. Returns the balance
/// changes in publication order: the account's legs, then the clearing legs.
pub fn post<'l>(
    account_id: &str,
    account: &mut Account,
    clearing_id: &str,
    clearing: &mut Account,
    legs: impl Iterator<Item = &'l Leg> + Clone,
    direction: Direction,
    policy: &OverdraftPolicy,
) -> Result<Vec<Update>, Refusal> {
    let sign = match direction {
        Direction::Apply => 1,
        Direction::Reverse => -1,
    };
    let mut next_account = account.clone();
    let mut next_clearing = clearing.clone();
    let mut updates = Vec::with_capacity(2 * legs.clone().count());
    let mut clearing_updates = Vec::new();
    for leg in legs {
        let delta = leg.amount_minor * sign;
        let overflow = || {
            Refusal::on_account(
                Reason::BalanceOverflow,
                account_id,
                format!("{} {} on {account_id} leaves the 64-bit range", delta, leg.currency),
            )
        };
        let old = next_account.balances.get(&leg.currency).copied().unwrap_or(0);
        let new = old.checked_add(delta).ok_or_else(overflow)?;
        if direction == Direction::Apply && delta < 0 && new < 0 && !policy.may_overdraw(account_id) {
            return Err(Refusal::on_account(
                Reason::Overdraft,
                account_id,
                format!(
                    "debit of {} {} would take {account_id} from {old} to {new}; overdraft is not allowed",
                    -delta, leg.currency
                ),
            ));
        }
        let old_clearing = next_clearing.balances.get(&leg.currency).copied().unwrap_or(0);
        let new_clearing = old_clearing.checked_sub(delta).ok_or_else(overflow)?;
        next_account.balances.insert(leg.currency.clone(), new);
        next_account.version += 1;
        updates.push(Update {
            account: account_id.to_owned(),
            currency: leg.currency.clone(),
            balance: new,
            delta,
            version: next_account.version,
        });
        next_clearing.balances.insert(leg.currency.clone(), new_clearing);
        next_clearing.version += 1;
        clearing_updates.push(Update {
            account: clearing_id.to_owned(),
            currency: leg.currency.clone(),
            balance: new_clearing,
            delta: -delta,
            version: next_clearing.version,
        });
    }
    updates.append(&mut clearing_updates);
    *account = next_account;
    *clearing = next_clearing;
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::tests::leg;

    fn policy() -> OverdraftPolicy {
        OverdraftPolicy {
            allowed_prefixes: vec!["ext-".into()],
        }
    }

    fn funded(amount: i64) -> Account {
        Account {
            version: 1,
            balances: BTreeMap::from([("EUR".to_owned(), amount)]),
        }
    }

    #[test]
    fn a_debit_moves_the_account_and_the_clearing_account_in_balance() {
        let (mut acc, mut clearing) = (funded(100), Account::default());
        let legs = [leg("alice", "EUR", -30)];
        let updates = post(
            "alice",
            &mut acc,
            "clearing-p0",
            &mut clearing,
            legs.iter(),
            Direction::Apply,
            &policy(),
        )
        .expect("funded");
        assert_eq!(acc.balances["EUR"], 70);
        assert_eq!(clearing.balances["EUR"], 30);
        assert_eq!(updates.iter().map(|u| u.delta).sum::<i64>(), 0);
        assert_eq!((updates[0].version, updates[1].version), (2, 1));
        assert_eq!(updates[1].account, "clearing-p0");
    }

    #[test]
    fn an_overdraft_is_refused_and_nothing_moves() {
        let (mut acc, mut clearing) = (funded(10), Account::default());
        let legs = [leg("alice", "EUR", -30)];
        let refusal = post(
            "alice",
            &mut acc,
            "c",
            &mut clearing,
            legs.iter(),
            Direction::Apply,
            &policy(),
        )
        .expect_err("overdraft");
        assert_eq!(refusal.reason, Reason::Overdraft);
        assert_eq!(refusal.account.as_deref(), Some("alice"));
        assert_eq!((acc, clearing), (funded(10), Account::default()));
    }

    #[test]
    fn allowed_accounts_may_overdraw_and_reversals_are_never_refused() {
        let (mut ext, mut clearing) = (Account::default(), Account::default());
        let legs = [leg("ext-bank", "EUR", -500)];
        post(
            "ext-bank",
            &mut ext,
            "c",
            &mut clearing,
            legs.iter(),
            Direction::Apply,
            &policy(),
        )
        .expect("allowed");
        assert_eq!(ext.balances["EUR"], -500);
        let mut alice = funded(0);
        let credit = [leg("alice", "EUR", 40)];
        post(
            "alice",
            &mut alice,
            "c",
            &mut clearing,
            credit.iter(),
            Direction::Reverse,
            &policy(),
        )
        .expect("reversal");
        assert_eq!(alice.balances["EUR"], -40);
        assert_eq!(clearing.balances["EUR"], 540);
    }

    #[test]
    fn a_credit_past_i64_max_is_an_overflow_refusal() {
        let (mut acc, mut clearing) = (funded(i64::MAX), Account::default());
        let legs = [leg("alice", "EUR", 1)];
        let refusal = post(
            "alice",
            &mut acc,
            "c",
            &mut clearing,
            legs.iter(),
            Direction::Apply,
            &policy(),
        )
        .expect_err("overflow");
        assert_eq!(refusal.reason, Reason::BalanceOverflow);
    }
}
