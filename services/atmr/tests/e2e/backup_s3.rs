//! `atmr backup --to s3://…` and `atmr restore --from s3://…` against an
//! in-process S3-compatible fake (axum: PUT, GET, HEAD and DELETE of an
//! object, ListObjectsV2 by prefix, answered in S3's XML; signatures are not
//! verified, but every request must carry one). A loaded SQLite mesh is
//! backed up twice with a retention of one: the bucket holds the second
//! backup's files and manifest, and nothing of the first, nor of an upload
//! refused midway, nor of one killed two days before (one killed a minute
//! before, which may still be going, and other objects stay). The databases are
//! deleted; a restore with one byte changed in an object is refused naming
//! it, and writes nothing; an upload without a manifest, newer than the
//! backup, is ignored; the restore from the prefix brings every count back.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use kit::testing::TestBackend;

use crate::{
    backup::{NOTIFY, Webhook, counts, drop_all, env_of, load, table_count},
    mesh::start_mesh_configured,
};

const BUCKET: &str = "atmr-backups";

/// The fake's objects by `bucket/key`, the requests that came unsigned, and
/// how many more PUTs it takes before it refuses them (all when unset).
#[derive(Clone, Default)]
struct Fake {
    objects: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    unsigned: Arc<AtomicUsize>,
    puts_left: Arc<Mutex<Option<usize>>>,
}

impl Fake {
    async fn start() -> (Self, String) {
        let fake = Self::default();
        let app = axum::Router::new()
            .route("/{bucket}", get(list))
            .route("/{bucket}/{*key}", get(get_object).put(put_object).delete(delete_object))
            .layer(axum::middleware::from_fn_with_state(fake.clone(), signed))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, url)
    }

    fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    fn flip_last_byte(&self, key: &str) {
        let mut objects = self.objects.lock().unwrap();
        let bytes = objects.get_mut(key).unwrap_or_else(|| panic!("no object {key}"));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
    }
}

async fn signed(State(fake): State<Fake>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let auth = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !auth.starts_with("AWS4-HMAC-SHA256 Credential=test-key/") {
        fake.unsigned.fetch_add(1, Ordering::SeqCst);
    }
    next.run(request).await
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{}-{}\"", bytes.len(), bytes.iter().map(|b| u64::from(*b)).sum::<u64>())
}

const MODIFIED: &str = "Sat, 05 Dec 2026 02:00:00 GMT";

async fn put_object(State(fake): State<Fake>, Path((bucket, key)): Path<(String, String)>, body: Bytes) -> Response {
    if let Some(left) = fake.puts_left.lock().unwrap().as_mut() {
        if *left == 0 {
            // Not retried by the client, unlike a 5xx.
            return (StatusCode::FORBIDDEN, "<Error><Code>AccessDenied</Code></Error>").into_response();
        }
        *left -= 1;
    }
    let tag = etag(&body);
    fake.objects.lock().unwrap().insert(format!("{bucket}/{key}"), body.to_vec());
    (StatusCode::OK, [(header::ETAG, tag)]).into_response()
}

async fn get_object(State(fake): State<Fake>, Path((bucket, key)): Path<(String, String)>) -> Response {
    match fake.objects.lock().unwrap().get(&format!("{bucket}/{key}")) {
        Some(bytes) => {
            (StatusCode::OK, [(header::ETAG, etag(bytes)), (header::LAST_MODIFIED, MODIFIED.to_owned())], bytes.clone()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "<Error><Code>NoSuchKey</Code></Error>").into_response(),
    }
}

async fn delete_object(State(fake): State<Fake>, Path((bucket, key)): Path<(String, String)>) -> StatusCode {
    fake.objects.lock().unwrap().remove(&format!("{bucket}/{key}"));
    StatusCode::NO_CONTENT
}

/// ListObjectsV2: every key under `prefix`, in one page.
async fn list(
    State(fake): State<Fake>,
    Path(bucket): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    assert_eq!(query.get("list-type").map(String::as_str), Some("2"), "{query:?} {headers:?}");
    let prefix = format!("{bucket}/{}", query.get("prefix").cloned().unwrap_or_default());
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>{bucket}</Name>");
    for (key, bytes) in fake.objects.lock().unwrap().iter().filter(|(k, _)| k.starts_with(&prefix)) {
        let key = key.strip_prefix(&format!("{bucket}/")).unwrap().replace('&', "&amp;").replace('<', "&lt;");
        xml.push_str(&format!(
            "<Contents><Key>{key}</Key><LastModified>2026-12-05T02:00:00.000Z</LastModified><ETag>{}</ETag><Size>{}</Size></Contents>",
            etag(bytes).replace('"', "&quot;"),
            bytes.len()
        ));
    }
    xml.push_str("<IsTruncated>false</IsTruncated></ListBucketResult>");
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml")], xml).into_response()
}

#[tokio::test]
async fn a_backup_in_an_s3_bucket_is_restored_a_changed_object_refused_and_old_ones_pruned() {
    let (fake, endpoint) = Fake::start().await;
    let webhook = Webhook::start().await;
    let mesh = start_mesh_configured(TestBackend::Sqlite, &[], NOTIFY).await;
    load(&mesh, &webhook).await;
    let dbs = mesh.stop().await;
    let mut env = env_of(&dbs);
    for (var, value) in
        [("ATMR_BACKUP_S3_ENDPOINT", endpoint.as_str()), ("AWS_ACCESS_KEY_ID", "test-key"), ("AWS_SECRET_ACCESS_KEY", "test-secret")]
    {
        env.set(var, value);
    }

    let args = atmr::backup::BackupArgs { to: Some(format!("s3://{BUCKET}/nightly")), ..Default::default() };
    let now = chrono::Utc::now();
    let first = atmr::backup::backup(&args, &env, now).await.unwrap();
    let first_name = first.dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(fake.keys().contains(&format!("{BUCKET}/nightly/{first_name}/manifest.json")), "{:?}", fake.keys());
    // An upload refused after two files deletes what it sent.
    let before_failure = fake.keys();
    *fake.puts_left.lock().unwrap() = Some(2);
    let failed = format!("{:#}", atmr::backup::backup(&args, &env, now).await.unwrap_err());
    assert!(failed.contains("cannot upload"), "{failed}");
    *fake.puts_left.lock().unwrap() = None;
    assert_eq!(fake.keys(), before_failure, "nothing of the failed upload is left");
    // What killed uploads left: one two days old goes with the next backup's
    // retention; one a minute old may still be uploading, and an object not
    // named as a backup is not this tool's.
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let (abandoned, uploading) = (stamp(now - chrono::Duration::days(2)), stamp(now - chrono::Duration::minutes(1)));
    for key in [format!("{abandoned}/safety/db.sqlite"), format!("{uploading}/safety/db.sqlite"), "README".to_owned()] {
        fake.objects.lock().unwrap().insert(format!("{BUCKET}/nightly/{key}"), b"partial".to_vec());
    }
    let keep_one = atmr::backup::BackupArgs { keep: Some(1), keep_days: Some(0), ..args };
    let written = atmr::backup::backup(&keep_one, &env, now + chrono::Duration::seconds(1)).await.unwrap();
    assert_eq!(written.removed, vec![first.dir.clone(), format!("s3://{BUCKET}/nightly/{abandoned}").into()]);
    for key in [format!("{uploading}/safety/db.sqlite"), "README".to_owned()] {
        assert!(fake.objects.lock().unwrap().remove(&format!("{BUCKET}/nightly/{key}")).is_some(), "{key} is kept");
    }
    let name = written.dir.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(written.dir.display().to_string(), format!("s3://{BUCKET}/nightly/{name}"));
    let keys = fake.keys();
    assert!(!keys.iter().any(|k| k.contains(&first_name)), "the first backup is pruned in the bucket: {keys:?}");
    let manifest = written.manifest;
    let mut expected: Vec<String> =
        manifest.databases.iter().flat_map(|d| &d.files).map(|f| format!("{BUCKET}/nightly/{name}/{}", f.path)).collect();
    expected.push(format!("{BUCKET}/nightly/{name}/manifest.json"));
    expected.sort();
    assert_eq!(keys, expected, "the bucket holds the backup's files and its manifest");

    let before = counts(&dbs, &manifest).await;
    let rows = |table: &str| before.iter().find(|(_, t, _)| t == table).map_or(0, |(_, _, n)| *n);
    for table in ["booking", "autonomous_action", "bug_reports", "notification", "users"] {
        assert!(rows(table) > 0, "{table} is loaded: {before:?}");
    }
    drop_all(&dbs).await;

    let victim = &manifest.databases[1].files[0].path;
    fake.flip_last_byte(&format!("{BUCKET}/nightly/{name}/{victim}"));
    let from_backup = atmr::backup::RestoreArgs { from: written.dir.clone(), components: Vec::new(), force: false };
    let refused = format!("{:#}", atmr::backup::restore(&from_backup, &env).await.unwrap_err());
    assert!(refused.contains(victim.as_str()) && refused.contains(&written.dir.display().to_string()), "{refused}");
    assert_eq!(table_count(&dbs[1].url).await, 0, "nothing written by a refused restore");
    fake.flip_last_byte(&format!("{BUCKET}/nightly/{name}/{victim}"));

    // An upload cut short (no manifest), newer than the backup, is not a backup.
    fake.objects.lock().unwrap().insert(format!("{BUCKET}/nightly/29991231T000000Z/safety/db.sqlite"), b"partial".to_vec());
    let from_prefix = atmr::backup::RestoreArgs { from: format!("s3://{BUCKET}/nightly").into(), components: Vec::new(), force: false };
    atmr::backup::restore(&from_prefix, &env).await.unwrap();
    assert_eq!(counts(&dbs, &manifest).await, before, "every table's count");
    assert_eq!(fake.unsigned.load(Ordering::SeqCst), 0, "every request to the bucket is signed");
}
