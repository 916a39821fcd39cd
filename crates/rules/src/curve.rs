//! Piecewise-linear score curves (SPEC §4).

use dengta_model::exact::{self, Exact};

/// A curve of `(value, score)` points sorted by value; linear between points and
/// clamped outside the first and last.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    points: Vec<(Exact, Exact)>,
    /// The slope of each segment, `(s1 - s0) / (v1 - v0)`, worked out once: a score
    /// is then one subtraction, one product and one sum (the same exact value).
    slopes: Vec<Exact>,
}

/// Where a value fell on a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// At or below the first point's value: the first point's score.
    BelowFirst,
    /// Between point `i` and point `i + 1` (0-based), interpolated.
    Between(usize),
    /// At or above the last point's value: the last point's score.
    AboveLast,
}

impl Curve {
    /// A curve from points already checked to be sorted, distinct and at least two.
    pub(crate) fn new(points: Vec<(Exact, Exact)>) -> Curve {
        let slopes = points.windows(2).map(|w| (&w[1].1 - &w[0].1) / (&w[1].0 - &w[0].0)).collect();
        Curve { points, slopes }
    }

    /// The points, sorted by value.
    pub fn points(&self) -> &[(Exact, Exact)] {
        &self.points
    }

    /// The score of a value and the segment used.
    pub fn score(&self, value: &Exact) -> (Exact, Segment) {
        let first = &self.points[0];
        let last = &self.points[self.points.len() - 1];
        if *value <= first.0 {
            return (first.1.clone(), Segment::BelowFirst);
        }
        if *value >= last.0 {
            return (last.1.clone(), Segment::AboveLast);
        }
        // First point strictly above the value; the value is > points[0].0 here.
        let upper = self.points.partition_point(|(v, _)| v <= value);
        let (v0, s0) = &self.points[upper - 1];
        let score = s0 + (value - v0) * &self.slopes[upper - 1];
        (score, Segment::Between(upper - 1))
    }

    /// Describes a segment in words, for explanations.
    pub fn describe(&self, segment: Segment) -> String {
        let p = |i: usize| {
            let (v, s) = &self.points[i];
            format!("({}, {})", exact::format_trimmed(v, 6), exact::format_trimmed(s, 6))
        };
        match segment {
            Segment::BelowFirst => format!("at or below the first point {}, clamped", p(0)),
            Segment::AboveLast => {
                format!("at or above the last point {}, clamped", p(self.points.len() - 1))
            }
            Segment::Between(i) => format!("between {} and {}, linear", p(i), p(i + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dengta_model::exact::{int, ratio};

    fn dsr() -> Curve {
        Curve::new(vec![
            (int(3), int(0)),
            (int(4), int(2)),
            (ratio(45, 10), ratio(35, 10)),
            (ratio(48, 10), ratio(45, 10)),
            (int(5), int(5)),
        ])
    }

    fn refund_hours() -> Curve {
        Curve::new(vec![(int(2), int(5)), (int(12), int(4)), (int(24), int(3)), (int(48), int(2)), (int(72), int(0))])
    }

    #[test]
    fn interpolates_and_clamps() {
        let c = dsr();
        assert_eq!(c.score(&int(2)), (int(0), Segment::BelowFirst));
        assert_eq!(c.score(&int(3)), (int(0), Segment::BelowFirst));
        assert_eq!(c.score(&ratio(35, 10)).0, int(1));
        assert_eq!(c.score(&ratio(35, 10)).1, Segment::Between(0));
        // A point itself: the score of the point.
        assert_eq!(c.score(&ratio(45, 10)).0, ratio(35, 10));
        // 4.9 is half-way between (4.8, 4.5) and (5.0, 5): 4.75.
        assert_eq!(c.score(&ratio(49, 10)), (ratio(475, 100), Segment::Between(3)));
        assert_eq!(c.score(&int(5)), (int(5), Segment::AboveLast));
    }

    #[test]
    fn falling_curves_for_lower_is_better() {
        let c = refund_hours();
        assert_eq!(c.score(&int(1)).0, int(5));
        // 18 h is half-way between (12, 4) and (24, 3): 3.5.
        assert_eq!(c.score(&int(18)).0, ratio(7, 2));
        assert_eq!(c.score(&int(100)).0, int(0));
    }

    #[test]
    fn describes_segments() {
        let c = dsr();
        assert_eq!(c.describe(Segment::Between(3)), "between (4.8, 4.5) and (5, 5), linear");
        assert_eq!(c.describe(Segment::BelowFirst), "at or below the first point (3, 0), clamped");
    }
}
