//! Many labelers on one store (issue #19 point 4): a shown pair is
//! reserved for a short time, so two labelers never see the same pair at
//! the same moment; on both backends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use adstudio::prefs::prefs_stats;
use adstudio::store::{pair_key, ImageStore, PairItem, RenderId, Store};
use adstudio::studio::labelling::{Answer, LabelSession, Scope};

use crate::common::backends::on_both_backends;
use crate::common::store_rows::renders;

fn r(id: RenderId) -> PairItem {
    PairItem::Render(id)
}

fn session(store: &Store, labeler: &str, seed: u64) -> LabelSession {
    LabelSession::open(
        store,
        &ImageStore::new("/nowhere"),
        labeler,
        &Scope::All,
        seed,
    )
    .expect("session")
}

/// The key of the pair a session shows.
fn shown(s: &LabelSession) -> Option<String> {
    let pair = s.current()?;
    Some(pair_key(pair.left.item, pair.right.item))
}

on_both_backends! {
    /// Store level: a held pair is refused to others, renewed for its
    /// holder, free again when released or expired; reserving another
    /// pair drops one's old reservation.
    fn reservations_hold_renew_release_and_expire(db) {
        let store = db.open();
        let (_, ids) = renders(&store, 3);
        let (a, b, c) = (r(ids[0]), r(ids[1]), r(ids[2]));
        let long = Duration::from_secs(60);
        assert!(store.reserve_pair(a, b, "ann", long).expect("ann"));
        assert!(!store.reserve_pair(b, a, "bob", long).expect("bob refused"));
        assert!(store.reserve_pair(a, b, "ann", long).expect("renewed"));
        let held = store.pairs_reserved_by_others("bob").expect("held");
        assert_eq!(held.into_iter().collect::<Vec<_>>(), vec![pair_key(a, b)]);
        assert!(store.pairs_reserved_by_others("ann").expect("own").is_empty());
        // Ann moves on: {a, b} is free.
        assert!(store.reserve_pair(a, c, "ann", long).expect("next"));
        assert!(store.reserve_pair(a, b, "bob", long).expect("bob now"));
        assert_eq!(store.release_reservations("bob").expect("release"), 1);
        assert!(store.reserve_pair(a, b, "cyd", Duration::from_secs(1)).expect("cyd"));
        assert!(!store.reserve_pair(a, b, "dee", long).expect("still held"));
        std::thread::sleep(Duration::from_millis(2100));
        // Only ann's {a, c} is held now.
        let held: Vec<_> = store.pairs_reserved_by_others("dee").expect("held").into_iter().collect();
        assert_eq!(held, vec![pair_key(a, c)]);
        assert!(store.reserve_pair(a, b, "dee", long).expect("expired: taken"));
    }
}

on_both_backends! {
    /// Two sessions over one pair: the second labeler is shown nothing and
    /// told the pair is on another screen; once the first answers, the
    /// second gets it on reload. Closing a session frees its pair.
    fn a_pair_on_one_screen_is_not_on_another(db) {
        let store = db.open();
        renders(&store, 2);
        let mut ann = session(&store, "ann", 1);
        assert!(ann.current().is_some());
        let mut bob = session(&db.open(), "bob", 2);
        assert!(bob.current().is_none());
        assert_eq!(bob.progress().held_elsewhere, 1);
        ann.answer(&store, Answer::Left).expect("ann labels");
        assert!(ann.current().is_none(), "ann has nothing left");
        bob.reload(&store, &ImageStore::new("/nowhere")).expect("reload");
        assert!(bob.current().is_some(), "free after ann's answer");
        assert_eq!(bob.progress().held_elsewhere, 0);
        // Bob leaves: cyd gets the pair at once.
        bob.close(&store).expect("close");
        let cyd = session(&store, "cyd", 3);
        assert!(cyd.current().is_some());
    }
}

on_both_backends! {
    /// Four labelers label at once on their own connections (8 renders:
    /// 28 pairs each): no pair is on two screens at any moment, every
    /// label is stored, each labeler labels every pair exactly once, and
    /// the agreement figures count all four.
    fn four_labelers_never_share_a_pair(db) {
        let store = db.open();
        renders(&store, 8);
        let on_screen: Mutex<HashMap<String, &str>> = Mutex::new(HashMap::new());
        let labelers = ["ann", "bob", "cyd", "dee"];
        std::thread::scope(|scope| {
            for (n, labeler) in labelers.into_iter().enumerate() {
                let on_screen = &on_screen;
                scope.spawn(move || label_all(&db.open(), labeler, n as u64, on_screen));
            }
        });
        let active = store.active_preferences().expect("prefs");
        assert_eq!(active.len(), 4 * 28);
        for labeler in labelers {
            let mut pairs: Vec<_> = store
                .preferences_of(labeler)
                .expect("of")
                .iter()
                .map(|p| pair_key(p.a, p.b))
                .collect();
            pairs.sort();
            pairs.dedup();
            assert_eq!(pairs.len(), 28, "{labeler}");
        }
        // The agreement figures cover the whole team.
        let stats = prefs_stats(&store).expect("stats");
        assert_eq!(stats.labelers.len(), 4, "{:?}", stats.labelers);
        assert_eq!(stats.between_labelers.len(), 6);
        assert_eq!(stats.all_labelers.labelers, 4);
        assert_eq!(stats.all_labelers.pairs, 28);
        assert_eq!(stats.all_labelers.ratings, 4 * 28);
        assert!(store.pairs_reserved_by_others("nobody").expect("none").is_empty());
    }
}

/// One labeler's loop: whenever a pair is shown, no other labeler may have
/// it on screen; it leaves the shared map before the answer frees it.
fn label_all(
    store: &Store,
    labeler: &'static str,
    seed: u64,
    on_screen: &Mutex<HashMap<String, &str>>,
) {
    let mut s = session(store, labeler, seed);
    let mut waits = 0;
    loop {
        match shown(&s) {
            Some(key) => {
                let mut map = on_screen.lock().expect("lock");
                if let Some(other) = map.insert(key.clone(), labeler) {
                    panic!("{key} on {other}'s and {labeler}'s screens");
                }
                drop(map);
                std::thread::sleep(Duration::from_millis(2));
                on_screen.lock().expect("lock").remove(&key);
                let answer = if seed.is_multiple_of(2) {
                    Answer::Left
                } else {
                    Answer::Right
                };
                s.answer(store, answer).expect("answer");
            }
            None if s.progress().overall.remaining == 0 => break,
            None => {
                // Every pair left is on another screen: wait for it.
                waits += 1;
                assert!(waits < 2000, "{labeler} waited too long");
                std::thread::sleep(Duration::from_millis(5));
                s.reload(store, &ImageStore::new("/nowhere"))
                    .expect("reload");
            }
        }
    }
    s.close(store).expect("close");
}

/// The shared store lost in the middle of labelling: answers go on, each
/// label is kept in the labeler's outbox file, and the first answer after
/// the store is back writes them all, in order, once.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn labels_wait_locally_while_the_store_is_lost() {
    use adstudio::studio::labelling::outbox::outbox_path;
    use adstudio::studio::labelling::LabelOutbox;

    use crate::common::pg_queue_db::TestDb;
    use crate::common::tcp_proxy::{proxied, TcpProxy};

    let db = TestDb::new("l_outbox");
    let direct = Store::open_postgres(&db.url).expect("direct");
    renders(&direct, 4);
    let (addr, via, proxy) = proxied(&db.url);
    let store = Store::open_postgres(&via).expect("via proxy");
    let dir = tempfile::tempdir().expect("tmp");
    let file = outbox_path(dir.path(), "ann");
    let outbox = LabelOutbox::open(&file).expect("outbox");
    let mut s = session(&store, "ann", 5).with_outbox(&store, outbox);
    assert!(s.answer(&store, Answer::Left).expect("stored").id.is_some());
    let port = proxy.cut();
    for _ in 0..2 {
        let kept = s.answer(&store, Answer::Right).expect("kept locally");
        assert!(kept.id.is_none());
    }
    assert_eq!(s.progress().unsaved, 2);
    let lines = std::fs::read_to_string(&file).expect("outbox file");
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert_eq!(direct.preferences_of("ann").expect("of").len(), 1);
    let _back = TcpProxy::start_on(port, addr);
    assert!(s.answer(&store, Answer::Left).expect("back").id.is_some());
    assert_eq!(s.unsaved(), 0);
    assert!(!file.exists(), "the outbox file goes once empty");
    let rows = direct.preferences_of("ann").expect("of");
    assert_eq!(rows.len(), 4);
    let mut pairs: Vec<_> = rows.iter().map(|r| pair_key(r.a, r.b)).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 4, "four different pairs, none twice");
}
