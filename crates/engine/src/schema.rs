//! The input tables of SPEC §3: their columns, which are required, and how each
//! value is checked.

use std::fmt;

/// An input table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Stores (required).
    Stores,
    /// Orders.
    Orders,
    /// Reviews.
    Reviews,
    /// Customer chats.
    Chats,
    /// Refunds.
    Refunds,
    /// Disputes.
    Disputes,
    /// Complaints.
    Complaints,
    /// Exemptions.
    Exemptions,
}

/// How a column's values are checked and stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The table's unique id (duplicates rejected).
    Id,
    /// Free text.
    Text,
    /// A `store_id` that must name an accepted store.
    StoreRef,
    /// `YYYY-MM-DD`.
    Date,
    /// An instant: RFC 3339 with offset, or epoch milliseconds.
    Timestamp,
    /// Yuan with at most two decimals, never negative.
    Amount,
    /// `true`/`false`, any case.
    Bool,
    /// An integer 1 to 5.
    ReviewScore,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
}

/// A column of an input table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Its name in the header.
    pub name: &'static str,
    /// How its values are checked.
    pub kind: Kind,
    /// May the column be absent from the file?
    pub optional_column: bool,
    /// May a cell be empty?
    pub optional_value: bool,
}

const fn req(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, optional_column: false, optional_value: false }
}

/// Present in the header, but the cell may be empty.
const fn empty_ok(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, optional_column: false, optional_value: true }
}

/// May be absent from the header, and empty.
const fn optional(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, optional_column: true, optional_value: true }
}

/// Refund kinds.
pub const REFUND_KINDS: &[&str] = &["refund_only", "return_refund"];
/// Refund reasons.
pub const REFUND_REASONS: &[&str] = &["quality", "not_as_described", "other"];
/// Exemption scopes.
pub const EXEMPTION_SCOPES: &[&str] = &["all", "category", "store"];

const STORES: &[Column] = &[
    req("store_id", Kind::Id),
    optional("name", Kind::Text),
    req("main_category", Kind::Text),
    req("opened_on", Kind::Date),
    optional("closed_on", Kind::Date),
    req("onboarded", Kind::Bool),
    optional("removed_for_violation", Kind::Bool),
];
const ORDERS: &[Column] = &[
    req("order_id", Kind::Id),
    req("store_id", Kind::StoreRef),
    req("item_id", Kind::Text),
    req("category", Kind::Text),
    req("paid_at", Kind::Timestamp),
    req("amount", Kind::Amount),
    empty_ok("picked_up_at", Kind::Timestamp),
];
const REVIEWS: &[Column] = &[
    req("review_id", Kind::Id),
    req("order_id", Kind::Text),
    req("store_id", Kind::StoreRef),
    req("item_id", Kind::Text),
    req("created_at", Kind::Timestamp),
    req("item_score", Kind::ReviewScore),
    req("service_score", Kind::ReviewScore),
    req("logistics_score", Kind::ReviewScore),
];
const CHATS: &[Column] = &[
    req("chat_id", Kind::Id),
    req("store_id", Kind::StoreRef),
    req("started_at", Kind::Timestamp),
    empty_ok("first_human_reply_at", Kind::Timestamp),
];
const REFUNDS: &[Column] = &[
    req("refund_id", Kind::Id),
    req("order_id", Kind::Text),
    req("store_id", Kind::StoreRef),
    req("item_id", Kind::Text),
    req("kind", Kind::Enum(REFUND_KINDS)),
    req("reason", Kind::Enum(REFUND_REASONS)),
    req("requested_at", Kind::Timestamp),
    empty_ok("completed_at", Kind::Timestamp),
];
const DISPUTES: &[Column] = &[
    req("dispute_id", Kind::Id),
    req("order_id", Kind::Text),
    req("store_id", Kind::StoreRef),
    req("opened_at", Kind::Timestamp),
    empty_ok("closed_at", Kind::Timestamp),
    req("refunded", Kind::Bool),
    req("merchant_liable", Kind::Bool),
];
const COMPLAINTS: &[Column] = &[
    req("complaint_id", Kind::Id),
    req("order_id", Kind::Text),
    req("store_id", Kind::StoreRef),
    req("filed_at", Kind::Timestamp),
    empty_ok("decided_at", Kind::Timestamp),
    req("upheld", Kind::Bool),
];
const EXEMPTIONS: &[Column] = &[
    req("scope", Kind::Enum(EXEMPTION_SCOPES)),
    // Required unless scope is `all`; checked by the reader.
    empty_ok("target", Kind::Text),
    req("from", Kind::Date),
    req("to", Kind::Date),
    empty_ok("reason", Kind::Text),
];

impl Table {
    /// Every table, stores first (events refer to stores).
    pub const ALL: [Table; 8] = [
        Table::Stores,
        Table::Orders,
        Table::Reviews,
        Table::Chats,
        Table::Refunds,
        Table::Disputes,
        Table::Complaints,
        Table::Exemptions,
    ];

    /// The event tables, whose rows are aggregated.
    pub const EVENTS: [Table; 6] =
        [Table::Orders, Table::Reviews, Table::Chats, Table::Refunds, Table::Disputes, Table::Complaints];

    /// The file or folder name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Stores => "stores",
            Table::Orders => "orders",
            Table::Reviews => "reviews",
            Table::Chats => "chats",
            Table::Refunds => "refunds",
            Table::Disputes => "disputes",
            Table::Complaints => "complaints",
            Table::Exemptions => "exemptions",
        }
    }

    /// The table of a file or folder name.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Its columns, in the order their values are checked.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Stores => STORES,
            Table::Orders => ORDERS,
            Table::Reviews => REVIEWS,
            Table::Chats => CHATS,
            Table::Refunds => REFUNDS,
            Table::Disputes => DISPUTES,
            Table::Complaints => COMPLAINTS,
            Table::Exemptions => EXEMPTIONS,
        }
    }

    /// Position of a column by name.
    pub fn column_index(self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }

    /// Incoherent orderings rejected by SPEC §3: `(earlier, later)` column pairs
    /// where the later must not be before the earlier. The later column is blamed.
    pub fn orderings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Table::Stores => &[("opened_on", "closed_on")],
            Table::Chats => &[("started_at", "first_human_reply_at")],
            Table::Refunds => &[("requested_at", "completed_at")],
            Table::Exemptions => &[("from", "to")],
            _ => &[],
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
