//! The stores of a generated dataset: categories, quality, volume, special roles.

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{CsvOut, Error, Params, csv_error};

/// A special role given to one of the first stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Nothing special.
    Ordinary,
    /// Main category `telecom`: not assessed.
    Telecom,
    /// Main category `toys`: unknown to the rules.
    UnknownCategory,
    /// Signed but never onboarded; applied to exit early in the period.
    NeverOnboarded,
    /// Applies to terminate half-way through the period.
    Closes,
    /// Opens a third of the way into the period.
    OpensLate,
    /// Very few orders: some windows have no data.
    Tiny,
    /// Removed for violations.
    Removed,
    /// Covered by a store exemption.
    Exempted,
}

const ROLES: [Role; 8] = [
    Role::Telecom,
    Role::UnknownCategory,
    Role::NeverOnboarded,
    Role::Closes,
    Role::OpensLate,
    Role::Tiny,
    Role::Removed,
    Role::Exempted,
];

/// Assessed categories with their typical order amount in yuan.
pub(crate) const CATEGORIES: [(&str, f64); 5] =
    [("apparel", 180.0), ("electronics", 900.0), ("home", 120.0), ("food", 60.0), ("beauty", 220.0)];

/// A planned store.
#[derive(Clone, Debug)]
pub(crate) struct PlannedStore {
    pub id: String,
    pub role: Role,
    pub category: &'static str,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub onboarded: bool,
    /// 0 (poor service) to 1 (excellent).
    pub quality: f64,
    /// Mean orders per day.
    pub volume: f64,
}

pub(crate) fn plan_stores(p: &Params) -> Vec<PlannedStore> {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let end = p.start + Duration::days(i64::from(p.days) - 1);
    (0..p.stores)
        .map(|i| {
            let role =
                if p.stores >= 12 { ROLES.get(i as usize).copied().unwrap_or(Role::Ordinary) } else { Role::Ordinary };
            let (mut category, _) = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
            // Quality skews good, with a tail of poor stores.
            let quality: f64 = 1.0 - rng.random::<f64>().powf(2.5);
            // Log-uniform volume from a fifth to five times the ordinary volume.
            let mut volume = p.orders_per_day * (rng.random_range(-1.6f64..1.6)).exp();
            let opened_on = p.start - Duration::days(rng.random_range(30..1500));
            let mut store = PlannedStore {
                id: format!("S{:05}", i + 1),
                role,
                category,
                opened_on,
                closed_on: None,
                onboarded: true,
                quality,
                volume,
            };
            match role {
                Role::Telecom => category = "telecom",
                Role::UnknownCategory => category = "toys",
                Role::NeverOnboarded => {
                    store.onboarded = false;
                    store.opened_on = p.start - Duration::days(10);
                    store.closed_on = Some(p.start + Duration::days(i64::from(p.days / 10)));
                    volume = 0.0;
                }
                Role::Closes => store.closed_on = Some(p.start + Duration::days(i64::from(p.days / 2))),
                Role::OpensLate => store.opened_on = p.start + Duration::days(i64::from(p.days / 3)),
                Role::Tiny => volume = 0.08,
                Role::Ordinary | Role::Removed | Role::Exempted => {}
            }
            if store.closed_on.is_some_and(|c| c > end) {
                store.closed_on = Some(end);
            }
            store.category = category;
            store.volume = volume;
            store
        })
        .collect()
}

pub(crate) fn write_stores(stores: &[PlannedStore], w: &mut CsvOut, path: &str) -> Result<(), Error> {
    let e = csv_error(path);
    w.write_record([
        "store_id",
        "name",
        "main_category",
        "opened_on",
        "closed_on",
        "onboarded",
        "removed_for_violation",
    ])
    .map_err(&e)?;
    for s in stores {
        w.write_record([
            s.id.as_str(),
            &format!("Store {}", &s.id[1..].trim_start_matches('0')),
            s.category,
            &s.opened_on.to_string(),
            &s.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            if s.onboarded { "true" } else { "false" },
            if s.role == Role::Removed { "true" } else { "false" },
        ])
        .map_err(&e)?;
    }
    Ok(())
}

pub(crate) fn write_exemptions(p: &Params, stores: &[PlannedStore], w: &mut CsvOut) -> Result<u64, Error> {
    let e = csv_error("exemptions.csv");
    w.write_record(["scope", "target", "from", "to", "reason"]).map_err(&e)?;
    let at = |d: u32| (p.start + Duration::days(i64::from(d.min(p.days - 1)))).to_string();
    let mut n = 0;
    if let Some(s) = stores.iter().find(|s| s.role == Role::Exempted) {
        w.write_record(["store", &s.id, &at(p.days / 4), &at(p.days / 4 + 6), "force majeure: flood at warehouse"])
            .map_err(&e)?;
        n += 1;
    }
    w.write_record([
        "category",
        "food",
        &at(p.days / 2),
        &at(p.days / 2 + 2),
        "platform announcement: food safety campaign",
    ])
    .map_err(&e)?;
    w.write_record(["all", "", &at(p.days * 2 / 3), &at(p.days * 2 / 3), "platform outage"]).map_err(&e)?;
    Ok(n + 2)
}
