//! Event simulation: orders and what follows them, chats, per store and day.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Poisson};

use crate::roles::{self, CATEGORIES, PlannedStore};
use crate::{Counts, CsvOut, Error, Params, csv_error};

pub(crate) struct Writers {
    stores: CsvOut,
    orders: CsvOut,
    reviews: CsvOut,
    chats: CsvOut,
    refunds: CsvOut,
    disputes: CsvOut,
    complaints: CsvOut,
    pub exemptions: CsvOut,
}

fn open(dir: &Path, name: &str) -> Result<CsvOut, Error> {
    let path = dir.join(name);
    let f = File::create(&path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f)))
}

impl Writers {
    pub fn create(dir: &Path) -> Result<Writers, Error> {
        Ok(Writers {
            stores: open(dir, "stores.csv")?,
            orders: open(dir, "orders.csv")?,
            reviews: open(dir, "reviews.csv")?,
            chats: open(dir, "chats.csv")?,
            refunds: open(dir, "refunds.csv")?,
            disputes: open(dir, "disputes.csv")?,
            complaints: open(dir, "complaints.csv")?,
            exemptions: open(dir, "exemptions.csv")?,
        })
    }

    pub fn finish(self) -> Result<(), Error> {
        for (mut w, name) in [
            (self.stores, "stores.csv"),
            (self.orders, "orders.csv"),
            (self.reviews, "reviews.csv"),
            (self.chats, "chats.csv"),
            (self.refunds, "refunds.csv"),
            (self.disputes, "disputes.csv"),
            (self.complaints, "complaints.csv"),
            (self.exemptions, "exemptions.csv"),
        ] {
            w.flush().map_err(|source| Error::Io { path: name.to_string(), source })?;
        }
        Ok(())
    }
}

/// Formats instants the way marketplaces export them: mostly local time with an
/// offset, a share in UTC or as epoch milliseconds.
struct Clock {
    local: FixedOffset,
    mixed: f64,
}

impl Clock {
    fn format(&self, ms: i64, rng: &mut ChaCha8Rng) -> String {
        let r: f64 = rng.random();
        let t: DateTime<FixedOffset> =
            self.local.timestamp_millis_opt(ms).single().expect("generated instants are in range");
        if r < self.mixed / 2.0 {
            ms.to_string()
        } else if r < self.mixed {
            t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()
        } else {
            t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
        }
    }
}

const H: f64 = 3_600_000.0;

pub(crate) fn write_all(p: &Params, stores: &[PlannedStore], w: &mut Writers) -> Result<Counts, Error> {
    roles::write_stores(stores, &mut w.stores, "stores.csv")?;
    let e = |name| csv_error(name);
    w.orders
        .write_record(["order_id", "store_id", "item_id", "category", "paid_at", "amount", "picked_up_at"])
        .map_err(e("orders.csv"))?;
    w.reviews
        .write_record([
            "review_id",
            "order_id",
            "store_id",
            "item_id",
            "created_at",
            "item_score",
            "service_score",
            "logistics_score",
        ])
        .map_err(e("reviews.csv"))?;
    w.chats.write_record(["chat_id", "store_id", "started_at", "first_human_reply_at"]).map_err(e("chats.csv"))?;
    w.refunds
        .write_record([
            "refund_id",
            "order_id",
            "store_id",
            "item_id",
            "kind",
            "reason",
            "requested_at",
            "completed_at",
        ])
        .map_err(e("refunds.csv"))?;
    w.disputes
        .write_record(["dispute_id", "order_id", "store_id", "opened_at", "closed_at", "refunded", "merchant_liable"])
        .map_err(e("disputes.csv"))?;
    w.complaints
        .write_record(["complaint_id", "order_id", "store_id", "filed_at", "decided_at", "upheld"])
        .map_err(e("complaints.csv"))?;

    let local = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    let clock = Clock { local, mixed: p.mixed_timestamps };
    let day_start = |d: i64| -> i64 {
        let date = p.start + Duration::days(d);
        local
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .expect("a fixed offset has one local midnight")
            .timestamp_millis()
    };
    let end_ms = day_start(i64::from(p.days));
    let mut c = Counts::default();
    for (si, s) in stores.iter().enumerate() {
        if s.volume <= 0.0 {
            continue;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (si as u64 + 1));
        let q = s.quality;
        let typical = CATEGORIES.iter().find(|(n, _)| *n == s.category).map_or(150.0, |(_, a)| *a);
        let amount = LogNormal::new(typical.ln(), 0.6).expect("valid lognormal");
        let pickup_hours = Exp::new(1.0 / (3.0 + 16.0 * (1.0 - q))).expect("positive rate");
        let refund_only_hours = Exp::new(1.0 / (2.0 + 36.0 * (1.0 - q))).expect("positive rate");
        let return_hours = Exp::new(1.0 / (20.0 + 120.0 * (1.0 - q))).expect("positive rate");
        let reply_secs = Exp::new(1.0 / (3.0 + 50.0 * (1.0 - q))).expect("positive rate");
        let reply_share = 0.6 + 0.395 * q;
        let dispute_p = 0.0005 + 0.008 * (1.0 - q).powi(2);
        let complaint_p = 0.0005 + 0.006 * (1.0 - q).powi(2);
        for d in 0..i64::from(p.days) {
            let date = p.start + Duration::days(d);
            if date < s.opened_on || s.closed_on.is_some_and(|c| date > c) {
                continue;
            }
            let start = day_start(d);
            let weekend = if date.format("%u").to_string().parse::<u32>().unwrap_or(1) >= 6 { 1.3 } else { 1.0 };
            let lam = s.volume * weekend;
            let n_orders = Poisson::new(lam).map_or(0, |d| d.sample(&mut rng) as u64);
            for _ in 0..n_orders {
                c.orders += 1;
                let order_id = format!("O{:09}", c.orders);
                let paid = start + rng.random_range(0..86_400_000);
                let item_n: u32 = (rng.random::<f64>() * 40f64.ln()).exp() as u32;
                let item_id = format!("{}-I{}", s.id, item_n);
                let category = if rng.random::<f64>() < 0.1 {
                    CATEGORIES[rng.random_range(0..CATEGORIES.len())].0
                } else {
                    s.category
                };
                let fen = (amount.sample(&mut rng) * 100.0).round().max(1.0) as i64;
                let picked = if rng.random::<f64>() < 0.003 + 0.04 * (1.0 - q) {
                    None
                } else {
                    Some(paid + (pickup_hours.sample(&mut rng) * H) as i64 + 600_000)
                };
                let picked_text = match picked.filter(|t| *t < end_ms) {
                    Some(t) => clock.format(t, &mut rng),
                    None => String::new(),
                };
                w.orders
                    .write_record([
                        &order_id,
                        &s.id,
                        &item_id,
                        category,
                        &clock.format(paid, &mut rng),
                        &dengta_model::exact::hundredths(fen),
                        &picked_text,
                    ])
                    .map_err(e("orders.csv"))?;
                if rng.random::<f64>() < 0.45 {
                    let created = paid + rng.random_range(2..12) * 86_400_000 + rng.random_range(0..86_400_000);
                    if created < end_ms {
                        c.reviews += 1;
                        let score = |rng: &mut ChaCha8Rng| {
                            let x: f64 = rng.random::<f64>() * 0.5 + 0.5 * q + 0.03;
                            match x {
                                x if x > 0.62 => "5",
                                x if x > 0.42 => "4",
                                x if x > 0.3 => "3",
                                x if x > 0.2 => "2",
                                _ => "1",
                            }
                        };
                        let (a, b, l) = (score(&mut rng), score(&mut rng), score(&mut rng));
                        w.reviews
                            .write_record([
                                &format!("R{:09}", c.reviews),
                                &order_id,
                                &s.id,
                                &item_id,
                                &clock.format(created, &mut rng),
                                a,
                                b,
                                l,
                            ])
                            .map_err(e("reviews.csv"))?;
                    }
                }
                if rng.random::<f64>() < 0.04 + 0.08 * (1.0 - q) {
                    let requested = paid + rng.random_range(1..6) * 86_400_000 + rng.random_range(0..86_400_000);
                    if requested < end_ms {
                        c.refunds += 1;
                        let refund_only = rng.random::<f64>() < 0.6;
                        let hours = if refund_only {
                            refund_only_hours.sample(&mut rng)
                        } else {
                            return_hours.sample(&mut rng)
                        };
                        let completed = requested + (hours * H) as i64 + 60_000;
                        let done = if rng.random::<f64>() < 0.04 || completed >= end_ms {
                            String::new()
                        } else {
                            clock.format(completed, &mut rng)
                        };
                        let reason = match rng.random_range(0..10) {
                            0..=2 => "quality",
                            3..=4 => "not_as_described",
                            _ => "other",
                        };
                        w.refunds
                            .write_record::<[&str; 8], &str>([
                                &format!("F{:09}", c.refunds),
                                &order_id,
                                &s.id,
                                &item_id,
                                if refund_only { "refund_only" } else { "return_refund" },
                                reason,
                                &clock.format(requested, &mut rng),
                                &done,
                            ])
                            .map_err(e("refunds.csv"))?;
                    }
                }
                if rng.random::<f64>() < dispute_p {
                    let opened = paid + rng.random_range(3..10) * 86_400_000;
                    if opened < end_ms {
                        c.disputes += 1;
                        let closed = opened + rng.random_range(1..8) * 86_400_000 + rng.random_range(0..86_400_000);
                        let closed_text = if closed < end_ms { clock.format(closed, &mut rng) } else { String::new() };
                        let b = |x: bool| if x { "true" } else { "false" };
                        w.disputes
                            .write_record([
                                &format!("D{:09}", c.disputes),
                                &order_id,
                                &s.id,
                                &clock.format(opened, &mut rng),
                                &closed_text,
                                b(rng.random::<f64>() < 0.6),
                                b(rng.random::<f64>() < 0.3 + 0.5 * (1.0 - q)),
                            ])
                            .map_err(e("disputes.csv"))?;
                    }
                }
                if rng.random::<f64>() < complaint_p {
                    let filed = paid + rng.random_range(2..15) * 86_400_000;
                    if filed < end_ms {
                        c.complaints += 1;
                        let decided = filed + rng.random_range(1..10) * 86_400_000;
                        let decided_text =
                            if decided < end_ms { clock.format(decided, &mut rng) } else { String::new() };
                        w.complaints
                            .write_record::<[&str; 6], &str>([
                                &format!("P{:09}", c.complaints),
                                &order_id,
                                &s.id,
                                &clock.format(filed, &mut rng),
                                &decided_text,
                                if rng.random::<f64>() < 0.3 + 0.4 * (1.0 - q) { "true" } else { "false" },
                            ])
                            .map_err(e("complaints.csv"))?;
                    }
                }
            }
            let n_chats = Poisson::new(lam * 0.8).map_or(0, |d| d.sample(&mut rng) as u64);
            for _ in 0..n_chats {
                c.chats += 1;
                let started = start + rng.random_range(0..86_400_000);
                let reply = if rng.random::<f64>() < reply_share {
                    let t = started + (reply_secs.sample(&mut rng) * 1000.0) as i64 + 1000;
                    if t < end_ms { clock.format(t, &mut rng) } else { String::new() }
                } else {
                    String::new()
                };
                w.chats
                    .write_record([&format!("C{:09}", c.chats), &s.id, &clock.format(started, &mut rng), &reply])
                    .map_err(e("chats.csv"))?;
            }
        }
    }
    Ok(c)
}
