//! The page frame: `<head>` (style sheet, htmx, its config without inline styles), the
//! navigation `#nav`, the language links, `#whoami` and the sign-out form; the sign-in page and
//! the error page.

use super::Page;
use super::i18n::Lang;
use maud::{DOCTYPE, Markup, html};

/// `<head>` of every page. htmx's indicator styles are off, so the CSP needs no inline style.
fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false}"#;
            title { (title) " – " (lang.texts().title) }
            // No icon: without one, browsers fetch /favicon.ico and log its 404.
            link rel="icon" href="data:,";
            link rel="stylesheet" href="/admin/static/admin.css";
            script src="/admin/static/htmx.min.js" defer {}
        }
    }
}

/// The links to the same page in each language.
fn languages(page: &Page) -> Markup {
    let t = page.lang.texts();
    html! {
        nav.languages aria-label=(t.language) {
            a #lang-de href={ (page.path) "?lang=de" } lang="de" hreflang="de"
                aria-current=[(page.lang == Lang::De).then_some("true")] { "Deutsch" }
            " · "
            a #lang-en href={ (page.path) "?lang=en" } lang="en" hreflang="en"
                aria-current=[(page.lang == Lang::En).then_some("true")] { "English" }
        }
    }
}

/// A signed-in page titled `title` around `body`.
pub fn frame(page: &Page, title: &str, body: Markup) -> Markup {
    let t = page.lang.texts();
    let links = [
        ("/admin/", t.nav_today),
        ("/admin/appointments", t.nav_appointments),
        ("/admin/dead-letters", t.nav_dead_letters),
        ("/admin/health", t.nav_health),
        ("/admin/tenants", t.nav_tenants),
        ("/admin/stats", t.nav_stats),
    ];
    html! {
        (DOCTYPE)
        html lang=(page.lang.code()) {
            (head(page.lang, title))
            body {
                header.top {
                    span.brand { "switchboard" }
                    nav #nav aria-label="Navigation" {
                        ul {
                            @for (href, label) in links {
                                li {
                                    a href=(href)
                                        aria-current=[(page.path == href).then_some("page")]
                                        { (label) }
                                }
                            }
                        }
                    }
                    div.account {
                        @if let Some(who) = &page.who {
                            span { (t.signed_in_as) " " strong #whoami { (who.name) } }
                            form #sign-out-form method="post" action="/admin/logout" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button #sign-out type="submit" { (t.sign_out) }
                            }
                        }
                        (languages(page))
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The sign-in page, with `error` shown in `.error` after a refused attempt.
pub fn login(page: &Page, error: Option<&str>) -> Markup {
    let t = page.lang.texts();
    html! {
        (DOCTYPE)
        html lang=(page.lang.code()) {
            (head(page.lang, t.sign_in))
            body {
                header.top {
                    span.brand { "switchboard" }
                    div.account { (languages(page)) }
                }
                main #main .narrow {
                    h1 { (t.sign_in) }
                    p { (t.sign_in_intro) }
                    @if let Some(error) = error {
                        p.error role="alert" { (error) }
                    }
                    form #login-form method="post" action="/admin/login" {
                        label for="token" { (t.token_label) }
                        input #token type="password" name="token" required
                            autocomplete="current-password" spellcheck="false"
                            autofocus maxlength="512";
                        button #sign-in type="submit" { (t.sign_in) }
                    }
                }
            }
        }
    }
}

/// A page that only says `message` (404, 403, 503), with a way back.
pub fn error(lang: Lang, message: &str) -> Markup {
    let t = lang.texts();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, message))
            body {
                main #main .narrow {
                    h1 { (message) }
                    p { a href="/admin/" { (t.back) } }
                }
            }
        }
    }
}
