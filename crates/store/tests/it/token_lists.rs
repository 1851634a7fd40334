//! Listing a user's tokens: order, status filter at `now`, and cursor paging.

use tessera_core::{OrgId, PageRequest, Store, Timestamp, TokenQuery, TokenStatus, UserId, UserTokenId};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(list_filters_by_status_at_now_newest_first, paging_yields_every_row_exactly_once,);

/// Every page of the list, following `next_cursor`; also returns the page sizes.
async fn all_pages(
    s: &dyn Store,
    org: OrgId,
    user: UserId,
    status: Option<TokenStatus>,
    limit: u32,
    now: Timestamp,
) -> (Vec<UserTokenId>, Vec<usize>) {
    let (mut ids, mut sizes, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let page = PageRequest::parse(Some(limit), cursor.as_deref()).unwrap();
        let got = s.list_user_tokens(org, user, &TokenQuery { status, page }, now).await.unwrap();
        sizes.push(got.data.len());
        ids.extend(got.data.iter().map(|t| t.id));
        match got.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (ids, sizes),
        }
        assert!(sizes.len() < 100, "paging does not terminate");
    }
}

async fn list_filters_by_status_at_now_newest_first(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let u = user(s, a.id, "u1").await;
    let other = user(s, a.id, "u2").await;
    let now = t(100);
    let insert = |issued: i64, exp: Option<i64>| {
        let token = new_token(u.id, key.id, t(issued), exp.map(t));
        async move { s.insert_user_token(a.id, &token).await.unwrap().id }
    };
    let active = insert(1, Some(200)).await;
    let permanent = insert(2, None).await;
    let expired = insert(3, Some(50)).await;
    let expires_now = insert(4, Some(100)).await;
    let revoked = insert(5, Some(200)).await;
    let revoked_and_expired = insert(6, Some(50)).await;
    s.revoke_user_token(a.id, revoked, t(7), &audit()).await.unwrap();
    s.revoke_user_token(a.id, revoked_and_expired, t(7), &audit()).await.unwrap();
    s.insert_user_token(a.id, &new_token(other.id, key.id, t(9), None)).await.unwrap();

    let list = |status, now| all_pages(s, a.id, u.id, status, 50, now);
    let everything = vec![revoked_and_expired, revoked, expires_now, expired, permanent, active];
    assert_eq!(list(None, now).await.0, everything);
    assert_eq!(list(Some(TokenStatus::Active), now).await.0, vec![permanent, active]);
    assert_eq!(list(Some(TokenStatus::Expired), now).await.0, vec![expires_now, expired], "exp == now is expired");
    assert_eq!(list(Some(TokenStatus::Revoked), now).await.0, vec![revoked_and_expired, revoked], "revoked wins");
    // The same rows at a later `now`.
    assert_eq!(list(Some(TokenStatus::Active), t(300)).await.0, vec![permanent]);
    assert_eq!(list(Some(TokenStatus::Expired), t(300)).await.0, vec![expires_now, expired, active]);

    // Statuses agree with the domain's own rule.
    let page = s.list_user_tokens(a.id, u.id, &TokenQuery::default(), now).await.unwrap();
    assert_eq!(page.next_cursor, None);
    for token in &page.data {
        let filtered = list(Some(token.status(now)), now).await.0;
        assert!(filtered.contains(&token.id), "{token:?}");
    }

    // Another org sees nothing of this user.
    assert_eq!(list(None, now).await.0.len(), 6);
    assert!(all_pages(s, b.id, u.id, None, 50, now).await.0.is_empty());
}

async fn paging_yields_every_row_exactly_once(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let u = user(s, a.id, "u1").await;
    // Several tokens share an issue time, so only the id tie-breaker orders them.
    let mut made = Vec::new();
    for secs in [1, 2, 2, 2, 3, 4, 4, 2] {
        made.push(s.insert_user_token(a.id, &new_token(u.id, key.id, t(secs), Some(t(1000)))).await.unwrap());
    }
    made.sort_by_key(|t| std::cmp::Reverse((t.issued_at, t.id.0)));
    let expected: Vec<_> = made.iter().map(|t| t.id).collect();
    let now = t(100);

    for (limit, sizes) in [(3, vec![3, 3, 2]), (1, vec![1; 8]), (4, vec![4, 4]), (8, vec![8]), (50, vec![8])] {
        let (ids, got_sizes) = all_pages(s, a.id, u.id, None, limit, now).await;
        assert_eq!(ids, expected, "limit {limit}");
        assert_eq!(got_sizes, sizes, "limit {limit}");
    }

    // Paging through a filtered list: revoke every third token, then page the active ones.
    for token in made.iter().step_by(3) {
        s.revoke_user_token(a.id, token.id, t(50), &audit()).await.unwrap();
    }
    let active: Vec<_> = expected.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, id)| *id).collect();
    let (ids, sizes) = all_pages(s, a.id, u.id, Some(TokenStatus::Active), 2, now).await;
    assert_eq!(ids, active);
    assert_eq!(sizes, vec![2, 2, 1]);
    let revoked: Vec<_> = expected.iter().step_by(3).copied().collect();
    assert_eq!(all_pages(s, a.id, u.id, Some(TokenStatus::Revoked), 2, now).await.0, revoked);
}
