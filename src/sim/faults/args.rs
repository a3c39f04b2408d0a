//! Start-time faults from the command line: one `--fault-<field>` flag per [`FaultConfig`]
//! field, so `switchboard sim <api> --fault-error-rate 0.2` starts as `POST /__sim/faults
//! {"error_rate":0.2}` would.

use super::config::{ErrorStatus, FaultConfig, Rate};

/// The `--fault-*` flags of every simulator command; flatten it into the command's
/// arguments and hand `FaultConfig::from(args)` to the simulator. Values are checked while
/// parsing (rates in `0..=1`, statuses 500/503/429), so the conversion cannot fail.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct FaultArgs {
    /// Milliseconds added before every API answer.
    #[arg(long = "fault-latency-ms", value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Up to this many milliseconds more per request, drawn uniformly.
    #[arg(long = "fault-jitter-ms", value_name = "MS")]
    pub jitter_ms: Option<u64>,
    /// Share of API requests (0..1) answered with --fault-error-status.
    #[arg(long = "fault-error-rate", value_name = "RATE")]
    pub error_rate: Option<Rate>,
    /// Status of injected failures: 500, 503 or 429 [default: 500, during an outage 503].
    #[arg(long = "fault-error-status", value_name = "STATUS")]
    pub error_status: Option<ErrorStatus>,
    /// Share of API requests (0..1) accepted and never answered.
    #[arg(long = "fault-timeout-rate", value_name = "RATE")]
    pub timeout_rate: Option<Rate>,
    /// Every API request fails for this many seconds after start.
    #[arg(long = "fault-outage-s", value_name = "SECONDS")]
    pub outage_s: Option<u64>,
    /// Share of commits (0..1), e.g. booking creations, stored and then answered with a 500
    /// or a dropped connection.
    #[arg(long = "fault-commit-then-fail-rate", value_name = "RATE")]
    pub commit_then_fail_rate: Option<Rate>,
    /// Seed of the random draws, for runs that repeat exactly.
    #[arg(long = "fault-seed", value_name = "N")]
    pub seed: Option<u64>,
}

impl From<FaultArgs> for FaultConfig {
    fn from(args: FaultArgs) -> Self {
        let FaultArgs {
            latency_ms,
            jitter_ms,
            error_rate,
            error_status,
            timeout_rate,
            outage_s,
            commit_then_fail_rate,
            seed,
        } = args;
        Self {
            latency_ms,
            jitter_ms,
            error_rate,
            error_status,
            timeout_rate,
            outage_s,
            commit_then_fail_rate,
            seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        faults: FaultArgs,
    }

    fn parse(args: &[&str]) -> Result<FaultConfig, clap::Error> {
        Command::try_parse_from(std::iter::once("sim").chain(args.iter().copied()))
            .map(|command| command.faults.into())
    }

    #[test]
    fn no_flags_is_no_faults() {
        assert_eq!(parse(&[]).unwrap(), FaultConfig::default());
    }

    #[test]
    fn every_field_has_its_flag() {
        let config = parse(&[
            "--fault-latency-ms=10",
            "--fault-jitter-ms=5",
            "--fault-error-rate=0.5",
            "--fault-error-status=429",
            "--fault-timeout-rate=0.1",
            "--fault-outage-s=30",
            "--fault-commit-then-fail-rate=1",
            "--fault-seed=7",
        ])
        .unwrap();
        assert_eq!(
            config,
            FaultConfig {
                latency_ms: Some(10),
                jitter_ms: Some(5),
                error_rate: Some(Rate::new(0.5).unwrap()),
                error_status: Some(ErrorStatus::TooManyRequests),
                timeout_rate: Some(Rate::new(0.1).unwrap()),
                outage_s: Some(30),
                commit_then_fail_rate: Some(Rate::new(1.0).unwrap()),
                seed: Some(7),
            }
        );
    }

    #[test]
    fn bad_values_are_refused_at_parse_time() {
        for bad in [
            "--fault-error-rate=1.5",
            "--fault-error-status=502",
            "--fault-timeout-rate=often",
            "--fault-latency-ms=-1",
        ] {
            let error = parse(&[bad]).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}: {error}"
            );
        }
    }
}
