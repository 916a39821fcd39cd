//! Per-store, per-business-day partial aggregates.
//!
//! Every indicator is a ratio of window sums of these measures, so the events are
//! aggregated once (per store and business day of their anchor instant) and every
//! rolling window, of any length, is derived from the daily partials. Sums and counts
//! merge by addition, which is what makes incremental days and a distributed
//! aggregation possible without changing the scoring.

use std::fmt;

/// A partial aggregate computed per store and business day of its anchor instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Reviews by `created_at`: sum of `item_score`, count of reviews.
    Reviews,
    /// Orders by pickup deadline `paid_at + pickup deadline`: on-time pickups, orders.
    PickupDeadlines,
    /// Orders by `paid_at`: count of orders paid (the sum is unused, 0).
    OrdersPaid,
    /// `refund_only` refunds by `completed_at`: sum of durations in ms, count.
    RefundOnlyCompleted,
    /// `return_refund` refunds by `completed_at`: sum of durations in ms, count.
    ReturnRefundCompleted,
    /// Disputes by `closed_at` with `refunded` and `merchant_liable`: count.
    DisputesRefundedLiable,
    /// Complaints by `decided_at` with `upheld`: count.
    ComplaintsUpheld,
    /// Chats by reply deadline `started_at + reply deadline`: replied on time, chats.
    ChatDeadlines,
    /// Answered chats by `first_human_reply_at`: sum of reply delays in ms, count.
    ChatReplies,
}

impl Measure {
    /// Every measure; the position is the stable numeric code stored in partials.
    pub const ALL: [Measure; 9] = [
        Measure::Reviews,
        Measure::PickupDeadlines,
        Measure::OrdersPaid,
        Measure::RefundOnlyCompleted,
        Measure::ReturnRefundCompleted,
        Measure::DisputesRefundedLiable,
        Measure::ComplaintsUpheld,
        Measure::ChatDeadlines,
        Measure::ChatReplies,
    ];

    /// Stable numeric code (position in [`Measure::ALL`]).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The measure of a numeric code.
    pub fn from_code(code: u8) -> Option<Measure> {
        Measure::ALL.get(usize::from(code)).copied()
    }

    /// A short snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Reviews => "reviews",
            Measure::PickupDeadlines => "pickup_deadlines",
            Measure::OrdersPaid => "orders_paid",
            Measure::RefundOnlyCompleted => "refund_only_completed",
            Measure::ReturnRefundCompleted => "return_refund_completed",
            Measure::DisputesRefundedLiable => "disputes_refunded_liable",
            Measure::ComplaintsUpheld => "complaints_upheld",
            Measure::ChatDeadlines => "chat_deadlines",
            Measure::ChatReplies => "chat_replies",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A sum and a count; adding two gives the aggregate over both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeasureSums {
    /// Sum of the measure's values.
    pub sum: i64,
    /// Number of events.
    pub count: i64,
}

impl std::ops::Add for MeasureSums {
    type Output = MeasureSums;
    fn add(self, rhs: MeasureSums) -> MeasureSums {
        MeasureSums { sum: self.sum + rhs.sum, count: self.count + rhs.count }
    }
}

impl std::ops::Sub for MeasureSums {
    type Output = MeasureSums;
    fn sub(self, rhs: MeasureSums) -> MeasureSums {
        MeasureSums { sum: self.sum - rhs.sum, count: self.count - rhs.count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for m in Measure::ALL {
            assert_eq!(Measure::from_code(m.code()), Some(m));
        }
        assert_eq!(Measure::from_code(200), None);
    }
}
