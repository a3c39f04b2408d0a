//! Entry point: wiring only. Each command is a function of the library: [`startup::serve`], the
//! Cal.com simulator, `cache::clear`, and the developer tools in `devtools`.

use anyhow::Context as _;
use clap::Parser;
use secrecy::ExposeSecret;
use switchboard::cli::{CacheAction, Cli, Command, SecretsAction, SimApi, TenantAction};
use switchboard::config::Settings;
use switchboard::devtools::{circuit_status, replay};
use switchboard::mcp::stdio;
use switchboard::sim::calcom::CalcomSim;
use switchboard::sim::retell::RetellSim;
use switchboard::sim::sms::SmsSim;
use switchboard::{cache, secrets, startup, telemetry, tokens_cli};

/// The allocator (feature `mimalloc`, on by default): see the feature's note in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config } => {
            let code = startup::serve(config.as_deref()).await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Command::Sim {
            api: SimApi::Calcom { port, host, faults },
        } => {
            telemetry::init_logs(&Settings::load(None)?.log);
            let listener = std::net::TcpListener::bind((host.as_str(), port))
                .with_context(|| format!("binding {host}:{port}"))?;
            tracing::info!(address = %listener.local_addr()?, "Cal.com simulator listening");
            CalcomSim::demo()
                .with_faults(faults)
                .serve(listener)?
                .await
                .context("simulator")
        }
        Command::Sim {
            api:
                SimApi::Sms {
                    port,
                    host,
                    accounts,
                    max_messages,
                    faults,
                },
        } => {
            telemetry::init_logs(&Settings::load(None)?.log);
            let sim = SmsSim::new(max_messages).with_faults(faults);
            for account in accounts {
                let (sid, token) = account
                    .split_once(':')
                    .context("--account takes SID:TOKEN")?;
                sim.add_account(sid, token.to_owned().into())
                    .with_context(|| format!("--account {sid}"))?;
            }
            let listener = std::net::TcpListener::bind((host.as_str(), port))
                .with_context(|| format!("binding {host}:{port}"))?;
            tracing::info!(address = %listener.local_addr()?, "SMS simulator listening");
            sim.serve(listener)?.await.context("simulator")
        }
        Command::Sim {
            api: SimApi::Retell { port, host, faults },
        } => {
            telemetry::init_logs(&Settings::load(None)?.log);
            let listener = std::net::TcpListener::bind((host.as_str(), port))
                .with_context(|| format!("binding {host}:{port}"))?;
            let address = listener.local_addr()?;
            tracing::info!(%address, "Retell simulator listening");
            println!("Retell simulator listening on http://{address}");
            RetellSim::demo()
                .context("seeding the Retell simulator")?
                .with_faults(faults)
                .serve(listener)?
                .await
                .context("simulator")
        }
        Command::Cache {
            action: CacheAction::Clear { tag, config },
        } => {
            let settings = Settings::load(config.as_deref())?;
            let removed = cache::clear(&settings, tag.as_deref()).await?;
            println!("removed {removed} cache entries");
            Ok(())
        }
        Command::CircuitStatus { url, token } => {
            circuit_status::run(&url, token.as_ref().map(ExposeSecret::expose_secret)).await
        }
        Command::Token { action } => tokens_cli::run(action).await,
        Command::Retell {
            action:
                switchboard::cli::RetellAction::Deploy {
                    slug,
                    dry_run,
                    url,
                    token,
                },
        } => {
            let token = token.as_ref().map(ExposeSecret::expose_secret);
            switchboard::retell_cli::deploy(&slug, &url, token, dry_run).await
        }
        Command::Replay {
            files,
            url,
            key,
            token,
            wait_s,
            retell_sim_url,
        } => {
            let key = key.as_ref().map(ExposeSecret::expose_secret);
            let token = token.as_ref().map(ExposeSecret::expose_secret);
            replay::run(&files, &url, key, token, wait_s, retell_sim_url.as_deref()).await
        }
        Command::Secrets {
            action: SecretsAction::Rotate { config, dry_run },
        } => {
            let settings = Settings::load(config.as_deref())?;
            telemetry::init_logs(&settings.log);
            let report = secrets::rotate(&settings, dry_run).await?;
            println!("{report}");
            for problem in &report.unreadable {
                eprintln!("unreadable: {problem}");
            }
            anyhow::ensure!(
                report.unreadable.is_empty(),
                "{} stored values could not be opened with the configured keys",
                report.unreadable.len()
            );
            Ok(())
        }
        Command::Secrets {
            action: SecretsAction::GenerateKey,
        } => {
            println!("{}", secrets::SecretKey::generate_base64().as_str());
            Ok(())
        }
        Command::Mcp {
            url,
            max_message_bytes,
            max_response_bytes,
            max_in_flight,
        } => {
            let Some(token) = stdio::token_from_env() else {
                eprintln!(
                    "switchboard mcp: set {} to a gateway token (`switchboard token create`)",
                    stdio::TOKEN_ENV
                );
                std::process::exit(2);
            };
            stdio::init_logs();
            let options = stdio::StdioOptions {
                url,
                max_message_bytes,
                max_response_bytes,
                max_in_flight,
            };
            let (stdin, stdout) = (tokio::io::stdin(), tokio::io::stdout());
            if let Err(e) = stdio::run(options, token, stdin, stdout).await {
                eprintln!("switchboard mcp: {e}");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Tenant { action, config } => {
            // Refusals of tenant files are many lines, each file:line:column: the message
            // alone, without anyhow's "Error:" and backtrace.
            if let Err(e) = tenant(action, config.as_deref()).await {
                eprintln!("{e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// `switchboard tenant …` over the configured database.
async fn tenant(action: TenantAction, config: Option<&std::path::Path>) -> anyhow::Result<()> {
    use switchboard::tenants::{CalcomAccess, cli};
    let settings = Settings::load(config)?;
    let store = cli::open(&settings).await?;
    let out = &mut std::io::stdout().lock();
    match action {
        TenantAction::Apply { files, dry_run } => {
            let calcom = CalcomAccess::from_settings(&settings);
            cli::apply_files(&store, &calcom, &files, dry_run, out).await
        }
        TenantAction::List => cli::list(&store, out).await,
        TenantAction::Show { slug } => cli::show(&store, &slug, out).await,
        TenantAction::Disable { slug } => cli::set_disabled(&store, &slug, true, out).await,
        TenantAction::Enable { slug } => cli::set_disabled(&store, &slug, false, out).await,
    }
}
