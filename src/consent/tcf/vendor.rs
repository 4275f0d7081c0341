//! Vendor sets: the vendor consent, legitimate interest, disclosed and
//! allowed vendor sections, kept as canonical ranges with their encoding.

use serde::{Deserialize, Serialize};

use super::error::{invalid_model, TcfError};

/// How a vendor section is encoded in the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorEncoding {
    /// One bit per vendor id from 1 to `max_vendor_id`.
    Bitfield,
    /// A list of single ids and inclusive id ranges.
    Range,
}

/// An inclusive range of vendor ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VendorRange {
    /// First vendor id.
    pub start: u16,
    /// Last vendor id (equal to `start` for a single id).
    pub end: u16,
}

impl VendorRange {
    /// A range holding one vendor id.
    pub const fn single(id: u16) -> Self {
        VendorRange { start: id, end: id }
    }

    /// Whether `id` lies in the range.
    pub const fn contains(&self, id: u16) -> bool {
        self.start <= id && id <= self.end
    }
}

/// A set of vendor ids together with its encoding parameters.
///
/// Invariants (kept by every constructor, mutator and by deserialization):
/// ids lie in `1..=max_vendor_id` and are stored as sorted, disjoint,
/// non-adjacent ranges, so equal sets compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VendorSetRepr", into = "VendorSetRepr")]
pub struct VendorSet {
    pub(super) max_vendor_id: u16,
    pub(super) encoding: VendorEncoding,
    pub(super) ranges: Vec<VendorRange>,
}

#[derive(Serialize, Deserialize)]
struct VendorSetRepr {
    max_vendor_id: u16,
    encoding: VendorEncoding,
    ranges: Vec<VendorRange>,
}

impl TryFrom<VendorSetRepr> for VendorSet {
    type Error = TcfError;

    fn try_from(repr: VendorSetRepr) -> Result<Self, Self::Error> {
        let mut set = VendorSet::new(repr.encoding);
        set.max_vendor_id = repr.max_vendor_id;
        for range in repr.ranges {
            if range.end > repr.max_vendor_id {
                return Err(invalid_model(
                    "vendor_set.ranges",
                    format!(
                        "vendor id {} exceeds max_vendor_id {}",
                        range.end, repr.max_vendor_id
                    ),
                ));
            }
            set.insert_range(range)?;
        }
        Ok(set)
    }
}

impl From<VendorSet> for VendorSetRepr {
    fn from(set: VendorSet) -> Self {
        VendorSetRepr {
            max_vendor_id: set.max_vendor_id,
            encoding: set.encoding,
            ranges: set.ranges,
        }
    }
}

/// Largest number of entries a 12-bit `NumEntries` field can announce.
pub(super) const MAX_RANGE_ENTRIES: usize = 0xFFF;

impl VendorSet {
    /// An empty set with `max_vendor_id` 0.
    pub const fn new(encoding: VendorEncoding) -> Self {
        VendorSet {
            max_vendor_id: 0,
            encoding,
            ranges: Vec::new(),
        }
    }

    /// A set of the given ids, with `max_vendor_id` equal to the largest id
    /// and the encoding chosen by [`Self::optimal_encoding`].
    ///
    /// Fails if an id is 0.
    pub fn from_ids(ids: impl IntoIterator<Item = u16>) -> Result<Self, TcfError> {
        let mut set = VendorSet::new(VendorEncoding::Bitfield);
        for id in ids {
            set.insert(id)?;
        }
        set.encoding = set.optimal_encoding();
        Ok(set)
    }

    /// The `MaxVendorId` written for this set.
    pub const fn max_vendor_id(&self) -> u16 {
        self.max_vendor_id
    }

    /// Sets `MaxVendorId`; fails if it is below the largest id in the set.
    pub fn set_max_vendor_id(&mut self, max_vendor_id: u16) -> Result<(), TcfError> {
        match self.ranges.last() {
            Some(last) if last.end > max_vendor_id => Err(invalid_model(
                "vendor_set.max_vendor_id",
                format!(
                    "{max_vendor_id} is below the largest vendor id {}",
                    last.end
                ),
            )),
            _ => {
                self.max_vendor_id = max_vendor_id;
                Ok(())
            }
        }
    }

    /// The encoding used when the set is written.
    pub const fn encoding(&self) -> VendorEncoding {
        self.encoding
    }

    /// Changes the encoding used when the set is written.
    pub fn set_encoding(&mut self, encoding: VendorEncoding) {
        self.encoding = encoding;
    }

    /// The encoding giving the shorter output (bit field on a tie, or when
    /// the set needs more range entries than a string can hold).
    pub fn optimal_encoding(&self) -> VendorEncoding {
        if self.ranges.len() > MAX_RANGE_ENTRIES {
            return VendorEncoding::Bitfield;
        }
        let range_bits: usize = 12
            + self
                .ranges
                .iter()
                .map(|r| if r.start == r.end { 17 } else { 33 })
                .sum::<usize>();
        if range_bits < usize::from(self.max_vendor_id) {
            VendorEncoding::Range
        } else {
            VendorEncoding::Bitfield
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u16) -> bool {
        let idx = self.ranges.partition_point(|r| r.end < id);
        self.ranges.get(idx).is_some_and(|r| r.start <= id)
    }

    /// Adds a vendor id, raising `max_vendor_id` if needed. Returns whether
    /// the id was new; fails for id 0.
    pub fn insert(&mut self, id: u16) -> Result<bool, TcfError> {
        if self.contains(id) {
            return Ok(false);
        }
        self.insert_range(VendorRange::single(id))?;
        Ok(true)
    }

    /// Adds an inclusive range of vendor ids, raising `max_vendor_id` if
    /// needed. Fails if the range starts at 0 or ends before it starts.
    pub fn insert_range(&mut self, range: VendorRange) -> Result<(), TcfError> {
        if range.start == 0 {
            return Err(invalid_model(
                "vendor_set.ranges",
                "vendor id 0 is not valid",
            ));
        }
        if range.start > range.end {
            return Err(invalid_model(
                "vendor_set.ranges",
                format!("range start {} greater than end {}", range.start, range.end),
            ));
        }
        self.max_vendor_id = self.max_vendor_id.max(range.end);
        // Ranges in `lo..hi` overlap or touch the new one; `lo <= hi` because
        // the stored ranges are sorted, disjoint and non-adjacent.
        let lo = self
            .ranges
            .partition_point(|r| r.end.saturating_add(1) < range.start);
        let hi = self
            .ranges
            .partition_point(|r| r.start <= range.end.saturating_add(1));
        let mut merged = range;
        if let Some(touching) = self.ranges.get(lo..hi) {
            if let (Some(first), Some(last)) = (touching.first(), touching.last()) {
                merged.start = merged.start.min(first.start);
                merged.end = merged.end.max(last.end);
            }
            self.ranges.splice(lo..hi, [merged]);
        } else {
            self.ranges.push(range);
            self.ranges = canonicalize(std::mem::take(&mut self.ranges));
        }
        Ok(())
    }

    /// The ids as sorted, disjoint, non-adjacent inclusive ranges.
    pub fn ranges(&self) -> &[VendorRange] {
        &self.ranges
    }

    /// Iterates over the ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.ranges.iter().flat_map(|r| r.start..=r.end)
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.ranges
            .iter()
            .map(|r| usize::from(r.end - r.start) + 1)
            .sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Sorts ranges and merges overlapping or adjacent ones. Callers guarantee
/// `start <= end` for each range.
pub(super) fn canonicalize(mut ranges: Vec<VendorRange>) -> Vec<VendorRange> {
    ranges.sort_unstable();
    let mut out: Vec<VendorRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(1) => {
                last.end = last.end.max(range.end);
            }
            _ => out.push(range),
        }
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]
mod tests {
    use super::*;

    #[test]
    fn vendor_set_api() {
        let mut set = VendorSet::from_ids([1, 8, 755]).unwrap();
        assert_eq!(set.max_vendor_id(), 755);
        assert_eq!(set.encoding(), VendorEncoding::Range);
        assert_eq!(set.len(), 3);
        assert!(set.contains(8) && !set.contains(9) && !set.contains(0));
        assert_eq!(set.insert(9), Ok(true));
        assert_eq!(set.insert(9), Ok(false));
        assert_eq!(
            set.ranges(),
            [
                VendorRange::single(1),
                VendorRange { start: 8, end: 9 },
                VendorRange::single(755)
            ]
        );
        assert!(set.insert(0).is_err());
        assert!(set.insert_range(VendorRange { start: 3, end: 2 }).is_err());
        assert!(set.set_max_vendor_id(754).is_err());
        assert!(set.set_max_vendor_id(800).is_ok());
        set.insert_range(VendorRange { start: 2, end: 7 }).unwrap();
        assert_eq!(
            set.ranges(),
            [VendorRange { start: 1, end: 9 }, VendorRange::single(755)]
        );
        assert_eq!(set.iter().count(), 10);
        assert_eq!(
            VendorSet::from_ids(1..=20).unwrap().encoding(),
            VendorEncoding::Bitfield
        );
        assert!(VendorSet::from_ids([0]).is_err());
        assert!(VendorSet::new(VendorEncoding::Range).is_empty());
    }
}
