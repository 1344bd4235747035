//! The generator against the ledger's own rules: the canonical form and validation of
//! `workers/ledger`, so the mix cannot drift from what the worker accepts.

use std::collections::{BTreeMap, HashMap};

use ledger::canonical::{from_request, validate};

use super::*;

const NOW: i64 = 1_700_000_000_000;

fn balanced(request: &TransactionRequested) -> bool {
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for l in &request.legs {
        *sums.entry(&l.currency).or_default() += l.amount_minor;
    }
    sums.values().all(|s| *s == 0)
}

#[test]
fn the_same_seed_makes_the_same_workload_and_another_seed_another() {
    let a = generate(2_000, 100, 7, NOW);
    assert_eq!(a, generate(2_000, 100, 7, NOW));
    assert_ne!(a, generate(2_000, 100, 8, NOW));
    assert_eq!(a.len(), 2_000);
}

#[test]
fn the_mix_is_mostly_transfers_with_a_few_of_every_other_kind() {
    let n = 50_000;
    let mix = Mix::of(&generate(n, DEFAULT_ACCOUNTS, 42, NOW));
    let per_mille = |k: Kind| mix.count(k) * 1000 / n;
    assert!((830..=870).contains(&per_mille(Kind::Transfer)), "{mix}");
    assert!((90..=110).contains(&per_mille(Kind::CrossCurrency)), "{mix}");
    assert!((17..=23).contains(&per_mille(Kind::Duplicate)), "{mix}");
    assert!((12..=18).contains(&per_mille(Kind::Invalid)), "{mix}");
    for k in [Kind::Overdraft, Kind::Conflict] {
        assert!((3..=7).contains(&per_mille(k)), "{mix}");
    }
    assert_eq!(Kind::ALL.iter().map(|k| mix.count(*k)).sum::<u64>(), n);
}

#[test]
fn every_input_has_exactly_one_expected_outcome() {
    let mix = Mix::of(&generate(10_000, 1_000, 3, NOW));
    let outcomes: u64 = ledger::metrics::OUTCOMES.iter().map(|o| mix.expected(o)).sum();
    assert_eq!(outcomes, 10_000);
    assert_eq!(mix.expected("duplicate"), mix.count(Kind::Duplicate));
    assert_eq!(
        mix.expected("posted"),
        mix.count(Kind::Transfer) + mix.count(Kind::CrossCurrency)
    );
}

#[test]
fn every_valid_transaction_is_balanced_and_passes_the_ledger_validation() {
    for t in generate(20_000, 1_000, 11, NOW) {
        let verdict = validate(&from_request(t.request.clone(), NOW));
        if t.kind == Kind::Invalid {
            assert!(verdict.is_err(), "{t:?}");
        } else {
            assert!(balanced(&t.request), "{t:?}");
            assert_eq!(verdict, Ok(()), "{t:?}");
        }
    }
}

#[test]
fn leg_counts_and_accounts_follow_the_kind() {
    let policy = ledger::book::OverdraftPolicy {
        allowed_prefixes: OVERDRAFT_ALLOWED_PREFIXES.split(',').map(str::to_owned).collect(),
    };
    let mut accounts = std::collections::HashSet::new();
    for t in generate(20_000, 1_000, 5, NOW) {
        let legs = &t.request.legs;
        match t.kind {
            Kind::Transfer | Kind::Duplicate | Kind::Conflict => assert_eq!(legs.len(), 2),
            Kind::CrossCurrency => {
                assert_eq!(legs.len(), 4);
                let currencies: std::collections::BTreeSet<_> = legs.iter().map(|l| &l.currency).collect();
                assert_eq!(currencies.len(), 2);
            }
            Kind::Overdraft => assert_eq!(legs.len(), 3),
            Kind::Invalid => {}
        }
        for l in legs.iter().filter(|l| l.amount_minor < 0) {
            // Only the overdraft kind debits an account that may not overdraw: outcomes are fixed.
            assert_eq!(
                policy.may_overdraw(&l.account_id),
                t.kind != Kind::Overdraft || l.account_id.starts_with("acc-"),
                "{t:?}"
            );
        }
        accounts.extend(
            legs.iter()
                .filter(|l| l.account_id.starts_with("acc-"))
                .map(|l| l.account_id.clone()),
        );
    }
    assert_eq!(accounts.len(), 1_000);
}

#[test]
fn duplicates_and_conflicts_reuse_an_earlier_transfer_id_with_same_or_other_content() {
    let all = generate(20_000, 1_000, 9, NOW);
    let mut first: HashMap<&str, &Transaction> = HashMap::new();
    let mut event_ids = std::collections::HashSet::new();
    for t in &all {
        assert!(event_ids.insert(t.request.event_id.clone()));
        match t.kind {
            Kind::Duplicate | Kind::Conflict => {
                let original = first
                    .get(t.request.transaction_id.as_str())
                    .expect("an earlier original");
                assert_eq!(original.kind, Kind::Transfer);
                assert_eq!(original.request.legs == t.request.legs, t.kind == Kind::Duplicate);
            }
            _ => assert!(first.insert(&t.request.transaction_id, t).is_none(), "{t:?}"),
        }
    }
}
