//! The REST contract against the server: what `/openapi.json` says a route
//! answers is what it answers (schemathesis checks the same at scale, see
//! `scripts/schemathesis.sh`; these are the cases it found).

use kit::testing::backends;
use serde_json::{Value, json};

use crate::mesh::{admin_token, start_mesh_with};

/// Schemathesis stored an action type with a control character through
/// `PUT /api/admin/safety-limits`, which every later read then returned
/// (and PostgreSQL refuses NUL in text): control characters are refused, as
/// in every other text field, and so are they in a review's notes.
#[tokio::test]
async fn control_characters_in_an_action_type_or_a_review_note_are_refused() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        for bad in ["swap\u{9b}", "swap\u{0}", "re\u{7}assign"] {
            let limits = json!({ "action_types": [{ "action_type": bad, "max_per_hour": 1 }] });
            let res = http.put(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).json(&limits).send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 400, "{backend:?} {bad:?}: {body}");
            assert_eq!(body["error"]["details"]["field"], "limits.action_types[0].action_type", "{body}");
        }
        let limits: Value =
            http.get(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(limits["action_types"], json!([]), "nothing was stored: {limits}");
        // A type on one line still goes through, trimmed.
        let ok = json!({ "action_types": [{ "action_type": " swap ", "max_per_hour": 1 }] });
        let res = http.put(format!("{gw}/api/admin/safety-limits")).bearer_auth(&token).json(&ok).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["action_types"][0]["action_type"], "swap");

        let review = |notes: &'static str| {
            http.post(format!("{gw}/api/admin/autonomous-actions/1/review")).bearer_auth(&token).json(&json!({ "notes": notes })).send()
        };
        let res = review("checked\u{0}").await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!((status, body["error"]["details"]["field"].as_str()), (400, Some("notes")), "{backend:?}: {body}");
        // Lines are text: such a note reaches the lookup (no action 1 here).
        assert_eq!(review("checked\nby phone").await.unwrap().status(), 404);
        mesh.gateway.stop().await.unwrap();
    }
}
