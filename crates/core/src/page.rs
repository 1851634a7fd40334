//! Cursor pagination: lists are `{"data": [...], "next_cursor": string|null}` and a cursor is
//! an opaque string that names the last row of the previous page.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Error, Result, Timestamp};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// Position after a row in a list ordered by `(time, id)`; encoded as base64url of
/// `"{unix microseconds}.{uuid}"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The sort time of the last row seen, microseconds since the Unix epoch.
    pub at_micros: i64,
    /// The id of the last row seen (tie-breaker).
    pub id: Uuid,
}

impl Cursor {
    /// The cursor after a row with time `at` and id `id`.
    pub fn after(at: Timestamp, id: Uuid) -> Self {
        Self { at_micros: (at.unix_timestamp_nanos() / 1000) as i64, id }
    }

    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.at_micros, self.id))
    }

    /// Parses the opaque string form.
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `cursor` if it was not made by [`Cursor::encode`].
    pub fn decode(s: &str) -> Result<Self> {
        let bad = || Error::invalid("cursor", "is not a cursor returned by this list");
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (at, id) = raw.split_once('.').ok_or_else(bad)?;
        Ok(Self { at_micros: at.parse().map_err(|_| bad())?, id: Uuid::parse_str(id).map_err(|_| bad())? })
    }
}

/// Which page to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1–200.
    pub limit: u32,
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

impl PageRequest {
    /// Validates `limit` (default 50, 1–200) and decodes `cursor`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `limit` and/or `cursor`.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(crate::FieldError::new("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => match Cursor::decode(c) {
                Ok(c) => Some(c),
                Err(Error::Invalid(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows, in list order.
    pub data: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in order: the extra row, if present, only
    /// proves that another page exists. `key` gives a row's `(time, id)`.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> (Timestamp, Uuid)) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| {
                let (at, id) = key(r);
                Cursor::after(at, id).encode()
            })
        } else {
            None
        };
        Self { data: rows, next_cursor }
    }

    /// Converts each row, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_field_error() {
        let c = Cursor { at_micros: 1_700_000_000_123_456, id: Uuid::from_u128(42) };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["x", "!!!", &URL_SAFE_NO_PAD.encode("12")] {
            assert!(matches!(Cursor::decode(bad), Err(Error::Invalid(ref e)) if e[0].field == "cursor"));
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        let Err(Error::Invalid(e)) = PageRequest::parse(Some(0), Some("zz")) else { panic!() };
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn pages_know_whether_more_rows_exist() {
        let t = time::OffsetDateTime::UNIX_EPOCH;
        let rows: Vec<u128> = (0..3).collect();
        let page = Page::from_rows(rows.clone(), 2, |r| (t, Uuid::from_u128(*r)));
        assert_eq!(page.data, vec![0, 1]);
        assert_eq!(Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap().id, Uuid::from_u128(1));
        assert_eq!(Page::from_rows(rows, 3, |r| (t, Uuid::from_u128(*r))).next_cursor, None);
    }
}
