//! Sharing files: pictures shown inline (upright, without where they were taken),
//! other files as downloads; only for the room's members; a limit that loses
//! nothing; gone with their message.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::on_both_databases;
use crate::support::{Backend, Browser, Page, TestApp, read};

on_both_databases!(
    a_photo_reaches_the_room_upright_and_without_its_location,
    files_are_for_the_rooms_members_only,
    html_and_svg_files_are_downloads_that_never_run,
    files_are_served_in_ranges_and_revalidated,
    files_over_the_limit_are_refused_and_the_text_kept,
    a_refused_message_keeps_its_files_for_the_next_try,
    deleting_the_message_deletes_its_files,
    a_script_sends_files_with_a_token,
    nobody_discards_or_sends_anothers_uploads_or_more_than_the_limit,
    unsent_uploads_are_capped_per_person,
);

const PASSWORD: &str = "analytical engine";
const WAIT: Duration = Duration::from_secs(5);
/// What the test photo's EXIF says where it was taken.
const LOCATION: &[u8] = b"GPS 51.5007N 0.1246W";

/// A file as a browser sends it in a form.
struct Upload<'a> {
    name: &'a str,
    content_type: &'a str,
    bytes: Vec<u8>,
}

/// Posts a form with files from one of Hearth's pages: with htmx's header as the
/// page's script sends it, or without as a plain browser does.
async fn post_files(
    who: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    files: Vec<Upload<'_>>,
    htmx: bool,
) -> Page {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for file in files {
        let part = Part::bytes(file.bytes)
            .file_name(file.name.to_owned())
            .mime_str(file.content_type)
            .unwrap();
        form = form.part("file", part);
    }
    let mut request = who
        .client
        .post(who.url(path))
        .header("sec-fetch-site", "same-origin")
        .header("origin", who.url(""))
        .multipart(form);
    if htmx {
        request = request.header("hx-request", "true");
    }
    read(request.send().await).await
}

/// A 64×32 JPEG whose EXIF says to show it turned a quarter clockwise, and where
/// it was taken.
fn photo() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 32, |x, _| image::Rgb([(x * 4) as u8, 80, 160]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    // EXIF: a big-endian TIFF header and one entry, Orientation (0x0112) = 6;
    // then the location's text, as a camera leaves it in the segment.
    let mut exif =
        b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(LOCATION);
    let mut parsed = img_parts::jpeg::Jpeg::from_bytes(jpeg.into_inner().into()).unwrap();
    let segment = img_parts::jpeg::JpegSegment::new_with_contents(0xE1, exif.into());
    parsed.segments_mut().insert(1, segment);
    parsed.encoder().bytes().to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn bytes_of(who: &Browser, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = who.client.get(who.url(path)).send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// The files of the newest message in `room`, as the API lists them.
async fn newest_files(who: &Browser, room: &str) -> Vec<Value> {
    let (status, history) = who.call("GET", &format!("/api/rooms/{room}/messages"), None).await;
    assert_eq!(status, StatusCode::OK);
    let newest = history.as_array().unwrap().last().cloned().unwrap_or(Value::Null);
    newest["attachments"].as_array().cloned().unwrap_or_default()
}

async fn ada_and_bo(app: &TestApp) -> (Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    (ada, bo)
}

async fn a_photo_reaches_the_room_upright_and_without_its_location(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let mut watching = app.live_socket(&bo, "general").await;

    let upload = Upload { name: "bridge.jpg", content_type: "image/jpeg", bytes: photo() };
    let sent =
        post_files(&ada, "/chat/general/messages", &[("body", "Look!")], vec![upload], false).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    let files = newest_files(&bo, "general").await;
    assert_eq!(files.len(), 1);
    let (url, preview) =
        (files[0]["url"].as_str().unwrap(), files[0]["thumbnail_url"].as_str().unwrap());
    assert_eq!(files[0]["name"], "bridge.jpg");
    assert_eq!(files[0]["content_type"], "image/jpeg");
    let pushed = watching.expect("Look!", WAIT).await;
    assert!(pushed.contains(&format!("src=\"{preview}\"")), "shown inline, live: {pushed}");
    assert!(pushed.contains(&format!("href=\"{url}\"")), "a click opens it whole");
    assert!(bo.get("/chat/general").await.body.contains(&format!("src=\"{preview}\"")));

    let (status, headers, served) = bytes_of(&bo, url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert!(!contains(&served, LOCATION) && !contains(&served, b"Exif"), "no EXIF is served");
    let whole = image::load_from_memory(&served).unwrap();
    assert_eq!((whole.width(), whole.height()), (32, 64), "turned upright");

    let (status, headers, small) = bytes_of(&bo, preview).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(!contains(&small, LOCATION));
    let small = image::load_from_memory(&small).unwrap();
    assert_eq!((small.width(), small.height()), (32, 64));
}

async fn files_are_for_the_rooms_members_only(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    ada.post_form("/rooms", &[("name", "Ops"), ("private", "on")]).await;
    let bo_id = bo.user_id().await;
    ada.post_form("/chat/ops/members", &[("user_id", &bo_id.to_string())]).await;
    let upload = Upload { name: "keys.txt", content_type: "text/plain", bytes: b"s3cret".to_vec() };
    post_files(&ada, "/chat/ops/messages", &[("body", "")], vec![upload], false).await;
    let files = newest_files(&bo, "ops").await;
    let url = files[0]["url"].as_str().unwrap().to_owned();
    assert_eq!(files[0]["thumbnail_url"], Value::Null, "not a picture");
    assert_eq!(bytes_of(&bo, &url).await.2, b"s3cret");

    assert_eq!(bytes_of(&grace, &url).await.0, StatusCode::NOT_FOUND, "not in the room");
    let id = url.split('/').nth(2).unwrap();
    assert_eq!(grace.get(&format!("/previews/{id}")).await.status, StatusCode::NOT_FOUND);
    let stranger = app.browser().get(&url).await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER, "signed out: to the sign-in page");
    assert!(stranger.location().starts_with("/login"));

    // A script of a member fetches it with a token; a token of someone else's cannot.
    let token = bo.make_token("backup").await;
    let with = |token: &str| {
        app.browser().client.get(app.browser().url(&url)).bearer_auth(token.to_owned()).send()
    };
    assert_eq!(with(&token).await.unwrap().bytes().await.unwrap().as_ref(), b"s3cret");
    let graces = grace.make_token("nosy").await;
    assert_eq!(with(&graces).await.unwrap().status(), StatusCode::NOT_FOUND);

    let bo_leaves = bo.post_form("/chat/ops/leave", &[]).await;
    assert_eq!(bo_leaves.status, StatusCode::SEE_OTHER);
    assert_eq!(bytes_of(&bo, &url).await.0, StatusCode::NOT_FOUND, "gone with the membership");
}

async fn html_and_svg_files_are_downloads_that_never_run(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let html = b"<html><script>fetch('/api/me')</script></html>".to_vec();
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let files = vec![
        Upload { name: "page.html", content_type: "text/html", bytes: html.clone() },
        // Claiming to be a PNG does not make it one.
        Upload { name: "drawing.svg", content_type: "image/svg+xml", bytes: svg.clone() },
        Upload { name: "fake.png", content_type: "image/png", bytes: html.clone() },
    ];
    let sent = post_files(&ada, "/chat/general/messages", &[("body", "Files")], files, false).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let listed = newest_files(&bo, "general").await;
    assert_eq!(listed.len(), 3);
    for (file, bytes) in listed.iter().zip([&html, &svg, &html]) {
        assert_eq!(file["thumbnail_url"], Value::Null, "{file}: not shown inline");
        let (status, headers, served) = bytes_of(&bo, file["url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&served, bytes);
        assert_eq!(headers["content-type"], "application/octet-stream", "{file}");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment; filename="), "{disposition}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-security-policy"], "sandbox");
    }
    let page = bo.get("/chat/general").await.body;
    assert!(page.contains("class=\"file-card\"") && page.contains("drawing.svg"));
    assert!(!page.contains("<img src=\"/previews/"), "no inline picture among them");
}

async fn files_are_served_in_ranges_and_revalidated(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    // Over two of the store's 256 KiB chunks.
    let bytes: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let upload =
        Upload { name: "data.bin", content_type: "application/x-data", bytes: bytes.clone() };
    post_files(&ada, "/chat/general/messages", &[], vec![upload], false).await;
    let files = newest_files(&bo, "general").await;
    let url = bo.url(files[0]["url"].as_str().unwrap());
    assert_eq!(files[0]["size"], 600_000);

    let whole = bo.client.get(&url).send().await.unwrap();
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "application/x-data");
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let again = bo.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let range = |spec: &'static str| bo.client.get(&url).header("range", spec).send();
    let across = range("bytes=262000-262999").await.unwrap();
    assert_eq!(across.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(across.headers()["content-range"], "bytes 262000-262999/600000");
    assert_eq!(across.bytes().await.unwrap().as_ref(), &bytes[262_000..263_000]);
    let tail = range("bytes=-10").await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[599_990..]);
    let outside = range("bytes=700000-").await.unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(outside.headers()["content-range"], "bytes */600000");
}

async fn files_over_the_limit_are_refused_and_the_text_kept(backend: Backend) {
    let app = backend.spawn_with(|config| config.attachment_max_mb = 1).await;
    let (ada, bo) = ada_and_bo(&app).await;
    let big = |size: usize| Upload {
        name: "big.bin",
        content_type: "application/zip",
        bytes: vec![7; size],
    };

    // Found out while it arrives: the composer comes back with the text.
    let page = post_files(
        &ada,
        "/chat/general/messages",
        &[("body", "The dump")],
        vec![big(1_300_000)],
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("at most 1 MB together"), "{}", page.body);
    assert!(page.body.contains(">The dump</textarea>"), "the text is kept");
    let two_small = vec![big(600_000), big(600_000)];
    let htmx =
        post_files(&ada, "/chat/general/messages", &[("body", "Both")], two_small, true).await;
    assert_eq!(htmx.status, StatusCode::PAYLOAD_TOO_LARGE, "the files of one message together");
    assert!(htmx.body.contains("id=\"composer\"") && htmx.body.contains(">Both</textarea>"));

    // Far over: refused before it is read.
    let page =
        post_files(&ada, "/chat/general/messages", &[("body", "x")], vec![big(3_000_000)], false)
            .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("at most 1 MB together"));

    let token = ada.make_token("uploads").await;
    let form =
        Form::new().text("body", "x").part("file", Part::bytes(vec![7; 1_300_000]).file_name("b"));
    let api = app
        .browser()
        .client
        .post(app.browser().url("/api/rooms/general/messages"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = api.json().await.unwrap();
    assert_eq!(error["error"], "payload_too_large", "{error}");

    let (_, history) = bo.call("GET", "/api/rooms/general/messages", None).await;
    assert_eq!(history, serde_json::json!([]), "nothing was sent");
    assert_eq!(app.behind_the_back("DELETE FROM attachments").await, 0, "nothing was kept");
}

async fn a_refused_message_keeps_its_files_for_the_next_try(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let notes =
        || Upload { name: "notes.txt", content_type: "text/plain", bytes: b"notes".to_vec() };
    let too_long = "x".repeat(4_001);
    let refused =
        post_files(&ada, "/chat/general/messages", &[("body", &too_long)], vec![notes()], true)
            .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("at most 4,000 characters"));
    let at = refused.body.find("name=\"attachment\" value=\"").expect("the file is kept, ticked");
    let id: String = refused.body[at + 25..].chars().take_while(char::is_ascii_digit).collect();
    assert!(refused.body.contains("notes.txt (5 bytes)"));

    // Someone else cannot send it.
    let bo_tries =
        post_files(&bo, "/chat/general/messages", &[("attachment", id.as_str())], vec![], true)
            .await;
    assert_eq!(bo_tries.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bo_tries.body.contains("no longer here"), "{}", bo_tries.body);

    let retry = [("body", "Shorter"), ("attachment", id.as_str())];
    let sent = post_files(&ada, "/chat/general/messages", &retry, vec![], true).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let files = newest_files(&bo, "general").await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["id"].to_string(), id);
    assert_eq!(bytes_of(&bo, files[0]["url"].as_str().unwrap()).await.2, b"notes");
}

async fn deleting_the_message_deletes_its_files(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let upload = Upload { name: "bridge.jpg", content_type: "image/jpeg", bytes: photo() };
    post_files(&ada, "/chat/general/messages", &[("body", "Oops")], vec![upload], false).await;
    let files = newest_files(&bo, "general").await;
    let (url, preview) =
        (files[0]["url"].as_str().unwrap(), files[0]["thumbnail_url"].as_str().unwrap());
    assert_eq!(bytes_of(&bo, url).await.0, StatusCode::OK);

    let id = ada.message_id("general", "Oops").await;
    let deleted = ada.post_form(&format!("/messages/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    for path in [url, preview] {
        assert_eq!(bytes_of(&ada, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.behind_the_back("DELETE FROM attachment_chunks").await, 0, "no bytes are left");
}

async fn a_script_sends_files_with_a_token(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    let token = ada.make_token("camera").await;
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        let picture = image::RgbaImage::from_pixel(1600, 900, image::Rgba([10, 200, 90, 128]));
        image::DynamicImage::ImageRgba8(picture)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let form = Form::new()
        .text("body", "Two files")
        .part("file", Part::bytes(png).file_name("chart.png").mime_str("image/png").unwrap())
        .part(
            "file",
            Part::bytes(b"a,b\n1,2\n".to_vec()).file_name("data.csv").mime_str("text/csv").unwrap(),
        );
    let client = app.browser().client;
    let sent = client
        .post(app.browser().url("/api/rooms/general/messages"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let message: Value = sent.json().await.unwrap();
    assert_eq!(message["body"], "Two files");
    let files = message["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "chart.png");
    assert_eq!(files[0]["content_type"], "image/png");
    let preview = files[0]["thumbnail_url"].as_str().expect("a picture has a preview");
    assert_eq!(files[1]["name"], "data.csv");
    assert_eq!(files[1]["content_type"], "text/csv");
    assert_eq!(files[1]["size"], 8);
    assert_eq!(files[1]["thumbnail_url"], Value::Null);
    assert_eq!(newest_files(&bo, "general").await, *files, "listed the same in the history");

    let small = client.get(app.browser().url(preview)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(small.headers()["content-type"], "image/png", "transparent: kept as PNG");
    let small = image::load_from_memory(&small.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (720, 405), "made smaller, in proportion");

    let empty = client
        .post(app.browser().url("/api/rooms/general/messages"))
        .bearer_auth(&token)
        .multipart(Form::new().text("body", " "))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY, "neither text nor files");
}

async fn nobody_discards_or_sends_anothers_uploads_or_more_than_the_limit(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, bo) = ada_and_bo(&app).await;
    // Ada's send is refused (text over the limit), so her upload is kept for her retry.
    let long = "x".repeat(20_000);
    let file =
        || Upload { name: "plan.txt", content_type: "text/plain", bytes: b"the plan".to_vec() };
    let refused =
        post_files(&ada, "/chat/general/messages", &[("body", &long)], vec![file()], false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = refused.body.split(r#"name="attachment" value=""#).nth(1).unwrap();
    let kept = kept.split('"').next().unwrap().to_owned();

    // Bo names Ada's upload in a refused API post of his own: it is not his to discard.
    let form = Form::new().text("body", long.clone()).text("attachment", kept.clone());
    let api = bo
        .client
        .post(bo.url("/api/rooms/general/messages"))
        .header("sec-fetch-site", "same-origin");
    assert_eq!(
        api.multipart(form).send().await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nor can he send it as his.
    let form = Form::new().text("body", "mine now").text("attachment", kept.clone());
    let api = bo
        .client
        .post(bo.url("/api/rooms/general/messages"))
        .header("sec-fetch-site", "same-origin");
    let sent: Value = api.multipart(form).send().await.unwrap().json().await.unwrap();
    assert_eq!(sent["attachments"], serde_json::json!([]));
    // Ada's retry still has it.
    let retry = post_files(
        &ada,
        "/chat/general/messages",
        &[("body", "The plan"), ("attachment", &kept)],
        vec![],
        false,
    )
    .await;
    assert_eq!(retry.status, StatusCode::SEE_OTHER);
    assert_eq!(newest_files(&ada, "general").await.len(), 1);

    // Ten kept files and ten new ones are more than a message carries.
    let ten = || (0..10).map(|_| file()).collect::<Vec<_>>();
    let first = post_files(&ada, "/chat/general/messages", &[("body", &long)], ten(), false).await;
    let kept: Vec<String> = first
        .body
        .split(r#"name="attachment" value=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(kept.len(), 10);
    let mut fields: Vec<(&str, &str)> = kept.iter().map(|id| ("attachment", id.as_str())).collect();
    fields.push(("body", "all of them"));
    let twenty = post_files(&ada, "/chat/general/messages", &fields, ten(), false).await;
    assert_eq!(twenty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twenty.body.contains("at most 10 files"), "{}", twenty.body);
}

async fn unsent_uploads_are_capped_per_person(backend: Backend) {
    let app = backend.spawn_with(|config| config.attachment_max_mb = 1).await;
    let (ada, bo) = ada_and_bo(&app).await;
    let long = "x".repeat(20_000);
    let big =
        || Upload { name: "scan.pdf", content_type: "application/pdf", bytes: vec![7; 900_000] };
    // Each refused send keeps its file for the retry: four messages' worth may wait.
    let mut kept = Vec::new();
    for _ in 0..4 {
        let refused =
            post_files(&ada, "/chat/general/messages", &[("body", &long)], vec![big()], false)
                .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let id = refused.body.split(r#"name="attachment" value=""#).nth(1).unwrap();
        kept.push(id.split('"').next().unwrap().to_owned());
    }
    let fifth =
        post_files(&ada, "/chat/general/messages", &[("body", "one more")], vec![big()], false)
            .await;
    assert_eq!(fifth.status, StatusCode::CONFLICT);
    assert!(fifth.body.contains("not yet sent"), "{}", fifth.body);
    // Someone else is not held back by Ada's.
    let bos =
        post_files(&bo, "/chat/general/messages", &[("body", "mine")], vec![big()], false).await;
    assert_eq!(bos.status, StatusCode::SEE_OTHER);
    // Sending what waits makes room again.
    let sent = post_files(
        &ada,
        "/chat/general/messages",
        &[("body", "the scan"), ("attachment", &kept[0])],
        vec![],
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let again =
        post_files(&ada, "/chat/general/messages", &[("body", "one more")], vec![big()], false)
            .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}
