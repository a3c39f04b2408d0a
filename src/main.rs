//! Entry point: wiring only.

use anyhow::Context as _;
use clap::Parser;
use secrecy::ExposeSecret;
use switchboard::cli::{CacheAction, Cli, Command, SimApi};
use switchboard::config::Settings;
use switchboard::sim::calcom::CalcomSim;
use switchboard::startup::Application;
use switchboard::{replay, telemetry};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config } => {
            let settings = Settings::load(config.as_deref())?;
            telemetry::init_logs(&settings.log);
            let generated =
                settings.sandbox.enabled && settings.sandbox.admin_token.expose_secret().is_empty();
            let app = Application::build(settings).await?;
            if let (true, Some(token)) = (generated, &app.admin_token) {
                println!(
                    "sandbox admin token (set SWITCHBOARD__SANDBOX__ADMIN_TOKEN to choose one): {token}"
                );
            }
            let code = app.run_until_stopped().await.context("HTTP server")?;
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
        Command::Cache {
            action: CacheAction::Clear { tag, config },
        } => {
            let settings = Settings::load(config.as_deref())?;
            let removed = switchboard::cache::clear(&settings, tag.as_deref()).await?;
            println!("removed {removed} cache entries");
            Ok(())
        }
        Command::CircuitStatus { url } => switchboard::circuit_status::run(&url).await,
        Command::Replay {
            files,
            url,
            key,
            token,
            wait_s,
        } => replay::run(&files, &url, key.as_deref(), token.as_deref(), wait_s).await,
    }
}
