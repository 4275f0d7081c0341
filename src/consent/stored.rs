//! The serialized form of a [`ConsentLedger`]: each distinct consent string
//! once, in a table the evidence cites by index; validated on the way in.
//!
//! It uses no self-describing features (no untagged enums, no flattening),
//! so it round-trips through binary formats as well as JSON. In JSON:
//!
//! ```json
//! {"consent_strings": ["CQSbk4AQ..."],
//!  "entries": [{"purpose": "marketing", "change": {"grant": {"expires": null}},
//!               "at": "2026-06-01T12:00:00Z", "evidence": {"consent_string": 0}}],
//!  "latest_received": [{"purpose": "marketing", "change": {"grant": {"expires": null}},
//!                       "at": "2026-06-01T12:05:00Z", "evidence": {"consent_string": 0}}]}
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use serde::{de, ser, Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::{Change, ConsentEntry, ConsentLedger, Evidence, Purpose, MAX_STORED_ENTRIES};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored<S> {
    /// Each distinct consent string cited, once.
    consent_strings: Vec<S>,
    entries: Vec<StoredEntry<S>>,
    /// Per purpose, at most one grant and one withdrawal, in the order
    /// received.
    latest_received: Vec<StoredEntry<S>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntry<S> {
    purpose: Purpose,
    change: Change,
    #[serde(with = "crate::serde_util::instant")]
    at: OffsetDateTime,
    evidence: StoredEvidence<S>,
}

/// [`Evidence`], with a consent string as an index into the table.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredEvidence<S> {
    Ui(S),
    ConsentString(u32),
    GlobalPrivacyControl,
    Import(S),
    System(S),
}

/// Builds the table while the entries are written.
#[derive(Default)]
struct Table<'a> {
    strings: Vec<&'a str>,
    /// Index by address first: the ledger shares equal strings, so the text
    /// of each distinct one is hashed once.
    by_address: HashMap<usize, u32>,
    by_text: HashMap<&'a str, u32>,
}

impl<'a> Table<'a> {
    fn index(&mut self, s: &'a Arc<str>) -> Result<u32, String> {
        let address = Arc::as_ptr(s).cast::<u8>().addr();
        if let Some(&i) = self.by_address.get(&address) {
            return Ok(i);
        }
        let i = match self.by_text.get(&**s) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.strings.len())
                    .map_err(|_| format!("more than {} consent strings", u32::MAX))?;
                self.strings.push(s);
                self.by_text.insert(s, i);
                i
            }
        };
        self.by_address.insert(address, i);
        Ok(i)
    }

    fn entry(&mut self, e: &'a ConsentEntry) -> Result<StoredEntry<&'a str>, String> {
        let evidence = match &e.evidence {
            Evidence::Ui(s) => StoredEvidence::Ui(s.as_str()),
            Evidence::ConsentString(s) => StoredEvidence::ConsentString(self.index(s)?),
            Evidence::GlobalPrivacyControl => StoredEvidence::GlobalPrivacyControl,
            Evidence::Import(s) => StoredEvidence::Import(s.as_str()),
            Evidence::System(s) => StoredEvidence::System(s.as_str()),
        };
        Ok(StoredEntry {
            purpose: e.purpose,
            change: e.change,
            at: e.at,
            evidence,
        })
    }
}

impl Serialize for ConsentLedger {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut table = Table::default();
        let entries = self
            .entries
            .iter()
            .map(|e| table.entry(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ser::Error::custom)?;
        let latest_received = self
            .latest_received
            .iter()
            .flatten()
            .map(|e| table.entry(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ser::Error::custom)?;
        Stored {
            consent_strings: table.strings,
            entries,
            latest_received,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ConsentLedger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Stored::<String>::deserialize(d)?;
        ConsentLedger::from_stored(stored).map_err(de::Error::custom)
    }
}

impl ConsentLedger {
    /// Checks and resolves the serialized form: at most
    /// [`MAX_STORED_ENTRIES`] entries, every consent string index in range,
    /// every table string cited and none twice, at most one latest grant
    /// and one latest withdrawal received per purpose that needs consent.
    fn from_stored(stored: Stored<String>) -> Result<Self, String> {
        let Stored {
            consent_strings,
            entries,
            latest_received,
        } = stored;
        if entries.len() > MAX_STORED_ENTRIES {
            return Err(format!(
                "consent ledger holds {} entries, at most {MAX_STORED_ENTRIES} can be stored",
                entries.len()
            ));
        }
        let mut table = Resolver::new(&consent_strings)?;
        let mut ledger = ConsentLedger::default();
        for (i, e) in entries.into_iter().enumerate() {
            let e = table.resolve(e, &format!("entries[{i}]"))?;
            ledger.entries.push(e);
        }
        for (i, e) in latest_received.into_iter().enumerate() {
            let e = table.resolve(e, &format!("latest_received[{i}]"))?;
            ledger.place_received(e, i)?;
        }
        if let Some(i) = table.cited.iter().position(|c| !c) {
            return Err(format!("consent_strings[{i}] is cited by no entry"));
        }
        ledger.reindex();
        Ok(ledger)
    }

    /// Adds a stored latest change received (`latest_received[i]`) to its
    /// purpose's list; at most one grant and one withdrawal each.
    fn place_received(&mut self, e: ConsentEntry, i: usize) -> Result<(), String> {
        let grant = matches!(e.change, Change::Grant { .. });
        let Some(list) = self
            .latest_received
            .get_mut(e.purpose.index())
            .filter(|_| e.purpose.needs_consent())
        else {
            return Err(format!(
                "latest_received[{i}]: {} needs no consent",
                e.purpose
            ));
        };
        if list
            .iter()
            .any(|r| matches!(r.change, Change::Grant { .. }) == grant)
        {
            return Err(format!(
                "latest_received[{i}]: a second latest {} of {}",
                if grant { "grant" } else { "withdrawal" },
                e.purpose
            ));
        }
        list.push(e);
        Ok(())
    }
}

/// Resolves stored entries against the table of consent strings, noting
/// which strings are cited.
struct Resolver {
    strings: Vec<Arc<str>>,
    cited: Vec<bool>,
}

impl Resolver {
    /// Fails if the table holds a string twice.
    fn new(consent_strings: &[String]) -> Result<Self, String> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, s) in consent_strings.iter().enumerate() {
            if let Some(j) = seen.insert(s.as_str(), i) {
                return Err(format!("consent_strings[{i}] repeats consent_strings[{j}]"));
            }
        }
        let strings: Vec<Arc<str>> = consent_strings
            .iter()
            .map(|s| Arc::from(s.as_str()))
            .collect();
        let cited = vec![false; strings.len()];
        Ok(Resolver { strings, cited })
    }

    /// The entry at `path`, its consent string index resolved.
    fn resolve(&mut self, e: StoredEntry<String>, path: &str) -> Result<ConsentEntry, String> {
        let evidence = match e.evidence {
            StoredEvidence::Ui(s) => Evidence::Ui(s),
            StoredEvidence::ConsentString(i) => {
                let k = usize::try_from(i).unwrap_or(usize::MAX);
                let s = self.strings.get(k).ok_or_else(|| {
                    format!(
                        "{path}.evidence: consent string {i} out of range ({} strings)",
                        self.strings.len()
                    )
                })?;
                if let Some(c) = self.cited.get_mut(k) {
                    *c = true;
                }
                Evidence::ConsentString(Arc::clone(s))
            }
            StoredEvidence::GlobalPrivacyControl => Evidence::GlobalPrivacyControl,
            StoredEvidence::Import(s) => Evidence::Import(s),
            StoredEvidence::System(s) => Evidence::System(s),
        };
        Ok(ConsentEntry {
            purpose: e.purpose,
            change: e.change,
            at: e.at,
            evidence,
        })
    }
}
