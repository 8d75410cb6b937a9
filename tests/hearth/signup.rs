use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases!(
    signing_up_lands_on_the_dashboard,
    an_email_can_have_only_one_account_whatever_its_case,
    each_bad_sign_up_input_is_explained_and_what_was_typed_is_kept,
    a_signed_in_visit_to_login_or_signup_goes_to_the_dashboard,
);

async fn signing_up_lands_on_the_dashboard(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.browser();

    let form = ada.get("/signup").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="email""#));

    let resp = ada
        .post_form(
            "/signup",
            &[
                ("name", "Ada Lovelace"),
                ("email", " Ada@Example.org "),
                ("password", "analytical engine"),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), "/dashboard");

    let dashboard = ada.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("Ada Lovelace"));
    assert!(dashboard.body.contains("ada@example.org"));
    assert!(dashboard.body.contains("AL"), "initials avatar");
}

async fn an_email_can_have_only_one_account_whatever_its_case(backend: Backend) {
    let app = backend.spawn().await;
    app.signed_up("Ada", "ada@example.org", "analytical engine").await;

    let again = app
        .browser()
        .post_form(
            "/signup",
            &[
                ("name", "Someone"),
                ("email", "ADA@example.org"),
                ("password", "another passphrase"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already an account with this email"));
    assert!(again.body.contains(r#"value="Someone""#), "the name is kept");
    assert!(!again.body.contains("another passphrase"), "the password is never echoed");
}

async fn each_bad_sign_up_input_is_explained_and_what_was_typed_is_kept(backend: Backend) {
    let app = backend.spawn().await;
    let browser = app.browser();
    let long_name = "n".repeat(81);
    let cases: [(&str, &str, &str, &str); 8] = [
        ("", "ada@example.org", "analytical engine", "Enter your name."),
        // Shown as "Ada" followed by whatever comes after, reversed.
        ("Ada\u{202E}nimda", "ada@example.org", "analytical engine", "change the direction"),
        (&long_name, "ada@example.org", "analytical engine", "Names can be at most 80 characters."),
        ("Ada", "", "analytical engine", "Enter your email address."),
        ("Ada", "ada.example.org", "analytical engine", "Enter an email address like"),
        ("Ada", "ada@example.org", "short", "Use at least 8 characters."),
        ("Ada", "ada@example.org", "password123", "one of the most common"),
        ("Ada", "ada@example.org", "", "Use at least 8 characters."),
    ];
    for (name, email, password, message) in cases {
        let resp = browser
            .post_form("/signup", &[("name", name), ("email", email), ("password", password)])
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} {email:?} {password:?}"
        );
        assert!(
            resp.body.contains(message),
            "expected {message:?} for {name:?} {email:?} {password:?}"
        );
        assert!(resp.body.contains(r#"aria-invalid="true""#));
        if !email.is_empty() {
            assert!(resp.body.contains(&format!(r#"value="{email}""#)), "email kept");
        }
        if password.len() >= 5 {
            assert!(!resp.body.contains(password), "password never echoed");
        }
    }
    // Nothing was created along the way.
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

async fn a_signed_in_visit_to_login_or_signup_goes_to_the_dashboard(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada", "ada@example.org", "analytical engine").await;
    for path in ["/login", "/signup", "/"] {
        let resp = ada.get(path).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.location(), "/dashboard", "{path}");
    }
}
