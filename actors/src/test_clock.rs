//! Test support: an actix System whose tokio clock starts paused, so actor tests drive time
//! with `tokio::time::sleep` (auto-advanced) instead of waiting.

/// An actix System on a current-thread runtime whose clock starts paused.
pub(crate) fn paused_system() -> actix_rt::SystemRunner {
    actix_rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime builds")
    })
}
