//! Backups in an S3-compatible bucket, `s3://<bucket>/<prefix>`. A backup is
//! written into a local staging directory exactly as into a directory target
//! (same dumps, checksums and manifest), then each of its files is uploaded
//! under `<prefix>/<backup>/`, `manifest.json` last: an upload cut short leaves
//! no manifest, and objects without one are neither restored nor counted as
//! a backup. A failed upload deletes what it sent; what a killed one left is
//! deleted by the retention once a day old. A restore downloads a backup into
//! a temporary directory, where the checks of a directory restore run before
//! anything is written. The retention reads the bucket's manifests and
//! deletes the old backups' objects, their manifest first.
//!
//! Configured from the environment map: `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY` (required), `AWS_SESSION_TOKEN` (optional),
//! `AWS_REGION` (required unless an endpoint is set, then `us-east-1`),
//! `ATMR_BACKUP_S3_ENDPOINT` (a MinIO-like server, addressed path-style) and
//! `ATMR_BACKUP_S3_ALLOW_HTTP` (plain http goes only to a loopback endpoint
//! unless this is `true`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use kit::Env;
use object_store::{ObjectStore, aws::AmazonS3Builder, buffered::BufWriter, path::Path as Key};
use tokio::io::AsyncWriteExt as _;

use super::{
    manifest::{self, Manifest},
    retention::{self, Found, Retention},
};

/// How a bucket target starts.
pub const SCHEME: &str = "s3://";

/// A prefix in a bucket that holds backups.
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket/prefix`, without a trailing slash, as errors name it.
    url: String,
    prefix: Key,
}

impl Bucket {
    /// The bucket and prefix of `url` (`s3://bucket/prefix`), with credentials from `env`.
    pub fn open(url: &str, env: &Env) -> anyhow::Result<Self> {
        let rest = url.strip_prefix(SCHEME).ok_or_else(|| anyhow::anyhow!("{url} is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "{url} names no bucket (s3://<bucket>/<prefix>)");
        let prefix = prefix.trim_matches('/');
        let set = |var: &str| env.get(var).filter(|v| !v.is_empty()).map(str::to_owned);
        let required = |var: &str| set(var).ok_or_else(|| anyhow::anyhow!("{var} is not set; a backup in {url} needs it"));
        let endpoint = set("ATMR_BACKUP_S3_ENDPOINT");
        let region = match (set("AWS_REGION"), &endpoint) {
            (Some(region), _) => region,
            (None, Some(_)) => "us-east-1".to_owned(),
            (None, None) => anyhow::bail!("AWS_REGION is not set; a backup in {url} needs it (or ATMR_BACKUP_S3_ENDPOINT)"),
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(required("AWS_ACCESS_KEY_ID")?)
            .with_secret_access_key(required("AWS_SECRET_ACCESS_KEY")?);
        if let Some(token) = set("AWS_SESSION_TOKEN") {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = endpoint {
            let parsed = reqwest::Url::parse(&endpoint).with_context(|| format!("ATMR_BACKUP_S3_ENDPOINT={endpoint} is not a URL"))?;
            let http = match parsed.scheme() {
                "https" => false,
                "http" => {
                    let allowed = env.bool_or("ATMR_BACKUP_S3_ALLOW_HTTP", false)?;
                    anyhow::ensure!(
                        allowed || is_loopback(&parsed),
                        "ATMR_BACKUP_S3_ENDPOINT={endpoint} is plain http to a host that is not loopback; \
                         use https, or set ATMR_BACKUP_S3_ALLOW_HTTP=true"
                    );
                    true
                }
                other => anyhow::bail!("ATMR_BACKUP_S3_ENDPOINT={endpoint}: {other} is not http or https"),
            };
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false).with_allow_http(http);
        }
        let store = builder.build().with_context(|| format!("cannot configure the bucket of {url}"))?;
        let url = format!("{SCHEME}{bucket}{}", if prefix.is_empty() { String::new() } else { format!("/{prefix}") });
        Ok(Self { store: Arc::new(store), url, prefix: Key::from(prefix) })
    }

    /// The URL of the backup `name` in this bucket.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}/{name}", self.url)
    }

    /// Whether any object is stored under the backup `name`.
    pub async fn holds(&self, name: &str) -> anyhow::Result<bool> {
        Ok(!self.objects(&self.prefix.child(name)).await?.is_empty())
    }

    /// Uploads the backup in `dir` as `name`: every file `manifest` lists,
    /// then the manifest (other files in `dir`, such as SQLite's `-wal` and
    /// `-shm` beside a copy, are not part of the backup).
    pub async fn upload(&self, dir: &Path, name: &str, manifest: &Manifest) -> anyhow::Result<()> {
        let files = manifest.databases.iter().flat_map(|d| &d.files).map(|f| f.path.as_str()).chain([manifest::FILE]);
        for file in files {
            let key = child(&self.prefix.child(name), file);
            let upload = async {
                let mut from = tokio::fs::File::open(dir.join(file)).await?;
                // One PUT for small files, a multipart upload for large ones.
                let mut to = BufWriter::new(self.store.clone(), key.clone());
                if let Err(e) = tokio::io::copy(&mut from, &mut to).await {
                    to.abort().await.ok();
                    return Err(e);
                }
                to.shutdown().await
            };
            if let Err(e) = upload.await {
                // What went up is no backup without its manifest: removed
                // now, or by a later backup's retention if this fails too.
                if let Err(left) = self.delete_all(&self.prefix.child(name)).await {
                    tracing::warn!(backup = %self.url_of(name), error = %format!("{left:#}"), "an interrupted upload's objects stay until a later backup's retention");
                }
                return Err(anyhow::Error::new(e).context(format!("cannot upload {file} to {}", self.url_of(name))));
            }
        }
        Ok(())
    }

    /// The backups in the bucket (those with a readable manifest), newest first.
    /// `Found::dir` is the backup's URL.
    pub async fn list(&self) -> anyhow::Result<Vec<Found>> {
        let mut found = Vec::new();
        for object in self.objects(&self.prefix).await? {
            let parts: Vec<String> =
                object.location.prefix_match(&self.prefix).map(|p| p.map(|p| p.as_ref().to_owned()).collect()).unwrap_or_default();
            let [name, file] = parts.as_slice() else { continue };
            if file != manifest::FILE {
                continue;
            }
            let origin = format!("{}/{}", self.url_of(name), manifest::FILE);
            let read = async {
                let bytes = self.store.get(&object.location).await?.bytes().await?;
                Manifest::parse(&String::from_utf8_lossy(&bytes), &origin)
            };
            match read.await {
                Ok(manifest) => found.push(Found { dir: PathBuf::from(self.url_of(name)), created_at: manifest.created_at }),
                Err(e) => {
                    tracing::warn!(backup = %self.url_of(name), error = %format!("{e:#}"), "backup left alone: its manifest cannot be read")
                }
            }
        }
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.dir.cmp(&a.dir)));
        Ok(found)
    }

    /// Downloads into `to` the backup this URL names, or its newest backup
    /// when it names a prefix that holds backups; answers the backup's URL.
    pub async fn download(&self, to: &Path) -> anyhow::Result<String> {
        let (key, url) =
            if self.store.head(&self.prefix.child(manifest::FILE)).await.is_ok() {
                (self.prefix.clone(), self.url.clone())
            } else {
                let newest =
                    self.list().await?.into_iter().next().ok_or_else(|| {
                        anyhow::anyhow!("{} holds no backup (no {} in it or in a backup under it)", self.url, manifest::FILE)
                    })?;
                let url = newest.dir.display().to_string();
                let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                (self.prefix.child(name), url)
            };
        for object in self.objects(&key).await? {
            let Some(parts) = object.location.prefix_match(&key) else { continue };
            let relative: Vec<String> = parts.map(|p| p.as_ref().to_owned()).collect();
            let path = relative.iter().fold(to.to_owned(), |p, part| p.join(part));
            let fetch = async {
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                let mut file = tokio::fs::File::create(&path).await?;
                let mut stream = self.store.get(&object.location).await?.into_stream();
                while let Some(chunk) = stream.try_next().await? {
                    file.write_all(&chunk).await?;
                }
                file.flush().await?;
                anyhow::Ok(())
            };
            fetch.await.with_context(|| format!("cannot download {url}/{}", relative.join("/")))?;
        }
        Ok(url)
    }

    /// Deletes the backups `retention` lets go at `now`, each one's manifest
    /// first, and what uploads cut short left ([`retention::abandoned`]);
    /// answers their URLs.
    pub async fn prune(&self, retention: Retention, now: DateTime<Utc>) -> anyhow::Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for old in retention::expired(&self.list().await?, retention, now) {
            let url = old.dir.display().to_string();
            let name = url.rsplit('/').next().unwrap_or_default();
            self.delete_all(&self.prefix.child(name)).await?;
            removed.push(old.dir);
        }
        let mut names: BTreeMap<String, bool> = BTreeMap::new();
        // Each name under the prefix, and whether it holds a manifest.
        for object in self.objects(&self.prefix).await? {
            let Some(parts) = object.location.prefix_match(&self.prefix) else { continue };
            let parts: Vec<String> = parts.map(|p| p.as_ref().to_owned()).collect();
            let Some(name) = parts.first() else { continue };
            *names.entry(name.clone()).or_default() |= parts.len() == 2 && parts[1] == manifest::FILE;
        }
        for (name, has_manifest) in names {
            if !has_manifest && retention::abandoned(&name, now) {
                self.delete_all(&self.prefix.child(name.as_str())).await?;
                removed.push(PathBuf::from(self.url_of(&name)));
            }
        }
        Ok(removed)
    }

    /// Deletes every object under `key`, a manifest first (a backup is never
    /// seen without files it lists).
    async fn delete_all(&self, key: &Key) -> anyhow::Result<()> {
        let mut objects: Vec<Key> = self.objects(key).await?.into_iter().map(|o| o.location).collect();
        objects.sort_by_key(|k| k.filename() != Some(manifest::FILE));
        for object in objects {
            self.store.delete(&object).await.with_context(|| format!("cannot delete {object} of {}", self.url))?;
        }
        Ok(())
    }

    async fn objects(&self, under: &Key) -> anyhow::Result<Vec<object_store::ObjectMeta>> {
        let under = if under.as_ref().is_empty() { None } else { Some(under) };
        self.store.list(under).try_collect().await.with_context(|| format!("cannot list {}", self.url))
    }
}

/// Whether the endpoint's host is this machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `key` followed by the `/`-separated `relative` path.
fn child(key: &Key, relative: &str) -> Key {
    relative.split('/').fold(key.clone(), |k, part| k.child(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_missing_variable_or_a_plain_http_endpoint_elsewhere_is_named() {
        let keys = [("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let err = |pairs: &[(&str, &str)]| Bucket::open("s3://b/p", &env(pairs)).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err(&[("AWS_REGION", "eu-central-2")]).contains("AWS_ACCESS_KEY_ID is not set"));
        assert!(err(&keys).contains("AWS_REGION is not set"));
        let remote = [keys[0], keys[1], ("ATMR_BACKUP_S3_ENDPOINT", "http://minio.internal:9000")];
        assert!(err(&remote).contains("ATMR_BACKUP_S3_ALLOW_HTTP"), "{}", err(&remote));
        let allowed = [remote[0], remote[1], remote[2], ("ATMR_BACKUP_S3_ALLOW_HTTP", "true")];
        assert_eq!(err(&allowed), "");
        assert_eq!(err(&[keys[0], keys[1], ("ATMR_BACKUP_S3_ENDPOINT", "http://127.0.0.1:9000")]), "");
        assert!(Bucket::open("s3:///p", &env(&allowed)).is_err());
        let bucket = Bucket::open("s3://b/nightly/", &env(&allowed)).unwrap();
        assert_eq!(bucket.url_of("20261205T020000Z"), "s3://b/nightly/20261205T020000Z");
    }
}
