//! The run options of the page (selector, exclude, resend and fetch options, as typed) and the
//! engine's [`Job`] they become: the engine reads them as it reads the CLI's flags.

use lightbeam_core::results::Command;
use lightbeam_core::run::Job;
use lightbeam_core::state::ResendFlags;

/// The options of the Run panel, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFlags {
    /// `-s`
    pub selector: String,
    /// `-e`
    pub exclude: String,
    /// `-f`
    pub force: bool,
    /// `-o`
    pub older_than: String,
    /// `-n`
    pub newer_than: String,
    /// `-r`
    pub status_codes: String,
    /// `-q`
    pub query: String,
    /// `-k`
    pub keep_keys: String,
    /// `-d`
    pub drop_keys: String,
}

/// Where a run happens, for the results file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// The page's address (the results' `working_dir`).
    pub page_url: String,
    pub config_file: String,
    pub data_dir: String,
}

impl RunFlags {
    /// The engine's job for `command` (one thread: the browser validates on the page's thread;
    /// confirmations are asked on the page).
    pub fn job(&self, command: Command, place: Place) -> Job {
        Job {
            command,
            selector: self.selector.clone(),
            exclude: self.exclude.clone(),
            resend: ResendFlags {
                force: self.force,
                older_than: self.older_than.clone(),
                newer_than: self.newer_than.clone(),
                status_codes: self.status_codes.clone(),
            },
            query: self.query.clone(),
            keep_keys: self.keep_keys.clone(),
            drop_keys: self.drop_keys.clone(),
            changes: Default::default(),
            wipe_cache: false,
            confirmed: false,
            threads: 1,
            working_dir: place.page_url,
            config_file: place.config_file,
            data_dir: place.data_dir,
        }
    }
}

/// What the page says instead of starting `command` when no files were dropped (the commands
/// that read data files); `None` when the command can start.
pub fn missing_files(command: Command, has_files: bool) -> Option<&'static str> {
    match command {
        _ if has_files => None,
        Command::Delete => Some("drop the JSONL files whose records should be deleted first"),
        Command::Validate | Command::ValidateSend | Command::Send => {
            Some("drop JSONL files (or a folder) first")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_go_to_the_engine_as_typed() {
        let flags = RunFlags {
            selector: "students,grades".into(),
            exclude: "grades".into(),
            force: true,
            older_than: "x".into(),
            newer_than: "2024-05-01".into(),
            status_codes: "409, 500".into(),
            query: r#"{"schoolId": 1}"#.into(),
            keep_keys: "id".into(),
            drop_keys: "_etag".into(),
        };
        let place = Place {
            page_url: "http://127.0.0.1:8080/".into(),
            config_file: "lightbeam.yaml".into(),
            data_dir: "data".into(),
        };
        let job = flags.job(Command::Fetch, place);
        assert_eq!(job.command, Command::Fetch);
        assert_eq!(
            (job.selector.as_str(), job.exclude.as_str()),
            ("students,grades", "grades")
        );
        assert!(job.resend.force);
        assert_eq!(job.resend.older_than, "x");
        assert_eq!(job.resend.status_codes, "409, 500");
        assert_eq!(job.query, r#"{"schoolId": 1}"#);
        assert_eq!(
            (job.keep_keys.as_str(), job.drop_keys.as_str()),
            ("id", "_etag")
        );
        assert_eq!(job.working_dir, "http://127.0.0.1:8080/");
        assert_eq!(
            (job.config_file.as_str(), job.data_dir.as_str()),
            ("lightbeam.yaml", "data")
        );
        assert!(!job.confirmed && !job.wipe_cache);
        assert_eq!(job.threads, 1);
        // the engine reads the flags and names them when they are wrong
        let e = job.resend.criteria(0).unwrap_err().to_string();
        assert!(e.starts_with("-o/--older-than: \"x\" is not a date"), "{e}");
    }

    #[test]
    fn commands_that_read_data_wait_for_files() {
        assert_eq!(
            missing_files(Command::Send, false),
            Some("drop JSONL files (or a folder) first")
        );
        assert_eq!(
            missing_files(Command::Delete, false),
            Some("drop the JSONL files whose records should be deleted first")
        );
        assert_eq!(missing_files(Command::Send, true), None);
        assert_eq!(missing_files(Command::Count, false), None);
        assert_eq!(missing_files(Command::Fetch, false), None);
    }
}
