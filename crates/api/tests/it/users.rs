//! `/v1/users`: Argyle-style upsert, listing with search and cursor paging, patch and delete.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let r = app.post("/v1/users", key, body).await;
    assert!(r.status == StatusCode::CREATED || r.status == StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn upsert_answers_201_then_200_with_a_fresh_token_each_time() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let first =
        app.post("/v1/users", &key, json!({"account": "42", "display_name": "Ada", "metadata": {"plan": "pro"}})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["platform"], "default");
    assert_eq!(first.body["metadata"], json!({"plan": "pro"}));
    let again = app.post("/v1/users", &key, json!({"account": "42"})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["display_name"], "Ada", "absent fields are kept");
    assert_ne!(again.body["user_token"], first.body["user_token"]);
    for r in [&first, &again] {
        let claims = app.introspect(&key, r.body["user_token"].as_str().unwrap()).await;
        assert_eq!(claims["active"], true);
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    }
}

#[tokio::test]
async fn listing_searches_filters_and_pages_without_gaps() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let mut ids = Vec::new();
    for (account, platform, name) in [
        ("alice", "web", "Alice Liddell"),
        ("bob", "discord", "Bobby"),
        ("carol", "web", "Carol"),
        ("dave", "web", "100%_done"),
        ("erin", "discord", "ALICE's twin"),
    ] {
        ids.push(
            create(&app, &key, json!({"account": account, "platform": platform, "display_name": name})).await["id"]
                .clone(),
        );
    }

    let mut seen = Vec::new();
    let mut uri = "/v1/users?limit=2".to_owned();
    loop {
        let r = app.get(&uri, &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        seen.extend(r.body["data"].as_array().unwrap().iter().map(|u| u["id"].clone()));
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let accounts = |r: &crate::helpers::Response| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|u| u["account"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(
        accounts(&app.get("/v1/users?q=alice", &key).await),
        ["erin", "alice"],
        "case-insensitive, name or account"
    );
    assert_eq!(accounts(&app.get("/v1/users?q=%25_", &key).await), ["dave"], "% and _ are literal");
    assert_eq!(accounts(&app.get("/v1/users?platform=discord", &key).await), ["erin", "bob"]);
    assert_eq!(accounts(&app.get("/v1/users?platform=web&q=car", &key).await), ["carol"]);
    let empty = app.get("/v1/users?q=nobody", &key).await;
    assert_eq!(empty.body, json!({"data": [], "next_cursor": null}));

    for (query, field) in
        [("limit=0", "limit"), ("limit=500", "limit"), ("cursor=%21", "cursor"), ("platform=", "platform")]
    {
        let r = app.get(&format!("/v1/users?{query}"), &key).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{query}: {}", r.body);
    }
    app.get("/v1/users?limit=abc", &key).await.assert_problem(400, "invalid_query");
    app.get("/v1/users?colour=red", &key).await.assert_problem(400, "invalid_query");
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let user = create(&app, &key, json!({"account": "42", "display_name": "Ada", "metadata": {"a": 1}})).await;
    let uri = format!("/v1/users/{}", user["id"].as_str().unwrap());

    let r = app.call(Method::PATCH, &uri, Some(&key), Some(json!({"metadata": {"b": 2}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["display_name"].clone(), r.body["metadata"].clone()), (json!("Ada"), json!({"b": 2})));
    assert_ne!(r.body["updated_at"], user["updated_at"]);

    let r = app.call(Method::PATCH, &uri, Some(&key), Some(json!({"display_name": null}))).await;
    assert_eq!(r.body["display_name"], Value::Null, "null clears");
    assert_eq!(r.body["metadata"], json!({"b": 2}));

    let before = app.get(&uri, &key).await.body;
    for (body, field) in [
        (json!({"display_name": ""}), "display_name"),
        (json!({"metadata": [1]}), "metadata"),
        (json!({"display_name": "x".repeat(256)}), "display_name"),
    ] {
        let r = app.call(Method::PATCH, &uri, Some(&key), Some(body)).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    app.call(Method::PATCH, &uri, Some(&key), Some(json!({"account": "x"}))).await.assert_problem(422, "invalid_body");
    assert_eq!(app.get(&uri, &key).await.body, before, "rejected patches change nothing");
}

#[tokio::test]
async fn delete_removes_the_user_and_their_tokens() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, user_id) = app.claimr_token(&key, "gone").await;
    let (other_token, _) = app.claimr_token(&key, "stays").await;
    let uri = format!("/v1/users/{user_id}");
    assert_eq!(app.introspect(&key, &token).await["active"], true, "the row is now in this instance's memory");

    let r = app.call(Method::DELETE, &uri, Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.introspect(&key, &token).await, json!({"active": false}));
    assert_eq!(app.introspect(&key, &other_token).await["active"], true);
    app.get(&uri, &key).await.assert_problem(404, "user_not_found");
    app.call(Method::DELETE, &uri, Some(&key), None).await.assert_problem(404, "user_not_found");

    let (again, new_id) = app.claimr_token(&key, "gone").await;
    assert_ne!(new_id, user_id, "the same account comes back as a new user");
    assert_ne!(again, token);
}
