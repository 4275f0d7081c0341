//! Keyed pseudonyms: [`KeySecret`] and [`SubjectKey`].

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

type HmacSha256 = Hmac<Sha256>;

/// The normalization applied to every identifier before it is keyed
/// ([`SubjectKey::derive`]) or hashed
/// ([`AdExclusionList`](super::AdExclusionList)), so that both sides of an
/// export derive the same key from their own spelling of one address.
///
/// The rule, in this order:
/// 1. trim surrounding whitespace ([`str::trim`]: Unicode `White_Space`,
///    so tabs, line breaks and no-break spaces too);
/// 2. bring the text into Unicode Normalization Form C (NFC, UAX #15), so a
///    composed `é` (U+00E9) and a decomposed `e` + U+0301 are one letter;
/// 3. lowercase it with Unicode rules ([`str::to_lowercase`]);
/// 4. bring the result into NFC again (lowercasing can leave a letter and a
///    combining mark that compose, as `J` + U+030C becomes `ǰ`).
///
/// The result is UTF-8 text in NFC, and `normalize` is idempotent.
///
/// **Every identifier gets the whole rule; nothing is classified.** There
/// is no test of whether an identifier "is an e-mail address": an e-mail
/// address, a customer id or a phone number is lowercased in full, so two
/// systems can never disagree on which rule applied. For an e-mail address
/// that means the local part too: RFC 5321 lets a mail server treat
/// `Anna@` and `anna@` as different mailboxes, but providers do not, and
/// two addresses that differ only in case sharing a key suppresses one
/// person too many, where a missed match would contact a person who asked
/// not to be. Customer ids that differ only in case share a key as well;
/// if yours are case-sensitive, encode them (as hex, say) before calling.
///
/// Nothing else is changed: no compatibility folding (NFKC: a full-width
/// `Ａ` stays as it is), no case folding beyond lowercasing (`ß` stays
/// `ß`, so `STRASSE` and `straße` differ), no conversion of international
/// domain names to or from Punycode, no provider-specific rewriting (dots
/// in Gmail addresses, `+tags`). Do such things before calling, if both
/// sides agree on them.
///
/// A partner that does not use this crate must apply the same four steps;
/// the known-answer test `a_known_subject_key_pins_the_normalization_rule`
/// in `tests/export.rs` pins the result.
///
/// # Example
/// ```
/// use tactful::export::normalize;
///
/// assert_eq!(normalize("  Anna@Example.ORG\n"), "anna@example.org");
/// // Composed (NFC) and decomposed (NFD) spellings of one address.
/// let composed = "Jos\u{e9}.M\u{fc}ller@Example.com ";
/// let decomposed = "Jose\u{301}.Mu\u{308}ller@Example.com ";
/// assert_ne!(composed, decomposed);
/// assert_eq!(normalize(composed), "jos\u{e9}.m\u{fc}ller@example.com");
/// assert_eq!(normalize(decomposed), normalize(composed));
/// // Customer ids are lowercased too.
/// assert_eq!(normalize("CUST-0042"), "cust-0042");
/// ```
#[must_use]
pub fn normalize(identifier: &str) -> String {
    let trimmed = identifier.trim();
    if trimmed.is_ascii() {
        // ASCII is already in NFC and lowercases to ASCII: the same result
        // as the full rule, without its passes.
        return trimmed.to_ascii_lowercase();
    }
    let composed: String = trimmed.nfc().collect();
    composed.to_lowercase().nfc().collect()
}

/// A secret shorter than [`KeySecret::MIN_LEN`] bytes.
///
/// A short secret can be guessed, and with it every subject key can be
/// tested against an address list. Generate at least 16 random bytes (32
/// recommended) and share them with the partner out of band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("secret of {len} bytes is too short: at least {min} bytes are needed", min = KeySecret::MIN_LEN)]
pub struct SecretTooShort {
    /// The rejected length in bytes.
    pub len: usize,
}

/// The caller-supplied secret under which subject keys are derived, agreed
/// with the receiving partner out of band (use a different one per partner
/// so exports cannot be linked across partners).
///
/// `Debug` shows only the length, never the bytes. The secret is not
/// serializable: store it in your secret store, not next to the export.
///
/// # Example
/// ```
/// use tactful::export::KeySecret;
///
/// let secret = KeySecret::new(b"0123456789abcdef0123456789abcdef")?;
/// assert_eq!(format!("{secret:?}"), "KeySecret { len: 32, .. }");
/// assert!(KeySecret::new(b"too short").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KeySecret {
    len: usize,
    // Keyed once: HMAC accepts keys of any length, and cloning the prepared
    // state per derivation saves hashing the key pads every time.
    mac: HmacSha256,
}

impl KeySecret {
    /// The minimum secret length in bytes.
    pub const MIN_LEN: usize = 16;

    /// A secret from raw bytes.
    ///
    /// # Errors
    /// [`SecretTooShort`] if `bytes` has fewer than [`Self::MIN_LEN`] bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, SecretTooShort> {
        let bytes = bytes.as_ref();
        if bytes.len() < Self::MIN_LEN {
            return Err(SecretTooShort { len: bytes.len() });
        }
        // HMAC takes keys of any length, so this cannot fail; map it anyway
        // rather than unwrap.
        let mac =
            HmacSha256::new_from_slice(bytes).map_err(|_| SecretTooShort { len: bytes.len() })?;
        Ok(Self {
            len: bytes.len(),
            mac,
        })
    }

    /// The secret's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: an empty secret cannot be built. Present for
    /// symmetry with [`len`](Self::len).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySecret")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// A pseudonymous subject: HMAC-SHA256 of the [`normalize`]d identifier
/// under a [`KeySecret`]. 32 bytes, written as 64 lowercase hex digits in
/// `Display`, `FromStr` and serde.
///
/// # Example
/// ```
/// use tactful::export::{KeySecret, SubjectKey};
///
/// let secret = KeySecret::new(b"0123456789abcdef0123456789abcdef")?;
/// let a = SubjectKey::derive(&secret, "Anna@Example.org");
/// assert_eq!(a, SubjectKey::derive(&secret, "  anna@example.org "));
/// assert_eq!(a.to_string().len(), 64);
/// assert_eq!(a.to_string().parse::<SubjectKey>()?, a);
///
/// let other = KeySecret::new(b"another secret, another partner")?;
/// assert_ne!(a, SubjectKey::derive(&other, "anna@example.org"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectKey([u8; 32]);

impl SubjectKey {
    /// HMAC-SHA256(`secret`, [`normalize`]`(identifier)`): the UTF-8
    /// bytes of the identifier, trimmed, in Unicode NFC and lowercased in
    /// full (see [`normalize`] for the exact rule, which applies to e-mail
    /// addresses and customer ids alike).
    ///
    /// Spellings that differ only in surrounding whitespace, letter case
    /// or Unicode normalization form give the same key; anything else
    /// gives a different one.
    ///
    /// # Example
    /// ```
    /// use tactful::export::{KeySecret, SubjectKey};
    ///
    /// let secret = KeySecret::new(b"0123456789abcdef0123456789abcdef")?;
    /// // The operator's system stored the address composed (NFC), the
    /// // partner's decomposed (NFD, as macOS file names and some forms do).
    /// let operator = SubjectKey::derive(&secret, "Jos\u{e9}.M\u{fc}ller@Example.com ");
    /// let partner = SubjectKey::derive(&secret, "jose\u{301}.mu\u{308}ller@example.com");
    /// assert_eq!(operator, partner);
    /// assert_eq!(
    ///     operator.to_string(),
    ///     "0012534f65128771b046c59f203c44bdd3d30486c5ec73d995fec3e37343fc45"
    /// );
    /// assert_ne!(operator, SubjectKey::derive(&secret, "jose.muller@example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn derive(secret: &KeySecret, identifier: &str) -> Self {
        let mut mac = secret.mac.clone();
        mac.update(normalize(identifier).as_bytes());
        Self(mac.finalize().into_bytes().into())
    }

    /// A key from its raw bytes (as stored by the partner).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectKey({self})")
    }
}

/// Writes bytes as lowercase hex.
pub(super) fn write_hex(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            let d = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
            out.write_char(char::from(d))?;
        }
    }
    Ok(())
}

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid subject key {0:?}: expected 64 hex digits")]
pub struct InvalidSubjectKey(pub String);

impl FromStr for SubjectKey {
    type Err = InvalidSubjectKey;

    /// Reads 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || InvalidSubjectKey(s.to_owned());
        let digits = s.as_bytes();
        if digits.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let mut v = 0u8;
            for &c in pair {
                let n = char::from(c).to_digit(16).ok_or_else(err)?;
                // `to_digit(16)` is below 16, so this fits.
                v = (v << 4) | u8::try_from(n).map_err(|_| err())?;
            }
            *byte = v;
        }
        Ok(Self(out))
    }
}

impl Serialize for SubjectKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SubjectKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        // RFC 4231 test case 2 uses a 4-byte key, below our minimum, so
        // check the primitive directly and our wrapper with a long key.
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let tag: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(
            SubjectKey(tag).to_string(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn matches_rfc_4231_test_case_6_long_key() {
        // 131-byte key of 0xaa (longer than the block size).
        let secret = KeySecret::new([0xaa; 131]).unwrap();
        // The message is already normalized (lowercasing only touches letters,
        // and RFC 4231's message has upper-case letters), so key raw bytes.
        let mut mac = secret.mac.clone();
        mac.update(b"Test Using Larger Than Block-Size Key - Hash Key First");
        let tag: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(
            SubjectKey(tag).to_string(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn secret_length_and_debug() {
        assert_eq!(
            KeySecret::new([7u8; 15]).unwrap_err(),
            SecretTooShort { len: 15 }
        );
        assert_eq!(
            SecretTooShort { len: 3 }.to_string(),
            "secret of 3 bytes is too short: at least 16 bytes are needed"
        );
        let s = KeySecret::new(b"super-secret-value-123").unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("super"), "{dbg}");
        assert_eq!(s.len(), 22);
        assert!(!s.is_empty());
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let k = SubjectKey::from_bytes([0xab; 32]);
        assert_eq!(k.to_string(), "ab".repeat(32));
        assert_eq!("AB".repeat(32).parse::<SubjectKey>().unwrap(), k);
        for bad in [
            "",
            "ab",
            &"zz".repeat(32),
            &"ab".repeat(33),
            &"é".repeat(32),
        ] {
            assert!(bad.parse::<SubjectKey>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<SubjectKey>(&json).unwrap(), k);
    }

    #[test]
    fn lowercasing_can_compose_and_is_composed_again() {
        // No precomposed capital J with caron exists, a small one does
        // (U+01F0): without the second NFC pass the two spellings differ.
        assert_eq!(normalize("J\u{30c}"), "\u{1f0}");
        assert_eq!(normalize("\u{1f0}"), "\u{1f0}");
        // U+212B ANGSTROM SIGN is canonically U+00C5.
        assert_eq!(normalize("\u{212b}"), "\u{e5}");
        // Non-ASCII whitespace is trimmed, inner whitespace kept.
        assert_eq!(normalize("\u{a0}a b\u{3000}"), "a b");
    }

    #[test]
    fn normalization_is_trim_and_unicode_lowercase() {
        assert_eq!(normalize("\t ÄNNE@Example.org \n"), "änne@example.org");
        let s = KeySecret::new([1u8; 32]).unwrap();
        assert_eq!(
            SubjectKey::derive(&s, "ÄNNE@EXAMPLE.ORG"),
            SubjectKey::derive(&s, " änne@example.org")
        );
        assert_ne!(
            SubjectKey::derive(&s, "anna@example.org"),
            SubjectKey::derive(&s, "anna@example.com")
        );
    }
}
