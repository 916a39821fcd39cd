//! The indicator catalogue (SPEC §4): what each indicator divides by what.
//!
//! The catalogue is code; which indicators a rule version uses, their windows,
//! sample minimums, curves and weights are data in the rule file.

use std::fmt;

use crate::measure::Measure;

/// Which direction is better for an indicator's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// A higher value is better (ratings, on-time shares).
    Higher,
    /// A lower value is better (durations, failure rates).
    Lower,
}

/// One side of an indicator's ratio: the window sum or the window count of a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// The sum of the measure's values.
    Sum(Measure),
    /// The number of events of the measure.
    Count(Measure),
}

impl Term {
    /// The measure this term reads.
    pub fn measure(self) -> Measure {
        match self {
            Term::Sum(m) | Term::Count(m) => m,
        }
    }
}

/// An indicator of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    /// 商品DSR: mean item score of reviews.
    DsrItem,
    /// 24小时揽收率: share of orders picked up by their deadline.
    Pickup24hRate,
    /// 仅退款自主完结时长: mean hours to complete refund-only refunds.
    RefundOnlyHours,
    /// 退货退款自主完结时长: mean hours to complete return-and-refund refunds.
    ReturnRefundHours,
    /// 纠纷退款率: merchant-liable refunded disputes per order paid.
    DisputeRefundRate,
    /// 投诉成立率: upheld complaints per order paid.
    ComplaintUpheldRate,
    /// 旺旺回复率: share of chats answered by a person within the reply deadline.
    ImReplyRate,
    /// 人工响应时长: mean seconds to the first human reply.
    ImFirstReplySecs,
}

impl Indicator {
    /// The catalogue, in output-column order.
    pub const ALL: [Indicator; 8] = [
        Indicator::DsrItem,
        Indicator::Pickup24hRate,
        Indicator::RefundOnlyHours,
        Indicator::ReturnRefundHours,
        Indicator::DisputeRefundRate,
        Indicator::ComplaintUpheldRate,
        Indicator::ImReplyRate,
        Indicator::ImFirstReplySecs,
    ];

    /// The name used in rule files and output columns.
    pub fn name(self) -> &'static str {
        match self {
            Indicator::DsrItem => "dsr_item",
            Indicator::Pickup24hRate => "pickup_24h_rate",
            Indicator::RefundOnlyHours => "refund_only_hours",
            Indicator::ReturnRefundHours => "return_refund_hours",
            Indicator::DisputeRefundRate => "dispute_refund_rate",
            Indicator::ComplaintUpheldRate => "complaint_upheld_rate",
            Indicator::ImReplyRate => "im_reply_rate",
            Indicator::ImFirstReplySecs => "im_first_reply_secs",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Indicator::DsrItem => "Item DSR",
            Indicator::Pickup24hRate => "24-hour pickup rate",
            Indicator::RefundOnlyHours => "Refund-only completion time",
            Indicator::ReturnRefundHours => "Return-and-refund completion time",
            Indicator::DisputeRefundRate => "Dispute refund rate",
            Indicator::ComplaintUpheldRate => "Upheld complaint rate",
            Indicator::ImReplyRate => "Chat reply rate",
            Indicator::ImFirstReplySecs => "First human reply time",
        }
    }

    /// The Chinese label used by the marketplace.
    pub fn label_zh(self) -> &'static str {
        match self {
            Indicator::DsrItem => "商品DSR",
            Indicator::Pickup24hRate => "24小时揽收率",
            Indicator::RefundOnlyHours => "仅退款自主完结时长",
            Indicator::ReturnRefundHours => "退货退款自主完结时长",
            Indicator::DisputeRefundRate => "纠纷退款率",
            Indicator::ComplaintUpheldRate => "投诉成立率",
            Indicator::ImReplyRate => "旺旺回复率",
            Indicator::ImFirstReplySecs => "人工响应时长",
        }
    }

    /// A plain-English description of what is counted, for explanations.
    pub fn describe(self) -> &'static str {
        match self {
            Indicator::DsrItem => "mean item score of the reviews created in the window",
            Indicator::Pickup24hRate => {
                "share of the orders whose pickup deadline fell in the window that the carrier picked up on time"
            }
            Indicator::RefundOnlyHours => {
                "mean hours from request to completion of the refund-only refunds completed in the window"
            }
            Indicator::ReturnRefundHours => {
                "mean hours from request to completion of the return-and-refund refunds completed in the window"
            }
            Indicator::DisputeRefundRate => {
                "disputes closed in the window with a refund the merchant was liable for, per order paid in the window"
            }
            Indicator::ComplaintUpheldRate => {
                "complaints decided in the window and upheld, per order paid in the window"
            }
            Indicator::ImReplyRate => {
                "share of the chats whose reply deadline fell in the window that a person answered in time"
            }
            Indicator::ImFirstReplySecs => {
                "mean seconds to the first human reply, over the chats answered in the window"
            }
        }
    }

    /// Looks an indicator up by its rule-file name.
    pub fn from_name(name: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.name() == name)
    }

    /// Position in [`Indicator::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The numerator of the indicator's ratio.
    pub fn numerator(self) -> Term {
        match self {
            Indicator::DsrItem => Term::Sum(Measure::Reviews),
            Indicator::Pickup24hRate => Term::Sum(Measure::PickupDeadlines),
            Indicator::RefundOnlyHours => Term::Sum(Measure::RefundOnlyCompleted),
            Indicator::ReturnRefundHours => Term::Sum(Measure::ReturnRefundCompleted),
            Indicator::DisputeRefundRate => Term::Count(Measure::DisputesRefundedLiable),
            Indicator::ComplaintUpheldRate => Term::Count(Measure::ComplaintsUpheld),
            Indicator::ImReplyRate => Term::Sum(Measure::ChatDeadlines),
            Indicator::ImFirstReplySecs => Term::Sum(Measure::ChatReplies),
        }
    }

    /// The denominator of the indicator's ratio (its sample size, for `min_samples`).
    pub fn denominator(self) -> Term {
        match self {
            Indicator::DsrItem => Term::Count(Measure::Reviews),
            Indicator::Pickup24hRate => Term::Count(Measure::PickupDeadlines),
            Indicator::RefundOnlyHours => Term::Count(Measure::RefundOnlyCompleted),
            Indicator::ReturnRefundHours => Term::Count(Measure::ReturnRefundCompleted),
            Indicator::DisputeRefundRate | Indicator::ComplaintUpheldRate => Term::Count(Measure::OrdersPaid),
            Indicator::ImReplyRate => Term::Count(Measure::ChatDeadlines),
            Indicator::ImFirstReplySecs => Term::Count(Measure::ChatReplies),
        }
    }

    /// The numerator's unit divided by the value's unit: durations are summed in
    /// milliseconds and shown in hours or seconds.
    pub fn unit_divisor(self) -> i64 {
        match self {
            Indicator::RefundOnlyHours | Indicator::ReturnRefundHours => 3_600_000,
            Indicator::ImFirstReplySecs => 1_000,
            _ => 1,
        }
    }

    /// The unit of the value, for explanations.
    pub fn unit(self) -> &'static str {
        match self {
            Indicator::DsrItem => "points",
            Indicator::RefundOnlyHours | Indicator::ReturnRefundHours => "hours",
            Indicator::ImFirstReplySecs => "seconds",
            _ => "",
        }
    }

    /// Which direction is better.
    pub fn better(self) -> Better {
        match self {
            Indicator::DsrItem | Indicator::Pickup24hRate | Indicator::ImReplyRate => Better::Higher,
            _ => Better::Lower,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::from_name(i.name()), Some(i));
            assert_eq!(Indicator::ALL[i.index()], i);
        }
    }

    #[test]
    fn dispute_and_complaint_rates_share_the_orders_paid_denominator() {
        assert_eq!(Indicator::DisputeRefundRate.denominator(), Term::Count(Measure::OrdersPaid));
        assert_eq!(Indicator::ComplaintUpheldRate.denominator(), Term::Count(Measure::OrdersPaid));
    }
}
