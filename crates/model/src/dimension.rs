//! The five service dimensions (SPEC §4, §5).

use std::fmt;

/// A service dimension. The order is the order of the `dim_*` output columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// 商品体验: product experience.
    Product,
    /// 物流体验: logistics experience.
    Logistics,
    /// 售后体验: after-sales experience.
    AfterSales,
    /// 纠纷投诉: disputes and complaints.
    Disputes,
    /// 咨询体验: consultation (customer chat) experience.
    Consultation,
}

impl Dimension {
    /// Every dimension, in output-column order.
    pub const ALL: [Dimension; 5] =
        [Dimension::Product, Dimension::Logistics, Dimension::AfterSales, Dimension::Disputes, Dimension::Consultation];

    /// The name used in rule files and outputs (`after_sales`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Product => "product",
            Dimension::Logistics => "logistics",
            Dimension::AfterSales => "after_sales",
            Dimension::Disputes => "disputes",
            Dimension::Consultation => "consultation",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Dimension::Product => "Product experience",
            Dimension::Logistics => "Logistics experience",
            Dimension::AfterSales => "After-sales experience",
            Dimension::Disputes => "Disputes and complaints",
            Dimension::Consultation => "Consultation experience",
        }
    }

    /// The Chinese label used by the marketplace.
    pub fn label_zh(self) -> &'static str {
        match self {
            Dimension::Product => "商品体验",
            Dimension::Logistics => "物流体验",
            Dimension::AfterSales => "售后体验",
            Dimension::Disputes => "纠纷投诉",
            Dimension::Consultation => "咨询体验",
        }
    }

    /// Looks a dimension up by its rule-file name.
    pub fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Position in [`Dimension::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
