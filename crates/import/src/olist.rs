//! The Olist importer. Mapping (from `shared/data/olist/README.md`):
//!
//! - stores ← sellers with at least one imported order: `opened_on` is the local date
//!   of the seller's first approved order, `main_category` the mapped category with
//!   the largest GMV (ties alphabetically);
//! - orders ← order items grouped by order and seller: `paid_at` = approval time (else
//!   purchase time), `amount` = sum of `price`, `picked_up_at` = carrier handover,
//!   `item_id` = the first product, `category` = its mapped category; orders
//!   `canceled` or `unavailable`, and orders without items, are skipped and counted;
//! - reviews ← reviews joined to the order's sellers, `created_at` = the buyer's answer
//!   time, all three scores = `review_score`. Olist's duplicate `review_id`s are kept,
//!   so dengta's reader reports them as duplicates.
//!
//! Olist times carry no offset: they are read as local time in the time zone given
//! (America/Sao_Paulo), the earlier instant when a local time is ambiguous and one
//! hour later when it falls in a daylight-saving gap.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::Error;

/// The category mapping shipped with dengta.
pub const CATEGORIES_TOML: &str = include_str!("../../../import/olist-categories.toml");

/// Where Olist categories without a mapping go (not assessed by the rules).
pub const UNMAPPED: &str = "unmapped";

/// What to import.
#[derive(Clone, Debug)]
pub struct Request {
    /// Folder holding `olist_products_dataset.csv` and `subset/` (or the full files).
    pub source: PathBuf,
    /// Output dataset folder.
    pub out: PathBuf,
    /// Time zone of Olist's local times.
    pub tz: Tz,
}

/// What was imported and what was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Stores written.
    pub stores: usize,
    /// Orders written (one per order and seller).
    pub orders: usize,
    /// Reviews written.
    pub reviews: usize,
    /// Skipped rows: reason → count.
    pub skipped: BTreeMap<String, usize>,
    /// Stores per main category.
    pub categories: BTreeMap<String, usize>,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File { path: path.display().to_string(), message: e.to_string() }
}

/// Reads a CSV into rows of named fields.
fn read(path: &Path) -> Result<Vec<HashMap<String, String>>, Error> {
    let mut r = csv::Reader::from_path(path).map_err(|e| file_err(path, e))?;
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| file_err(path, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| file_err(path, e))?;
        rows.push(headers.iter().cloned().zip(rec.iter().map(str::to_string)).collect());
    }
    Ok(rows)
}

/// The first existing path among the subset and the top-level copy.
fn locate(source: &Path, name: &str) -> Result<PathBuf, Error> {
    [source.join("subset").join(name), source.join(name)].into_iter().find(|p| p.is_file()).ok_or_else(|| {
        Error::Source { path: source.display().to_string(), message: format!("no {name} here or in subset/") }
    })
}

fn category_map() -> Result<HashMap<String, String>, Error> {
    let raw: BTreeMap<String, Vec<String>> = toml::from_str(CATEGORIES_TOML)
        .map_err(|e| Error::Source { path: "import/olist-categories.toml".into(), message: e.to_string() })?;
    Ok(raw.into_iter().flat_map(|(to, froms)| froms.into_iter().map(move |f| (f, to.clone()))).collect())
}

/// Local Olist time → RFC 3339 with the zone's offset, and the local date.
fn instant(tz: Tz, text: &str) -> Option<(String, String)> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    let local = tz
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(naive + chrono::Duration::hours(1))).earliest())?;
    Some((local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(), naive.date().to_string()))
}

/// Yuan text like `99.9` or `144.0` → fen.
fn fen(text: &str) -> Option<i64> {
    let (w, f) = text.split_once('.').unwrap_or((text, ""));
    if f.len() > 2 || !w.bytes().all(|b| b.is_ascii_digit()) || !f.bytes().all(|b| b.is_ascii_digit()) || w.is_empty() {
        return None;
    }
    Some(w.parse::<i64>().ok()? * 100 + format!("{f:0<2}").parse::<i64>().ok()?)
}

struct Group {
    id: String,
    seller: String,
    product: String,
    item_no: u32,
    fen: i64,
}

/// Imports the Olist files in `req.source` into a dengta dataset in `req.out`.
pub fn import(req: &Request) -> Result<Report, Error> {
    let categories = category_map()?;
    let products: HashMap<String, String> = read(&locate(&req.source, "olist_products_dataset.csv")?)?
        .into_iter()
        .map(|r| (r["product_id"].clone(), r["product_category_name"].clone()))
        .collect();
    let orders_path = locate(&req.source, "olist_orders_dataset.csv")?;
    let orders: HashMap<String, HashMap<String, String>> =
        read(&orders_path)?.into_iter().map(|r| (r["order_id"].clone(), r)).collect();
    let items = read(&locate(&req.source, "olist_order_items_dataset.csv")?)?;
    let reviews = read(&locate(&req.source, "olist_order_reviews_dataset.csv")?)?;
    let mut report = Report::default();
    let skip = |why: &str, report: &mut Report| *report.skipped.entry(why.to_string()).or_default() += 1;

    // Order items → one group per order and seller.
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for it in &items {
        let key = (it["order_id"].clone(), it["seller_id"].clone());
        let item_no: u32 = it["order_item_id"].parse().unwrap_or(u32::MAX);
        let Some(price) = fen(&it["price"]) else {
            skip("order item with an unreadable price", &mut report);
            continue;
        };
        let g = groups.entry(key.clone()).or_insert_with(|| Group {
            id: String::new(),
            seller: key.1.clone(),
            product: it["product_id"].clone(),
            item_no,
            fen: 0,
        });
        g.fen += price;
        if item_no < g.item_no {
            g.item_no = item_no;
            g.product = it["product_id"].clone();
        }
    }
    let sellers_per_order = groups.keys().fold(HashMap::<String, usize>::new(), |mut m, (o, _)| {
        *m.entry(o.clone()).or_default() += 1;
        m
    });
    for o in orders.keys() {
        if !sellers_per_order.contains_key(o) {
            skip("order without items", &mut report);
        }
    }

    let out = &req.out;
    std::fs::create_dir_all(out).map_err(|e| file_err(out, e))?;
    let open = |name: &str| -> Result<csv::Writer<std::fs::File>, Error> {
        let p = out.join(name);
        csv::Writer::from_path(&p).map_err(|e| file_err(&p, e))
    };
    let mut ow = open("orders.csv")?;
    let werr = |e: csv::Error| Error::File { path: out.display().to_string(), message: e.to_string() };
    ow.write_record(["order_id", "store_id", "item_id", "category", "paid_at", "amount", "picked_up_at"])
        .map_err(werr)?;
    // seller → (first local date, GMV per category)
    let mut sellers: BTreeMap<String, (String, BTreeMap<String, i64>)> = BTreeMap::new();
    let mut imported: HashMap<String, Vec<(String, String, String)>> = HashMap::new(); // order → (dengta order id, seller, product)
    for ((order_id, seller), g) in groups.iter_mut() {
        let Some(o) = orders.get(order_id) else {
            skip("order item whose order is missing", &mut report);
            continue;
        };
        if matches!(o["order_status"].as_str(), "canceled" | "unavailable") {
            skip("order canceled or unavailable (never shipped)", &mut report);
            continue;
        }
        let paid_text =
            if o["order_approved_at"].is_empty() { &o["order_purchase_timestamp"] } else { &o["order_approved_at"] };
        let Some((paid, local_date)) = instant(req.tz, paid_text) else {
            skip("order with an unreadable payment time", &mut report);
            continue;
        };
        let picked = instant(req.tz, &o["order_delivered_carrier_date"]).map(|(t, _)| t).unwrap_or_default();
        let olist_cat = products.get(&g.product).cloned().unwrap_or_default();
        let category = categories.get(&olist_cat).cloned().unwrap_or_else(|| UNMAPPED.to_string());
        g.id = if sellers_per_order[order_id] == 1 { order_id.clone() } else { format!("{order_id}:{seller}") };
        ow.write_record([
            g.id.as_str(),
            &g.seller,
            &g.product,
            &category,
            &paid,
            &dengta_model::exact::hundredths(g.fen),
            &picked,
        ])
        .map_err(werr)?;
        report.orders += 1;
        let entry = sellers.entry(seller.clone()).or_insert_with(|| (local_date.clone(), BTreeMap::new()));
        if local_date < entry.0 {
            entry.0 = local_date;
        }
        *entry.1.entry(category).or_default() += g.fen;
        imported.entry(order_id.clone()).or_default().push((g.id.clone(), seller.clone(), g.product.clone()));
    }
    ow.flush().map_err(|e| file_err(out, e))?;

    let mut sw = open("stores.csv")?;
    sw.write_record(["store_id", "name", "main_category", "opened_on", "closed_on", "onboarded"]).map_err(werr)?;
    for (seller, (opened, gmv)) in &sellers {
        let top = gmv.values().max().copied().unwrap_or(0);
        let main = gmv.iter().find(|(_, v)| **v == top).map_or(UNMAPPED, |(c, _)| c.as_str());
        *report.categories.entry(main.to_string()).or_default() += 1;
        sw.write_record([seller.as_str(), "", main, opened, "", "true"]).map_err(werr)?;
        report.stores += 1;
    }
    sw.flush().map_err(|e| file_err(out, e))?;

    let mut rw = open("reviews.csv")?;
    rw.write_record([
        "review_id",
        "order_id",
        "store_id",
        "item_id",
        "created_at",
        "item_score",
        "service_score",
        "logistics_score",
    ])
    .map_err(werr)?;
    for r in &reviews {
        let Some(targets) = imported.get(&r["order_id"]) else {
            skip("review of an order not imported", &mut report);
            continue;
        };
        let Some((created, _)) = instant(req.tz, &r["review_answer_timestamp"]) else {
            skip("review without an answer time", &mut report);
            continue;
        };
        for (order, seller, product) in targets {
            let id = if targets.len() == 1 { r["review_id"].clone() } else { format!("{}:{seller}", r["review_id"]) };
            let s = r["review_score"].as_str();
            rw.write_record([id.as_str(), order, seller, product, &created, s, s, s]).map_err(werr)?;
            report.reviews += 1;
        }
    }
    rw.flush().map_err(|e| file_err(out, e))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_get_the_zone_offset() {
        let tz: Tz = "America/Sao_Paulo".parse().expect("zone");
        assert_eq!(instant(tz, "2017-07-09 21:57:05").map(|x| x.0).as_deref(), Some("2017-07-09T21:57:05-03:00"));
        // Brazil's 2016/2017 summer time: UTC−2.
        assert_eq!(instant(tz, "2017-01-10 10:00:00").map(|x| x.0).as_deref(), Some("2017-01-10T10:00:00-02:00"));
        // The DST gap of 2017-10-15 00:00–01:00 moves one hour later.
        assert_eq!(instant(tz, "2017-10-15 00:30:00").map(|x| x.0).as_deref(), Some("2017-10-15T01:30:00-02:00"));
        assert!(instant(tz, "").is_none());
    }

    #[test]
    fn prices_to_fen() {
        assert_eq!(fen("99.9"), Some(9990));
        assert_eq!(fen("144.0"), Some(14400));
        assert_eq!(fen("7"), Some(700));
        assert_eq!(fen("1.234"), None);
    }

    #[test]
    fn the_category_map_covers_the_readme_examples() {
        let m = category_map().expect("map");
        assert_eq!(m["cama_mesa_banho"], "home");
        assert_eq!(m["telefonia"], "electronics");
        assert_eq!(m["perfumaria"], "beauty");
        assert_eq!(m["fashion_calcados"], "apparel");
        assert_eq!(m["bebidas"], "food");
        assert!(!m.contains_key("brinquedos"));
    }
}
