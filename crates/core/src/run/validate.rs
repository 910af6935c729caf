//! `validate` and `validate+send` (the validation itself is [`crate::validate`]).

use super::{Payloads, RunError};
use crate::config::SendOrder;
use crate::ports::LogLevel;
use crate::results::RunResults;
use crate::validate::{ValidateError, Validation};

/// What `validate+send` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidateSendOutcome {
    /// Validation found no failure and everything was sent; the results are the send's.
    Sent,
    /// Validation found failures, so nothing was sent; the results are the validation's.
    NotSent { failed: u64, processed: u64 },
}

/// `validate+send`: validates `data` (in dependency order), then sends it only when no payload
/// failed validation. The Python tool sent everything whatever validation found (unless every
/// payload failed); a failed validation here leaves the API untouched, and the results are the
/// validation's (also when `max_failures` stopped it).
pub async fn validate_then_send(
    validation: &Validation<'_, '_>,
    payloads: &Payloads<'_, '_>,
    results: &mut RunResults,
) -> Result<ValidateSendOutcome, RunError> {
    let data = payloads.data;
    let mut checked = RunResults::new(results.meta.clone());
    if let Err(e) = validation.run(data, &mut checked).await {
        if matches!(e, ValidateError::Stopped { .. }) {
            *results = checked;
        }
        return Err(e.into());
    }
    let totals = checked.totals();
    if totals.failed > 0 && !validation.config.validate.send_on_failure {
        *results = checked;
        return Ok(ValidateSendOutcome::NotSent {
            failed: totals.failed,
            processed: totals.processed,
        });
    }
    if totals.failed > 0 {
        validation.events.log(
            LogLevel::Warning,
            format!(
                "{} of {} payloads failed validation; sending anyway (validate.send_on_failure: true)",
                totals.failed, totals.processed
            ),
        );
    } else {
        validation.events.log(
            LogLevel::Info,
            format!("all {} payloads validate ok; sending...", totals.processed),
        );
    }
    let model = (validation.config.send.order == SendOrder::Records).then_some(validation.model);
    super::send::send(payloads, model, results).await?;
    Ok(ValidateSendOutcome::Sent)
}
