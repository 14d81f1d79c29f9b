//! The autonomous actions over REST as the admin pages read them: the list
//! by status, an action's chain positions and hashes, the stats by bucket in
//! a time zone (a bad bucket named), and a break's chain position; the limits
//! with their defaults and the company's overrides apart.

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use axum::http::StatusCode;
use kit::{Component, testing};
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, gateway};

#[tokio::test]
async fn the_rest_api_lists_by_status_buckets_stats_and_names_a_breaks_position() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (_, safety) = gw.services.iter().find(|(c, _)| *c == Component::Safety).unwrap();
        let mut client = SafetyServiceClient::connect(safety.url()).await.unwrap();
        let call = safety.keys.call_token(Component::Dispatch, Component::Safety, 1);
        let mut ids = Vec::new();
        for kind in ["reassign", "swap"] {
            let req = pb::AuthorizeActionRequest {
                action_type: kind.into(),
                action_description: format!("{kind} booking 12"),
                action_data: r#"{"booking_id": 12}"#.into(),
                booking_id: Some(12),
                trigger_source: "autonomous_manager".into(),
                ..Default::default()
            };
            ids.push(client.authorize_action(kit::grpc::request(req, &call)).await.unwrap().into_inner().action_id);
        }
        let req =
            pb::CompleteActionRequest { action_id: ids[0], success: false, error_message: Some("no".into()), execution_time_ms: Some(9.0) };
        client.complete_action(kit::grpc::request(req, &call)).await.unwrap();

        let (status, failed) = gw.call("GET", "/api/admin/autonomous-actions?status=failed", Some(&token), None).await;
        assert_eq!((status, failed["total"].as_i64()), (StatusCode::OK, Some(1)), "{backend:?}: {failed}");
        let a = &failed["items"][0];
        assert_eq!((a["id"].as_i64(), a["chain_seq"].as_i64(), a["completion_seq"].as_i64()), (Some(ids[0]), Some(1), Some(3)), "{a}");
        assert_eq!(a["prev_hash"], json!("0".repeat(64)));
        assert_eq!(a["hash_version"], 2);
        let (status, bad) = gw.call("GET", "/api/admin/autonomous-actions?status=maybe", Some(&token), None).await;
        assert_eq!((status, &bad["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("status")));

        let (status, stats) =
            gw.call("GET", "/api/admin/autonomous-actions/stats?bucket=hour&buckets=3&time_zone=Europe/Zurich", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        let buckets = stats["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), 3);
        let sum = |key: &str| buckets.iter().map(|b| b[key].as_i64().unwrap()).sum::<i64>();
        assert_eq!((sum("total"), sum("failed"), sum("pending")), (2, 1, 1), "{stats}");
        assert!(buckets[2]["total"].as_i64().unwrap() >= 1, "the current hour is the last bucket: {stats}");
        assert_eq!(stats["since"], buckets[0]["start"], "the totals cover the buckets");
        for (query, field) in
            [("bucket=year", "bucket"), ("bucket=day&time_zone=Nowhere/City", "time_zone"), ("bucket=day&buckets=1000", "buckets")]
        {
            let (status, bad) = gw.call("GET", &format!("/api/admin/autonomous-actions/stats?{query}"), Some(&token), None).await;
            assert_eq!((status, &bad["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{query}: {bad}");
        }

        let db = kit::db::connect(&gw._dbs[Component::SERVICES.iter().position(|c| *c == Component::Safety).unwrap()].url).await.unwrap();
        db.execute_unprepared(&format!("UPDATE autonomous_action SET action_description = 'x' WHERE id = {}", ids[1])).await.unwrap();
        let (_, verify) = gw.call("GET", "/api/admin/autonomous-actions/verify", Some(&token), None).await;
        assert_eq!(verify["intact"], false);
        assert_eq!(
            (verify["breaks"][0]["action_id"].as_i64(), verify["breaks"][0]["chain_seq"].as_i64()),
            (Some(ids[1]), Some(2)),
            "{verify}"
        );
    }
}

#[tokio::test]
async fn the_limits_say_which_values_are_the_companys_overrides() {
    let gw = gateway(testing::TestBackend::Sqlite, &[]).await;
    let token = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, before) = gw.call("GET", "/api/admin/safety-limits", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["overrides"], json!({ "action_types": [] }), "nothing overridden yet");
    assert_eq!(before["defaults"]["max_actions_per_hour"], before["max_actions_per_hour"]);
    let put = json!({ "max_actions_per_day": 40, "action_types": [{ "action_type": "swap", "max_per_hour": 1 }] });
    let (status, after) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(put)).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        after["overrides"],
        json!({ "max_actions_per_day": 40, "action_types": [{ "action_type": "swap", "max_per_hour": 1, "max_per_day": null }] })
    );
    assert_eq!((after["max_actions_per_day"].as_i64(), after["overridden"].as_bool()), (Some(40), Some(true)));
    // A body read back from a GET is accepted: the read-only parts are ignored.
    let (status, again) = gw.call("PUT", "/api/admin/safety-limits", Some(&token), Some(after.clone())).await;
    assert_eq!(status, StatusCode::OK, "{again}");
}
