//! [`Exact`]: an exact rational held as two `i128` while it fits (the common case:
//! rates, curve points, weights) and as a [`BigRational`] once it does not. Every
//! operation is exact either way; the small form only avoids the heap. Equality,
//! order and hashing do not depend on the form.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::iter::Sum;
use std::ops::{Add, Div, Mul, Neg, Sub};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// An exact rational number.
#[derive(Clone)]
pub struct Exact(Repr);

#[derive(Clone)]
enum Repr {
    /// `n / d` in lowest terms, `d > 0`.
    Small(i128, i128),
    /// Anything else, in lowest terms (num-rational keeps it so).
    Big(BigRational),
}

fn gcd(a: i128, b: i128) -> u128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    if let (Ok(x), Ok(y)) = (u64::try_from(a), u64::try_from(b)) {
        return u128::from(gcd64(x, y));
    }
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// Binary gcd on 64 bits (most values here fit, and u128 steps cost more).
fn gcd64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// `n / d` for a divisor known to divide `n`, on 64 bits when both fit.
fn exact_div(n: i128, d: i128) -> i128 {
    if d == 1 {
        return n;
    }
    match (i64::try_from(n), i64::try_from(d)) {
        (Ok(n), Ok(d)) => i128::from(n / d),
        _ => n / d,
    }
}

impl Exact {
    /// `n / d`; `d` must not be zero.
    pub fn new(n: i128, d: i128) -> Exact {
        assert!(d != 0, "an exact ratio with a zero denominator");
        Exact::small(n, d).unwrap_or_else(|| Exact::from_big(BigRational::new(BigInt::from(n), BigInt::from(d))))
    }

    /// An integer.
    pub fn from_int(n: i128) -> Exact {
        Exact(Repr::Small(n, 1))
    }

    /// Zero.
    pub fn zero() -> Exact {
        Exact(Repr::Small(0, 1))
    }

    /// Reduced small form, or `None` when it does not fit.
    fn small(n: i128, d: i128) -> Option<Exact> {
        let g = gcd(n, d);
        let g = i128::try_from(g).ok()?;
        let (mut n, mut d) = (exact_div(n, g), exact_div(d, g));
        if d < 0 {
            n = n.checked_neg()?;
            d = d.checked_neg()?;
        }
        Some(Exact(Repr::Small(n, d)))
    }

    /// From a big rational (reduced by num-rational), in the small form when it fits.
    pub fn from_big(value: BigRational) -> Exact {
        match (value.numer().to_i128(), value.denom().to_i128()) {
            (Some(n), Some(d)) => Exact(Repr::Small(n, d)),
            _ => Exact(Repr::Big(value)),
        }
    }

    /// As a big rational.
    pub fn to_big(&self) -> BigRational {
        match &self.0 {
            Repr::Small(n, d) => BigRational::new_raw(BigInt::from(*n), BigInt::from(*d)),
            Repr::Big(b) => b.clone(),
        }
    }

    /// Is it zero?
    pub fn is_zero(&self) -> bool {
        match &self.0 {
            Repr::Small(n, _) => *n == 0,
            Repr::Big(b) => b.is_zero(),
        }
    }

    /// Is it below zero?
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Small(n, _) => *n < 0,
            Repr::Big(b) => b.is_negative(),
        }
    }

    /// Is it a whole number?
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Small(_, d) => *d == 1,
            Repr::Big(b) => b.is_integer(),
        }
    }

    /// The absolute value.
    pub fn abs(&self) -> Exact {
        if self.is_negative() { -self } else { self.clone() }
    }

    /// The largest integer not above it.
    pub fn floor(&self) -> Exact {
        match &self.0 {
            Repr::Small(n, d) => Exact(Repr::Small(n.div_euclid(*d), 1)),
            Repr::Big(b) => Exact::from_big(b.floor()),
        }
    }

    /// The integer part (toward zero), when it fits an `i64`.
    pub fn trunc_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Small(n, d) => i64::try_from(n / d).ok(),
            Repr::Big(b) => b.to_integer().to_i64(),
        }
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> Option<f64> {
        match &self.0 {
            // Both exactly representable: one correctly rounded division.
            Repr::Small(n, d) if n.unsigned_abs() < (1 << 53) && *d < (1 << 53) => Some(*n as f64 / *d as f64),
            _ => self.to_big().to_f64(),
        }
    }

    fn binary(
        &self,
        other: &Exact,
        small: impl Fn(i128, i128, i128, i128) -> Option<Exact>,
        big: impl Fn(&BigRational, &BigRational) -> BigRational,
    ) -> Exact {
        if let (Repr::Small(a, b), Repr::Small(c, d)) = (&self.0, &other.0)
            && let Some(r) = small(*a, *b, *c, *d)
        {
            return r;
        }
        Exact::from_big(big(&self.to_big(), &other.to_big()))
    }
}

/// `x` when it is below 2⁶² in magnitude: a product of two such is below 2¹²⁴, a
/// sum of two such products below 2¹²⁵, so neither needs an overflow check.
fn narrow(x: i128) -> Option<i64> {
    (x.unsigned_abs() < 1 << 62).then_some(x as i64)
}

/// `a/b + c/d` (both in lowest terms, `b, d > 0`) as Knuth gives it (TAOCP 4.5.1):
/// with `g = gcd(b, d)`, `t = a·(d/g) + c·(b/g)` and `g2 = gcd(t, g)`, the sum in
/// lowest terms is `(t/g2) / ((b/g)·(d/g2))`. The only gcd besides `g` is with `g`,
/// which is small, and coprime denominators (`g = 1`) need none.
fn add_small(a: i128, b: i128, c: i128, d: i128) -> Option<Exact> {
    if let (Some(a), Some(b), Some(c), Some(d)) = (narrow(a), narrow(b), narrow(c), narrow(d)) {
        // Below 2⁶²: products below 2¹²⁴, sums of two below 2¹²⁵, no overflow checks.
        let g = gcd64(b as u64, d as u64) as i64;
        let (a, b, c, d) = (i128::from(a), i128::from(b), i128::from(c), i128::from(d));
        if g == 1 {
            return Some(Exact(Repr::Small(a * d + c * b, b * d)));
        }
        let (bg, dg) = (i128::from(b as i64 / g), i128::from(d as i64 / g));
        return sum_in_lowest_terms(a * dg + c * bg, bg, d, i128::from(g));
    }
    let g = i128::try_from(gcd(b, d)).ok()?;
    let (bg, dg) = (exact_div(b, g), exact_div(d, g));
    sum_in_lowest_terms(a.checked_mul(dg)?.checked_add(c.checked_mul(bg)?)?, bg, d, g)
}

/// The last step of [`add_small`]: `t / (bg · d)` reduced by `gcd(t, g)`; `None`
/// when the denominator does not fit.
fn sum_in_lowest_terms(t: i128, bg: i128, d: i128, g: i128) -> Option<Exact> {
    if t == 0 {
        return Some(Exact::zero());
    }
    // gcd(t, g) = gcd(t mod g, g), on 64 bits when g fits (it divides a denominator).
    let g2 = match (u64::try_from(g), u64::try_from(t.unsigned_abs())) {
        (Ok(g), Ok(t)) => i128::from(gcd64(t % g, g)),
        (Ok(g), Err(_)) => i128::from(gcd64((t.unsigned_abs() % u128::from(g)) as u64, g)),
        _ => gcd(t, g) as i128,
    };
    Some(Exact(Repr::Small(exact_div(t, g2), bg.checked_mul(exact_div(d, g2))?)))
}

fn sub_small(a: i128, b: i128, c: i128, d: i128) -> Option<Exact> {
    add_small(a, b, c.checked_neg()?, d)
}

fn mul_small(a: i128, b: i128, c: i128, d: i128) -> Option<Exact> {
    if let (Some(a), Some(b), Some(c), Some(d)) = (narrow(a), narrow(b), narrow(c), narrow(d)) {
        // `b` is positive; `d` may be negative (a division passes the divisor's
        // numerator here). Lowest terms as below, products without overflow checks.
        let g1 = (gcd64(a.unsigned_abs(), d.unsigned_abs()) as i64).max(1);
        let g2 = (gcd64(c.unsigned_abs(), b.unsigned_abs()) as i64).max(1);
        let (n, d) = (i128::from(a / g1) * i128::from(c / g2), i128::from(b / g2) * i128::from(d / g1));
        return Some(Exact(if d < 0 { Repr::Small(-n, -d) } else { Repr::Small(n, d) }));
    }
    let g1 = i128::try_from(gcd(a, d)).ok()?.max(1);
    let g2 = i128::try_from(gcd(c, b)).ok()?.max(1);
    let (a, d) = (exact_div(a, g1), exact_div(d, g1));
    let (c, b) = (exact_div(c, g2), exact_div(b, g2));
    // Already in lowest terms: gcd(a, b) = gcd(c, d) = 1 and the cross factors are gone.
    let (n, d) = (a.checked_mul(c)?, b.checked_mul(d)?);
    if d < 0 { Some(Exact(Repr::Small(n.checked_neg()?, d.checked_neg()?))) } else { Some(Exact(Repr::Small(n, d))) }
}

fn div_small(a: i128, b: i128, c: i128, d: i128) -> Option<Exact> {
    assert!(c != 0, "exact division by zero");
    mul_small(a, b, d, c)
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $small:ident) => {
        impl $trait<&Exact> for &Exact {
            type Output = Exact;
            fn $method(self, other: &Exact) -> Exact {
                self.binary(other, $small, |x, y| x.$method(y))
            }
        }
        impl $trait<Exact> for &Exact {
            type Output = Exact;
            fn $method(self, other: Exact) -> Exact {
                self.$method(&other)
            }
        }
        impl $trait<&Exact> for Exact {
            type Output = Exact;
            fn $method(self, other: &Exact) -> Exact {
                (&self).$method(other)
            }
        }
        impl $trait<Exact> for Exact {
            type Output = Exact;
            fn $method(self, other: Exact) -> Exact {
                (&self).$method(&other)
            }
        }
    };
}

binary_op!(Add, add, add_small);
binary_op!(Sub, sub, sub_small);
binary_op!(Mul, mul, mul_small);
binary_op!(Div, div, div_small);

impl Neg for &Exact {
    type Output = Exact;
    fn neg(self) -> Exact {
        match &self.0 {
            Repr::Small(n, d) => match n.checked_neg() {
                Some(n) => Exact(Repr::Small(n, *d)),
                None => Exact::from_big(-self.to_big()),
            },
            Repr::Big(b) => Exact::from_big(-b),
        }
    }
}

impl Neg for Exact {
    type Output = Exact;
    fn neg(self) -> Exact {
        -&self
    }
}

impl Sum for Exact {
    fn sum<I: Iterator<Item = Exact>>(iter: I) -> Exact {
        iter.fold(Exact::zero(), |a, b| a + b)
    }
}

impl<'a> Sum<&'a Exact> for Exact {
    fn sum<I: Iterator<Item = &'a Exact>>(iter: I) -> Exact {
        iter.fold(Exact::zero(), |a, b| a + b)
    }
}

impl Default for Exact {
    fn default() -> Exact {
        Exact::zero()
    }
}

impl PartialEq for Exact {
    fn eq(&self, other: &Exact) -> bool {
        match (&self.0, &other.0) {
            // Both forms are in lowest terms, and a value that fits is always small.
            (Repr::Small(a, b), Repr::Small(c, d)) => a == c && b == d,
            (Repr::Big(x), Repr::Big(y)) => x == y,
            _ => false,
        }
    }
}

impl Eq for Exact {}

impl Ord for Exact {
    fn cmp(&self, other: &Exact) -> Ordering {
        if let (Repr::Small(a, b), Repr::Small(c, d)) = (&self.0, &other.0)
            && let (Some(l), Some(r)) = (a.checked_mul(*d), c.checked_mul(*b))
        {
            return l.cmp(&r);
        }
        self.to_big().cmp(&other.to_big())
    }
}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Exact) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Exact {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Small(n, d) => (n, d).hash(state),
            Repr::Big(b) => b.hash(state),
        }
    }
}

impl std::fmt::Debug for Exact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Small(n, d) => write!(f, "{n}/{d}"),
            Repr::Big(b) => write!(f, "{b}"),
        }
    }
}

impl std::fmt::Display for Exact {
    /// As num-rational writes it: `n/d`, or `n` for a whole number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Small(n, 1) => write!(f, "{n}"),
            Repr::Small(n, d) => write!(f, "{n}/{d}"),
            Repr::Big(b) => write!(f, "{b}"),
        }
    }
}

impl One for Exact {
    fn one() -> Exact {
        Exact::from_int(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(n: i128, d: i128) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    /// The small form is reduced with a positive denominator (0 as 0/1).
    fn lowest_terms(x: &Exact) -> bool {
        match &x.0 {
            Repr::Small(n, d) => *d > 0 && gcd(*n, *d) == 1,
            Repr::Big(_) => true,
        }
    }

    fn any_ratio() -> impl Strategy<Value = (i128, i128)> {
        prop_oneof![
            (-1000i128..1000, 1i128..1000),
            // Around the 2⁶² bound of the unchecked fast paths.
            (prop_oneof![(1i128 << 62) - 3..(1i128 << 62) + 3, -(1i128 << 62) - 3..-(1i128 << 62) + 3], 1i128..5),
            (-5i128..5, prop_oneof![(1i128 << 62) - 3..(1i128 << 62) + 3, -(1i128 << 62) - 3..-(1i128 << 62) + 3]),
            (any::<i64>().prop_map(i128::from), (1i64..i64::MAX).prop_map(i128::from)),
            (any::<i128>(), any::<i128>().prop_filter("non-zero", |d| *d != 0)),
        ]
    }

    proptest! {
        /// Every operation equals num-rational's, whichever form the operands and
        /// the results take (small, overflowing into big, big back into small).
        #[test]
        fn agrees_with_big_rationals((a, b) in any_ratio(), (c, d) in any_ratio()) {
            let (x, y) = (Exact::new(a, b), Exact::new(c, d));
            let (bx, by) = (big(a, b), big(c, d));
            prop_assert_eq!((&x + &y).to_big(), &bx + &by);
            for r in [&x + &y, &x - &y, &x * &y] {
                prop_assert!(lowest_terms(&r), "{:?} is not in lowest terms", r);
            }
            prop_assert_eq!((&x - &y).to_big(), &bx - &by);
            prop_assert_eq!((&x * &y).to_big(), &bx * &by);
            if c != 0 {
                prop_assert_eq!((&x / &y).to_big(), &bx / &by);
            }
            prop_assert_eq!(x.cmp(&y), bx.cmp(&by));
            prop_assert_eq!(x == y, bx == by);
            prop_assert_eq!((-&x).to_big(), -bx.clone());
            prop_assert_eq!(x.floor().to_big(), bx.floor());
            prop_assert_eq!(x.to_f64(), bx.to_f64());
            // A round trip through big keeps the value and the form.
            prop_assert_eq!(Exact::from_big(x.to_big()), x.clone());
            // Products of products leave i128 and come back.
            let far = &(&x * &y) * &(&x * &y);
            prop_assert_eq!(far.to_big(), (&bx * &by) * (&bx * &by));
        }
    }

    #[test]
    fn basics() {
        assert_eq!(Exact::new(2, 4), Exact::new(-1, -2));
        assert!(Exact::new(-1, 3).is_negative());
        assert_eq!(Exact::new(-7, 2).floor(), Exact::from_int(-4));
        assert_eq!(Exact::new(7, 2).trunc_i64(), Some(3));
        assert_eq!(Exact::new(i128::MIN, 1).abs().to_big(), big(i128::MIN, 1).abs());
        let s: Exact = [Exact::new(1, 3), Exact::new(1, 6)].iter().sum();
        assert_eq!(s, Exact::new(1, 2));
    }
}
