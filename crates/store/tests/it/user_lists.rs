//! Listing an org's users: newest-first order, cursor paging, the `q` and `platform` filters, and
//! tenant scoping.

use tessera_core::{OrgId, PageRequest, Platform, Store, UserId, UserQuery, UserUpsert};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    list_is_newest_first_and_scoped_to_the_org,
    paging_yields_every_user_exactly_once_even_with_equal_created_at,
    q_matches_account_or_display_name_case_insensitively,
    q_wildcards_and_backslash_are_literal,
    platform_filter_is_exact_and_combines_with_q,
);

/// Every page of the list with `q` and `platform`, following `next_cursor`; also returns the page
/// sizes.
async fn all_pages(
    s: &dyn Store,
    org: OrgId,
    q: Option<&str>,
    platform: Option<&str>,
    limit: u32,
) -> (Vec<UserId>, Vec<usize>) {
    let (mut ids, mut sizes, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let query = UserQuery {
            q: q.map(str::to_owned),
            platform: platform.map(|p| Platform::parse(p).unwrap()),
            page: PageRequest::parse(Some(limit), cursor.as_deref()).unwrap(),
        };
        let got = s.list_users(org, &query).await.unwrap();
        sizes.push(got.data.len());
        ids.extend(got.data.iter().map(|u| u.id));
        match got.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (ids, sizes),
        }
        assert!(sizes.len() < 100, "paging does not terminate");
    }
}

/// The ids of the users matching `q` (no platform filter), one big page.
async fn search(s: &dyn Store, org: OrgId, q: &str) -> Vec<UserId> {
    all_pages(s, org, Some(q), None, 200).await.0
}

/// Creates `(platform, account)` with `display_name` at `T0 + secs`.
async fn make(s: &dyn Store, org: OrgId, platform: &str, account: &str, name: Option<&str>, secs: i64) -> UserId {
    let input = UserUpsert { display_name: name.map(str::to_owned), ..upsert(platform, account, t(secs)) };
    let (user, created) = s.upsert_user(org, &input).await.unwrap();
    assert!(created);
    user.id
}

async fn list_is_newest_first_and_scoped_to_the_org(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let (empty, _) = org(s, "empty").await;
    let middle = make(s, a.id, "web", "middle", None, 20).await;
    let oldest = make(s, a.id, "web", "oldest", None, 10).await;
    let newest = make(s, a.id, "discord", "newest", None, 30).await;
    // Org B has the same identities, created later: none of them may show up in A's list.
    for account in ["middle", "oldest", "newest", "b-only"] {
        make(s, b.id, "web", account, None, 40).await;
    }

    let page = s.list_users(a.id, &UserQuery::default()).await.unwrap();
    assert_eq!(page.data.iter().map(|u| u.id).collect::<Vec<_>>(), vec![newest, middle, oldest]);
    assert_eq!(page.next_cursor, None);
    assert!(page.data.iter().all(|u| u.org_id == a.id));
    // Listed users are the stored users, field for field.
    assert_eq!(Some(&page.data[1]), s.user_by_id(a.id, middle).await.unwrap().as_ref());

    assert_eq!(all_pages(s, b.id, None, None, 50).await.0.len(), 4);
    let nothing = s.list_users(empty.id, &UserQuery::default()).await.unwrap();
    assert!(nothing.data.is_empty() && nothing.next_cursor.is_none());
    // Page by page, too, only org A's users are listed.
    assert_eq!(all_pages(s, a.id, None, None, 1).await.0, vec![newest, middle, oldest]);
}

async fn paging_yields_every_user_exactly_once_even_with_equal_created_at(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    // Several users share a creation time, so only the id tie-breaker (carried in the cursor)
    // orders them, and a cursor on the time alone would skip or repeat some.
    let mut made = Vec::new();
    for (i, secs) in [1, 2, 2, 2, 3, 4, 4, 2].into_iter().enumerate() {
        let platform = if i % 2 == 0 { "web" } else { "discord" };
        let id = make(s, a.id, platform, &format!("user-{i}"), None, secs).await;
        made.push((t(secs), id, platform));
        make(s, b.id, platform, &format!("user-{i}"), None, secs).await;
    }
    made.sort_by_key(|(at, id, _)| std::cmp::Reverse((*at, id.0)));
    let expected: Vec<_> = made.iter().map(|(_, id, _)| *id).collect();

    for (limit, sizes) in [(2, vec![2, 2, 2, 2]), (3, vec![3, 3, 2]), (1, vec![1; 8]), (8, vec![8]), (50, vec![8])] {
        let (ids, got_sizes) = all_pages(s, a.id, None, None, limit).await;
        assert_eq!(ids, expected, "limit {limit}");
        assert_eq!(got_sizes, sizes, "limit {limit}");
    }

    // Paging a filtered list: the cursor keeps the filter's order too.
    let web: Vec<_> = made.iter().filter(|(_, _, p)| *p == "web").map(|(_, id, _)| *id).collect();
    let (ids, sizes) = all_pages(s, a.id, None, Some("web"), 3).await;
    assert_eq!(ids, web);
    assert_eq!(sizes, vec![3, 1]);
    let (ids, sizes) = all_pages(s, a.id, Some("USER-"), None, 2).await;
    assert_eq!(ids, expected);
    assert_eq!(sizes, vec![2, 2, 2, 2]);
}

async fn q_matches_account_or_display_name_case_insensitively(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let alice = make(s, a.id, "web", "Alice-01", None, 1).await;
    let carol = make(s, a.id, "web", "carol", Some("Bob BUILDER"), 2).await;
    let dave = make(s, a.id, "discord", "dave", Some("alicia"), 3).await;
    make(s, b.id, "web", "alice-b", Some("Alice in org B"), 4).await;

    assert_eq!(search(s, a.id, "alice").await, vec![alice], "account, other case");
    assert_eq!(search(s, a.id, "ALICE-0").await, vec![alice]);
    assert_eq!(search(s, a.id, "builder").await, vec![carol], "display name, other case");
    assert_eq!(search(s, a.id, "b b").await, vec![carol], "a substring across a space");
    assert_eq!(search(s, a.id, "ali").await, vec![dave, alice], "account or display name, newest first");
    assert_eq!(search(s, a.id, "ar").await, vec![carol], "`carol` matches by account, no one else");
    assert_eq!(search(s, a.id, "zzz").await, Vec::<UserId>::new());
    assert_eq!(search(s, a.id, "").await, vec![dave, carol, alice], "an empty q matches everyone");
    assert_eq!(search(s, b.id, "ali").await.len(), 1, "org B sees only its own user");
}

async fn q_wildcards_and_backslash_are_literal(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let done = make(s, a.id, "web", "100%_done", None, 1).await;
    let near = make(s, a.id, "web", "100x-done", Some("100 percent"), 2).await;
    let slash = make(s, a.id, "web", r"back\slash", Some("Back Slash"), 3).await;
    let named = make(s, a.id, "web", "plain", Some("50% off_today"), 4).await;

    assert_eq!(search(s, a.id, "%_").await, vec![done], "`%_` is two literal characters");
    assert_eq!(search(s, a.id, "%").await, vec![named, done]);
    assert_eq!(search(s, a.id, "_").await, vec![named, done]);
    assert_eq!(search(s, a.id, "0%_D").await, vec![done]);
    assert_eq!(search(s, a.id, "100_done").await, Vec::<UserId>::new(), "`_` does not match `%`");
    assert_eq!(search(s, a.id, "100").await, vec![near, done]);
    assert_eq!(search(s, a.id, r"\").await, vec![slash], "the escape character is literal too");
    assert_eq!(search(s, a.id, r"k\s").await, vec![slash]);
    assert_eq!(search(s, a.id, r"\%").await, Vec::<UserId>::new());
}

async fn platform_filter_is_exact_and_combines_with_q(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let web = make(s, a.id, "web", "u1", Some("Ada"), 1).await;
    let web2 = make(s, a.id, "web2", "u1", Some("Ada"), 2).await;
    let upper = make(s, a.id, "WEB", "u1", Some("Ada"), 3).await;
    let web_other = make(s, a.id, "web", "u2", Some("Grace"), 4).await;
    let discord = make(s, a.id, "discord", "u3", Some("Ada"), 5).await;

    let org_id = a.id;
    let list = |q: Option<&'static str>, platform: &'static str| async move {
        all_pages(s, org_id, q, Some(platform), 50).await.0
    };
    assert_eq!(list(None, "web").await, vec![web_other, web], "no prefix or case-insensitive match");
    assert_eq!(list(None, "web2").await, vec![web2]);
    assert_eq!(list(None, "WEB").await, vec![upper]);
    assert_eq!(list(None, "telegram").await, Vec::<UserId>::new());
    assert_eq!(list(Some("ada"), "web").await, vec![web], "both filters apply");
    assert_eq!(list(Some("ada"), "discord").await, vec![discord]);
    assert_eq!(list(Some("grace"), "discord").await, Vec::<UserId>::new());
}
