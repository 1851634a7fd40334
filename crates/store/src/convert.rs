//! Conversions shared by every module: timestamps to and from the stored microseconds, and sqlx
//! errors to the domain [`Error`].

use tessera_core::{Error, Result, Timestamp};
use time::OffsetDateTime;

/// Microseconds since the Unix epoch, the stored form of every time. Sub-microsecond digits are
/// dropped (floored), so what is returned from the database is what a later read returns too.
pub(crate) fn micros(t: Timestamp) -> i64 {
    // i64 microseconds span ±292,000 years, far beyond `time`'s ±9999-year range: no overflow.
    t.unix_timestamp_nanos().div_euclid(1000) as i64
}

/// [`micros`] for an optional time.
pub(crate) fn micros_opt(t: Option<Timestamp>) -> Option<i64> {
    t.map(micros)
}

/// The UTC time of a stored microsecond count.
///
/// # Errors
/// [`Error::Internal`] if the value is outside `time`'s range (only a corrupted row can do that).
pub(crate) fn timestamp(us: i64) -> Result<Timestamp> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| Error::Internal(format!("stored timestamp {us} µs is out of range")))
}

/// [`timestamp`] for an optional stored value.
pub(crate) fn timestamp_opt(us: Option<i64>) -> Result<Option<Timestamp>> {
    us.map(timestamp).transpose()
}

/// Any sqlx failure as [`Error::Storage`] (the source is for logs only).
pub(crate) fn storage(e: sqlx::Error) -> Error {
    Error::Storage(Box::new(e))
}

/// Whether `e` is the database refusing a foreign key (PostgreSQL SQLSTATE 23503, SQLite
/// `SQLITE_CONSTRAINT_FOREIGNKEY`): the one failure of a token batch that means "a row's user
/// (or key) is not of its org" rather than "the database is in trouble".
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_foreign_key_violation())
}

/// A unique violation as [`Error::Conflict`] with `code`, anything else as [`Error::Storage`].
/// Detected by sqlx's backend-neutral check, not by constraint name, so both backends agree.
pub(crate) fn conflict_or_storage(e: sqlx::Error, code: &'static str, message: &str) -> Error {
    if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        Error::Conflict { code, message: message.to_owned() }
    } else {
        storage(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn micros_round_trip_and_floor_sub_microseconds() {
        let t = datetime!(2026-03-04 05:06:07.123456 UTC);
        assert_eq!(timestamp(micros(t)).unwrap(), t);
        let finer = datetime!(2026-03-04 05:06:07.123456789 UTC);
        assert_eq!(timestamp(micros(finer)).unwrap(), t);
        let before_epoch = datetime!(1969-12-31 23:59:59.9999995 UTC);
        assert_eq!(micros(before_epoch), -1);
        assert!(timestamp(i64::MAX).is_err());
    }
}
