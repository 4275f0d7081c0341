//! The decay factor `2^(-age / half_life)` by table lookup, and the age
//! test every strategy shares.

/// Number of low age bits resolved by the `lo` decay table.
pub(super) const LO_BITS: u32 = 12;
/// Length of the `lo` decay table.
pub(super) const LO_LEN: usize = 1 << LO_BITS;
/// Mask selecting the low age bits.
pub(super) const LO_MASK: u64 = (LO_LEN as u64) - 1;
/// Longest `hi` decay table (ages up to 2^28 s, about 8.5 years, use tables).
pub(super) const HI_MAX_LEN: usize = 1 << 16;

/// Decay lookup tables: `2^(-age/h) ≈ hi[age >> 12] * lo[age & 4095]`.
#[derive(Debug)]
pub(super) struct DecayTable {
    pub(super) key: Option<(u64, u64)>,
    pub(super) half_life: f64,
    pub(super) hi: Vec<f64>,
    pub(super) lo: Box<[f64; LO_LEN]>,
}

impl Default for DecayTable {
    fn default() -> Self {
        Self {
            key: None,
            half_life: 1.0,
            hi: Vec::new(),
            lo: Box::new([0.0; LO_LEN]),
        }
    }
}

impl DecayTable {
    /// Rebuilds the tables if `half_life` or `max_age` changed.
    pub(super) fn ensure(&mut self, half_life: f64, max_age: u64) {
        let key = (half_life.to_bits(), max_age);
        if self.key == Some(key) {
            return;
        }
        self.half_life = half_life;
        for (i, slot) in self.lo.iter_mut().enumerate() {
            *slot = exact_decay(i as u64, half_life);
        }
        let hi_len = usize::try_from(max_age >> LO_BITS)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(HI_MAX_LEN);
        self.hi.clear();
        self.hi
            .extend((0..hi_len as u64).map(|j| exact_decay(j << LO_BITS, half_life)));
        self.key = Some(key);
    }

    /// `2^(-age/half_life)` for `age` in `[0, max_age]`.
    #[inline(always)]
    pub(super) fn factor(&self, age: u64) -> f64 {
        let lo = self
            .lo
            .get((age & LO_MASK) as usize)
            .copied()
            .unwrap_or(0.0);
        let hi_index = usize::try_from(age >> LO_BITS).unwrap_or(usize::MAX);
        match self.hi.get(hi_index) {
            Some(&hi) => hi * lo,
            None => exact_decay(age, self.half_life),
        }
    }
}

/// `2^(-age/half_life)` computed directly.
#[inline]
pub(super) fn exact_decay(age: u64, half_life: f64) -> f64 {
    (-(age as f64) / half_life).exp2()
}

/// Age of an event and whether it counts (`0 <= now - ts <= max_age`);
/// the returned age is 0 for events that do not count.
#[inline(always)]
pub(super) fn age_of(now: i64, ts: i64, max_age: u64) -> (u64, bool) {
    let (age, overflow) = now.overflowing_sub(ts);
    // An overflowing difference is either below i64::MIN or above i64::MAX,
    // so it is outside [0, max_age] either way. Negative ages wrap to huge
    // unsigned values and fail the comparison.
    let valid = !overflow & ((age as u64) <= max_age);
    (if valid { age as u64 } else { 0 }, valid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decay_table_matches_exp2() {
        let mut t = DecayTable::default();
        let h = 14.0 * 86_400.0;
        t.ensure(h, 56 * 86_400);
        for age in (0..56 * 86_400).step_by(997) {
            let exact = exact_decay(age, h);
            assert!(
                (t.factor(age) - exact).abs() <= 4.0 * f64::EPSILON * exact,
                "{age}"
            );
        }
    }
}
