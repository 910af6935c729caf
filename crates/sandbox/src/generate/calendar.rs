//! The calendar of school year 2023-2024: instructional days, four nine-weeks grading periods, two semesters.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::rngs::SmallRng;
use rand::Rng;

use super::json::{push_date, Obj};

/// The `schoolYear` of every record: 2023-2024.
pub(super) const SCHOOL_YEAR: i64 = 2024;

/// A semester.
pub(super) struct SessionDef {
    pub(super) name: &'static str,
    pub(super) term: &'static str,
    /// Index in `Calendar::days` of the first and last instructional day.
    pub(super) first: usize,
    pub(super) last: usize,
    /// Indexes in `Calendar::periods` of its two grading periods.
    pub(super) periods: [usize; 2],
}

/// A nine-weeks grading period.
pub(super) struct PeriodDef {
    /// Its GradingPeriodDescriptor code.
    pub(super) descriptor: &'static str,
    pub(super) name: &'static str,
    /// Index in `Calendar::days` of the first and last instructional day.
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) sequence: i64,
}

/// The school year: its days, grading periods and semesters.
pub(super) struct Calendar {
    /// Instructional days of the year, in order.
    pub(super) days: Vec<NaiveDate>,
    /// The same days as JSON strings (with quotes), to write them fast.
    pub(super) day_json: Vec<String>,
    pub(super) sessions: [SessionDef; 2],
    pub(super) periods: [PeriodDef; 4],
}

/// A date of the built-in calendar.
pub(super) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid built-in date")
}

impl Calendar {
    pub(super) fn new() -> Calendar {
        // Holidays and breaks (inclusive ranges).
        let off = [
            (ymd(2023, 9, 4), ymd(2023, 9, 4)),     // Labor Day
            (ymd(2023, 10, 9), ymd(2023, 10, 9)),   // staff development
            (ymd(2023, 11, 20), ymd(2023, 11, 24)), // Thanksgiving
            (ymd(2023, 12, 21), ymd(2024, 1, 5)),   // winter break
            (ymd(2024, 1, 15), ymd(2024, 1, 15)),   // MLK Day
            (ymd(2024, 2, 19), ymd(2024, 2, 19)),   // Presidents' Day
            (ymd(2024, 3, 11), ymd(2024, 3, 15)),   // spring break
            (ymd(2024, 3, 29), ymd(2024, 3, 29)),   // Good Friday
            (ymd(2024, 5, 27), ymd(2024, 5, 27)),   // Memorial Day
        ];
        let mut days = Vec::new();
        let mut d = ymd(2023, 8, 21);
        while d <= ymd(2024, 5, 31) {
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            if !weekend && !off.iter().any(|&(a, b)| a <= d && d <= b) {
                days.push(d);
            }
            d += Duration::days(1);
        }
        let first_on_or_after = |x: NaiveDate| days.iter().position(|&d| d >= x).unwrap();
        let last_on_or_before = |x: NaiveDate| days.iter().rposition(|&d| d <= x).unwrap();
        let span = |a: NaiveDate, b: NaiveDate| (first_on_or_after(a), last_on_or_before(b));
        let q = [
            span(ymd(2023, 8, 21), ymd(2023, 10, 13)),
            span(ymd(2023, 10, 16), ymd(2023, 12, 20)),
            span(ymd(2024, 1, 8), ymd(2024, 3, 8)),
            span(ymd(2024, 3, 18), ymd(2024, 5, 31)),
        ];
        let names = [
            ("First Nine Weeks", "2023-2024 First Nine Weeks"),
            ("Second Nine Weeks", "2023-2024 Second Nine Weeks"),
            ("Third Nine Weeks", "2023-2024 Third Nine Weeks"),
            ("Fourth Nine Weeks", "2023-2024 Fourth Nine Weeks"),
        ];
        let periods = std::array::from_fn(|i| PeriodDef {
            descriptor: names[i].0,
            name: names[i].1,
            first: q[i].0,
            last: q[i].1,
            sequence: i as i64 + 1,
        });
        // each semester spans two grading periods
        let terms = [
            ("2023-2024 Fall Semester", "Fall Semester"),
            ("2023-2024 Spring Semester", "Spring Semester"),
        ];
        let sessions = std::array::from_fn(|i| SessionDef {
            name: terms[i].0,
            term: terms[i].1,
            first: q[2 * i].0,
            last: q[2 * i + 1].1,
            periods: [2 * i, 2 * i + 1],
        });
        let day_json = days
            .iter()
            .map(|&d| {
                let mut s = String::with_capacity(12);
                push_date(&mut s, d);
                s
            })
            .collect();
        Calendar {
            days,
            day_json,
            sessions,
            periods,
        }
    }

    /// Writes `"k":"<date of instructional day idx>"`.
    pub(super) fn put_day(&self, o: &mut Obj<'_>, k: &str, idx: usize) {
        o.raw(k, &self.day_json[idx]);
    }

    /// Index in `sessions` of the semester of instructional day `day`.
    pub(super) fn session_of(&self, day: usize) -> usize {
        usize::from(day >= self.sessions[1].first)
    }
}

/// A day among the `days` days from `from`, drawn at random.
pub(super) fn random_date(rng: &mut SmallRng, from: NaiveDate, days: i64) -> NaiveDate {
    from + Duration::days(rng.gen_range(0..days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semesters_and_grading_periods_share_out_the_school_days() {
        let cal = Calendar::new();
        assert_eq!(cal.days.len(), cal.day_json.len());
        assert_eq!(cal.day_json[0], "\"2023-08-21\"");
        let fall = &cal.sessions[0];
        let spring = &cal.sessions[1];
        assert_eq!((fall.first, spring.last), (0, cal.days.len() - 1));
        assert_eq!(fall.last + 1, spring.first);
        for (t, session) in cal.sessions.iter().enumerate() {
            let [a, b] = session.periods.map(|p| &cal.periods[p]);
            assert_eq!(
                (a.first, a.last + 1, b.last),
                (session.first, b.first, session.last)
            );
            assert_eq!(cal.session_of(session.first), t);
            assert_eq!(cal.session_of(session.last), t);
        }
        assert!(cal
            .days
            .iter()
            .all(|d| d.weekday().num_days_from_monday() < 5));
    }
}
