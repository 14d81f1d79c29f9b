//! `stamp` records a hand-made schema as migrated up to a version without
//! running anything, refuses a version it does not know (naming the known
//! ones) and a database already past it; `up_to` stops at its version.

use atmr_migrations::{Operation, StampError, known, run, stamp, up_to};
use kit::testing::{TestDb, backends};

#[tokio::test]
async fn a_hand_made_schema_is_stamped_up_to_a_known_version_only() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        let versions = known("bugs").unwrap();
        assert!(versions.len() >= 3, "{versions:?}");

        let unknown = stamp("bugs", "m9999_nothing", &db).await.unwrap_err();
        assert!(matches!(unknown, StampError::UnknownVersion { .. }), "{unknown}");
        assert!(unknown.to_string().contains(&versions[0]), "the known versions are named: {unknown}");
        assert!(stamp("trucks", &versions[0], &db).await.unwrap_err().to_string().contains("dispatch, safety"));
        let none = run("bugs", Operation::Status, &db).await.unwrap();
        assert!(none.iter().all(|m| !m.applied), "{backend:?}: a refused stamp writes nothing: {none:?}");

        let stamped = stamp("bugs", &versions[1], &db).await.unwrap();
        assert_eq!(stamped, versions[..2].to_vec());
        let status = run("bugs", Operation::Status, &db).await.unwrap();
        let applied: Vec<bool> = status.iter().map(|m| m.applied).collect();
        assert_eq!(&applied[..3], &[true, true, false], "{backend:?}: {status:?}");
        assert!(stamp("bugs", &versions[1], &db).await.unwrap().is_empty(), "stamping again records nothing twice");

        let beyond = stamp("bugs", &versions[0], &db).await.unwrap_err();
        assert!(matches!(beyond, StampError::AlreadyBeyond { .. }), "{beyond}");
        db.close().await.unwrap();

        // up_to on an empty database applies exactly the migrations up to its version.
        let other = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&other.url).await.unwrap();
        up_to("notify", &known("notify").unwrap()[1], &db).await.unwrap();
        let status = run("notify", Operation::Status, &db).await.unwrap();
        assert_eq!(status.iter().filter(|m| m.applied).count(), 2, "{backend:?}: {status:?}");
        db.close().await.unwrap();
    }
}
