//! (in progress)
pub async fn run(_files: &[std::path::PathBuf], _url: &str, _key: Option<&str>, _token: Option<&str>, _wait_s: u64) -> anyhow::Result<()> { anyhow::bail!("not yet") }
