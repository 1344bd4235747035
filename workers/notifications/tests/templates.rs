//! The shipped templates render in every locale, and the loader's rules hold on small fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use notifications::Channel;
use notifications::templates::{TemplateError, Templates};

fn shipped() -> Templates {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    Templates::load(&dir, "en").expect("shipped templates load")
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn payment_vars() -> BTreeMap<String, String> {
    vars(&[
        ("payment_id", "pay-1"),
        ("payer", "acc-payer"),
        ("payee", "acc-payee"),
        ("amount", "12.34 EUR"),
        ("reason", "velocity_exceeded"),
        ("title", "Hello"),
        ("message", "World"),
    ])
}

/// A template directory with the given files.
fn fixture(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn every_shipped_template_renders_on_every_channel_in_english_and_german() {
    let t = shipped();
    for template in ["payment_receipt", "payment_received", "payment_failed", "generic"] {
        for channel in Channel::ALL {
            for locale in ["en", "de"] {
                let r = t
                    .render(template, channel, locale, &payment_vars())
                    .unwrap_or_else(|e| panic!("{template}/{channel}/{locale}: {e}"));
                assert!(!r.body.is_empty(), "{template}/{channel}/{locale}");
                assert_eq!(
                    r.html.is_some(),
                    channel == Channel::Email,
                    "{template}/{channel}/{locale}"
                );
                assert_eq!(
                    r.subject.is_some(),
                    channel != Channel::Sms,
                    "{template}/{channel}/{locale}"
                );
            }
        }
    }
}

#[test]
fn a_regional_locale_falls_back_to_its_language_then_to_the_fallback() {
    let t = shipped();
    let de = t
        .render("payment_receipt", Channel::Email, "de-DE", &payment_vars())
        .expect("de-DE");
    assert_eq!(de.subject.as_deref(), Some("Zahlung pay-1 ausgeführt"));
    let fr = t
        .render("payment_receipt", Channel::Sms, "fr-FR", &payment_vars())
        .expect("fr-FR");
    assert!(
        fr.body.starts_with("paystream: your payment of 12.34 EUR"),
        "{}",
        fr.body
    );
}

#[test]
fn the_exact_locale_wins_over_its_language() {
    let (_d, dir) = fixture(&[
        ("t/sms.de.text.j2", "Hallo"),
        ("t/sms.de-AT.text.j2", "Servus"),
        ("t/sms.en.text.j2", "Hello"),
    ]);
    let t = Templates::load(&dir, "en").expect("load");
    let render = |l: &str| t.render("t", Channel::Sms, l, &BTreeMap::new()).expect("render").body;
    assert_eq!(render("de-AT"), "Servus");
    assert_eq!(render("de-CH"), "Hallo");
    assert_eq!(render("it"), "Hello");
}

#[test]
fn a_template_missing_in_every_fallback_locale_is_an_error_naming_it() {
    let (_d, dir) = fixture(&[("t/sms.de.text.j2", "Hallo")]);
    let t = Templates::load(&dir, "en").expect("load");
    let err = t
        .render("t", Channel::Sms, "fr", &BTreeMap::new())
        .expect_err("missing");
    assert!(
        matches!(&err, TemplateError::Missing { template, channel: Channel::Sms, locale } if template == "t" && locale == "fr"),
        "{err:?}"
    );
    assert!(matches!(
        t.render("nope", Channel::Sms, "de", &BTreeMap::new()),
        Err(TemplateError::Missing { .. })
    ));
    assert_eq!(err.reason(), "template_missing");
}

#[test]
fn an_undefined_variable_is_a_render_error_not_an_empty_string() {
    let t = shipped();
    let err = t
        .render("payment_failed", Channel::Sms, "en", &vars(&[("payment_id", "p")]))
        .expect_err("undefined");
    assert!(
        matches!(&err, TemplateError::Render { name, .. } if name == "payment_failed/sms.en.text.j2"),
        "{err:?}"
    );
    assert!(err.to_string().contains("undefined"), "{err}");
}

#[test]
fn html_parts_are_escaped_and_text_parts_are_not() {
    let t = shipped();
    let v = vars(&[("title", "<b>Hi</b>"), ("message", "Tom & <script>x</script>")]);
    let r = t.render("generic", Channel::Email, "en", &v).expect("render");
    assert_eq!(r.body, "Tom & <script>x</script>");
    let html = r.html.expect("html");
    assert!(html.contains("Tom &amp; &lt;script&gt;x&lt;&#x2f;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn a_webhook_without_its_own_template_uses_the_email_parts() {
    let (_d, dir) = fixture(&[
        ("t/email.en.subject.j2", "S {{ x }}"),
        ("t/email.en.text.j2", "B {{ x }}"),
    ]);
    let t = Templates::load(&dir, "en").expect("load");
    let r = t
        .render("t", Channel::Webhook, "en", &vars(&[("x", "1")]))
        .expect("render");
    assert_eq!(
        (r.subject.as_deref(), r.body.as_str(), r.html),
        (Some("S 1"), "B 1", None)
    );
}

#[test]
fn a_badly_named_or_unparsable_file_is_refused_at_load_naming_the_file() {
    let (_d, dir) = fixture(&[("t/fax.en.text.j2", "x")]);
    let err = Templates::load(&dir, "en").expect_err("bad channel");
    assert!(
        matches!(&err, TemplateError::Layout { path, .. } if path.ends_with("t/fax.en.text.j2")),
        "{err:?}"
    );
    let (_d, dir) = fixture(&[("t/sms.en.body.j2", "x")]);
    assert!(matches!(Templates::load(&dir, "en"), Err(TemplateError::Layout { .. })));
    let (_d, dir) = fixture(&[("t/sms.en.text.j2", "{{ unclosed")]);
    assert!(
        matches!(Templates::load(&dir, "en"), Err(TemplateError::Parse { name, .. }) if name == "t/sms.en.text.j2")
    );
}
