//! The layout of one record of an IIO buffer, read from `scan_elements/`
//! (Documentation/ABI/testing/sysfs-bus-iio, "scan_elements"; the kernel's
//! `iio_compute_scan_bytes`).
//!
//! Each enabled element has an `index` (its order in the record) and a `type`
//! `[be|le]:[s|u]BITS/STORAGEBITS[XREPEAT]>>SHIFT`: the value sits in
//! STORAGEBITS of the given endianness, shifted left by SHIFT, BITS wide, signed
//! or not. Elements follow in index order, each aligned to its own storage size;
//! the record is padded to a multiple of the largest element.

/// One element's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanType {
    pub big_endian: bool,
    pub signed: bool,
    pub bits: u32,
    pub storage_bits: u32,
    pub repeat: u32,
    pub shift: u32,
}

impl ScanType {
    /// Parses `le:s16/16>>0`, `be:s12/16>>4`, `le:u10/16X3>>0`; the reason on failure.
    pub fn parse(text: &str) -> Result<ScanType, String> {
        let text = text.trim();
        let (endian, rest) = text.split_once(':').ok_or("no `:` after the endianness")?;
        let big_endian = match endian {
            "be" => true,
            "le" => false,
            other => return Err(format!("endianness `{other}` is neither `be` nor `le`")),
        };
        let (signed, rest) = match (rest.strip_prefix('s'), rest.strip_prefix('u')) {
            (Some(rest), _) => (true, rest),
            (_, Some(rest)) => (false, rest),
            _ => return Err("the sign is neither `s` nor `u`".into()),
        };
        let (sizes, shift) = rest.split_once(">>").ok_or("no `>>` before the shift")?;
        let (bits, storage) = sizes.split_once('/').ok_or("no `/` between the bits")?;
        let (storage, repeat) = storage.split_once('X').unwrap_or((storage, "1"));
        let num = |s: &str, what: &str| {
            s.parse::<u32>()
                .map_err(|_| format!("{what} `{s}` is not a whole number"))
        };
        let t = ScanType {
            big_endian,
            signed,
            bits: num(bits, "bits")?,
            storage_bits: num(storage, "storage bits")?,
            repeat: num(repeat, "repeat")?,
            shift: num(shift, "shift")?,
        };
        t.check().map(|()| t)
    }

    fn check(&self) -> Result<(), String> {
        if ![8, 16, 32, 64].contains(&self.storage_bits) {
            return Err(format!(
                "storage of {} bits (8, 16, 32 or 64 expected)",
                self.storage_bits
            ));
        }
        if self.bits == 0 || self.bits + self.shift > self.storage_bits || self.repeat == 0 {
            return Err(format!(
                "{} bits shifted by {} (repeat {}) do not fit {} storage bits",
                self.bits, self.shift, self.repeat, self.storage_bits
            ));
        }
        Ok(())
    }

    /// Bytes of one value in the record.
    pub fn value_bytes(&self) -> usize {
        self.storage_bits as usize / 8
    }

    /// Bytes the element takes: every repeat of its value.
    pub fn element_bytes(&self) -> usize {
        self.value_bytes() * self.repeat as usize
    }

    /// The (first) value from the element's bytes; `None` when too few bytes.
    pub fn decode(&self, bytes: &[u8]) -> Option<i64> {
        let raw = bytes.get(..self.value_bytes())?;
        let push = |word: u64, b: &u8| (word << 8) | u64::from(*b);
        let mut word = match self.big_endian {
            true => raw.iter().fold(0, push),
            false => raw.iter().rev().fold(0, push),
        };
        word >>= self.shift;
        if self.bits < 64 {
            word &= (1u64 << self.bits) - 1;
        }
        let value = match self.signed && self.bits < 64 {
            // Sign-extend: move the value's top bit to bit 63 and shift back.
            true => ((word << (64 - self.bits)) as i64) >> (64 - self.bits),
            false => word as i64,
        };
        Some(value)
    }
}

/// One enabled element, placed in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// `in_accel_x`, `in_timestamp`, ...
    pub name: String,
    pub index: u32,
    pub offset: usize,
    pub ty: ScanType,
}

/// Every enabled element of a record and the record's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanLayout {
    pub elements: Vec<Element>,
    pub record_bytes: usize,
}

impl ScanLayout {
    /// Places `(name, index, type)` elements in index order, each aligned to
    /// its size, and pads the record to the largest element (kernel rules).
    pub fn new(mut enabled: Vec<(String, u32, ScanType)>) -> ScanLayout {
        enabled.sort_by_key(|(_, index, _)| *index);
        let mut offset = 0;
        let mut largest = 1;
        let mut elements = Vec::with_capacity(enabled.len());
        for (name, index, ty) in enabled {
            let align = alignment(&ty);
            offset = round_up(offset, align);
            elements.push(Element {
                name,
                index,
                offset,
                ty,
            });
            offset += ty.element_bytes();
            largest = largest.max(align);
        }
        ScanLayout {
            elements,
            record_bytes: round_up(offset, largest),
        }
    }

    pub fn find(&self, name: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.name == name)
    }

    /// The value of `element` in `record`.
    pub fn value(&self, element: &Element, record: &[u8]) -> Option<i64> {
        element.ty.decode(record.get(element.offset..)?)
    }
}

/// The kernel aligns an element to its whole size when that is a power of
/// two, else (a repeat of 3) to one value.
fn alignment(ty: &ScanType) -> usize {
    let whole = ty.element_bytes();
    match whole.is_power_of_two() {
        true => whole,
        false => ty.value_bytes(),
    }
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align.max(1)) * align.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_with_and_without_repeat() {
        let t = ScanType::parse("be:s12/16>>4\n").unwrap();
        assert_eq!(
            (
                t.big_endian,
                t.signed,
                t.bits,
                t.storage_bits,
                t.repeat,
                t.shift
            ),
            (true, true, 12, 16, 1, 4)
        );
        let t = ScanType::parse("le:u10/16X3>>0").unwrap();
        assert_eq!((t.repeat, t.element_bytes()), (3, 6));
        assert!(ScanType::parse("xe:s16/16>>0")
            .unwrap_err()
            .contains("endianness"));
        assert!(ScanType::parse("le:s12/12>>0")
            .unwrap_err()
            .contains("storage of 12"));
        assert!(ScanType::parse("le:s16/16>>4")
            .unwrap_err()
            .contains("do not fit"));
        assert!(ScanType::parse("le:s16/16").is_err());
    }

    #[test]
    fn values_are_unshifted_masked_and_sign_extended() {
        let be12 = ScanType::parse("be:s12/16>>4").unwrap();
        // -3 as 12 bits = 0xFFD, shifted left 4 = 0xFFD0, big-endian, low nibble junk.
        assert_eq!(be12.decode(&[0xFF, 0xD7]), Some(-3));
        assert_eq!(be12.decode(&[0x7F, 0xF0]), Some(2047));
        let le32 = ScanType::parse("le:s32/32>>0").unwrap();
        assert_eq!(le32.decode(&(-123_456i32).to_le_bytes()), Some(-123_456));
        let u = ScanType::parse("le:u16/16>>0").unwrap();
        assert_eq!(u.decode(&[0xFF, 0xFF]), Some(65_535));
        let ts = ScanType::parse("le:s64/64>>0").unwrap();
        assert_eq!(ts.decode(&i64::MIN.to_le_bytes()), Some(i64::MIN));
        assert_eq!(ts.decode(&[0; 7]), None);
    }

    #[test]
    fn elements_are_aligned_and_the_record_padded() {
        let s16 = ScanType::parse("be:s16/16>>0").unwrap();
        let s64 = ScanType::parse("le:s64/64>>0").unwrap();
        let layout = ScanLayout::new(vec![
            ("in_timestamp".into(), 3, s64),
            ("in_accel_y".into(), 1, s16),
            ("in_accel_x".into(), 0, s16),
            ("in_accel_z".into(), 2, s16),
        ]);
        let offsets: Vec<(&str, usize)> = layout
            .elements
            .iter()
            .map(|e| (e.name.as_str(), e.offset))
            .collect();
        assert_eq!(
            offsets,
            [
                ("in_accel_x", 0),
                ("in_accel_y", 2),
                ("in_accel_z", 4),
                ("in_timestamp", 8)
            ]
        );
        assert_eq!(layout.record_bytes, 16);
        let two = ScanLayout::new(vec![
            ("a".into(), 0, s16),
            ("b".into(), 1, s64),
            ("c".into(), 2, s16),
        ]);
        assert_eq!((two.elements[2].offset, two.record_bytes), (16, 24));
    }
}
