//! `goblock/status` (docs/lsp.md, "Protocol extensions"): sent to a client
//! that asks for it when a load starts, when what is shown changes and
//! when a load is cancelled; never to one that does not. And a cancel with
//! the progress token of a load that has ended is ignored (#16 row 12).

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Client, Fixture};
use serde_json::{Value, json};

/// initialize (+ initialized) asking for `goblock/status`.
async fn initialize_with_status(c: &mut Client, root: &Path) {
    let uri = goblock_server::uri::from_path(root);
    c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "ws"}],
            "capabilities": {
                "window": {"workDoneProgress": true},
                "experimental": {"goblockStatus": true},
            },
            "initializationOptions": {"goblock": {"debounceMs": 100}},
        }),
    )
    .await;
    c.notify("initialized", json!({}));
}

async fn status(c: &Client, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    c.wait_for(what, Duration::from_secs(60), |m| {
        m["method"] == "goblock/status" && pred(&m["params"])
    })
    .await["params"]
        .clone()
}

fn statuses(c: &Client) -> Vec<Value> {
    c.log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "goblock/status")
        .map(|m| m["params"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_loading_loaded_and_failed() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("status", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    initialize_with_status(&mut c, &fx.ws).await;
    status(&c, "status loading", |p| p["state"] == "loading").await;
    let loaded = status(&c, "status loaded", |p| p["state"] == "loaded").await;
    // The same facts as goblock.hotLines.
    let hot = c.command("goblock.hotLines", json!([1])).await;
    let trace = &hot["traces"][0];
    assert_eq!(loaded["inputs"].as_array().unwrap().len(), 1, "{loaded:#}");
    let input = &loaded["inputs"][0];
    assert_eq!(input["path"], trace["path"]);
    assert_eq!(input["kind"], "trace");
    assert_eq!(input["goVersion"], trace["goVersion"]);
    assert_eq!(input["count"], trace["episodes"]);
    assert_eq!(loaded["totalLabel"], hot["totalLabel"]);
    assert_eq!(
        loaded["files"],
        json!(hot["files"].as_array().unwrap().len())
    );
    assert!(loaded["lines"].as_u64().unwrap() > 0, "{loaded:#}");
    assert_eq!(loaded["failures"], json!([]));

    // A file that is no trace: the load fails, what is shown stays — still
    // loaded, with the failure listed.
    let empty = fx.dir.join("empty.trace");
    std::fs::write(&empty, b"").unwrap();
    c.command("goblock.loadTrace", json!([empty])).await;
    let failed = status(&c, "status with a failure", |p| {
        p["failures"].as_array().is_some_and(|f| !f.is_empty())
    })
    .await;
    assert_eq!(failed["state"], "loaded", "{failed:#}");
    assert_eq!(failed["failures"][0]["path"], json!(empty), "{failed:#}");
    assert_eq!(failed["inputs"], loaded["inputs"], "{failed:#}");

    // Nothing changed: no second identical status.
    let n = statuses(&c).len();
    c.command("goblock.hotLines", json!([1])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(statuses(&c).len(), n);
    c.shutdown().await;
}

/// qa 05:21: a failed `loadTrace` of a file outside the workspace, then a
/// successful one: `failed` while nothing is shown, `loaded` (the failure
/// still listed) once something is — not `failed` for the rest of the
/// session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_failed_only_while_nothing_is_shown() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("statusfailed", &[]);
    let bad = fx.dir.join("bad.trace");
    std::fs::write(&bad, b"go 1.26 trace\0\0\0not a trace").unwrap();
    let good = fx.dir.join("good.trace");
    std::fs::copy(dir.join("blocking.trace"), &good).unwrap();
    let mut c = Client::start();
    initialize_with_status(&mut c, &fx.ws).await;
    let empty = status(&c, "status loaded", |p| p["state"] == "loaded").await;
    assert_eq!(empty["inputs"], json!([]), "{empty:#}");
    assert_eq!(empty["failures"], json!([]), "{empty:#}");

    let answer = c.command("goblock.loadTrace", json!([bad])).await;
    assert_eq!(answer["failures"][0]["path"], json!(bad), "{answer:#}");
    let failed = status(&c, "status failed", |p| p["state"] == "failed").await;
    assert_eq!(failed["inputs"], json!([]), "{failed:#}");
    assert_eq!(failed["failures"][0]["path"], json!(bad), "{failed:#}");

    let answer = c.command("goblock.loadTrace", json!([good])).await;
    assert_eq!(answer["failures"], json!([]), "{answer:#}");
    let loaded = status(&c, "status loaded with a failure", |p| {
        p["state"] != "loading" && p["inputs"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    assert_eq!(loaded["state"], "loaded", "{loaded:#}");
    assert_eq!(loaded["inputs"][0]["path"], json!(good), "{loaded:#}");
    assert!(loaded["lines"].as_u64().unwrap() > 0, "{loaded:#}");
    // The failure is still said: the clients show "… · 1 failed".
    assert_eq!(
        loaded["failures"].as_array().unwrap().len(),
        1,
        "{loaded:#}"
    );
    assert_eq!(loaded["failures"][0]["path"], json!(bad), "{loaded:#}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_status_for_a_client_that_did_not_ask() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new(
        "nostatus",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"debounceMs": 100}}))
        .await;
    c.loaded().await;
    c.command("goblock.reload", json!([])).await;
    assert_eq!(statuses(&c), Vec::<Value>::new());
    c.shutdown().await;
}

/// #16 row 12: the token of a load that has ended cancels nothing — not
/// the load running now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_loads_token_is_ignored() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new(
        "staletoken",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let mut c = Client::start();
    initialize_with_status(&mut c, &fx.ws).await;
    let begin = c
        .wait_for("$/progress begin", Duration::from_secs(60), |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin"
        })
        .await;
    let token = begin["params"]["token"].clone();
    c.loaded().await;
    status(&c, "status loaded", |p| p["state"] == "loaded").await;
    // A new load, and right behind it the old load's token cancelled.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.reload", "arguments": []}),
    );
    c.notify("window/workDoneProgress/cancel", json!({"token": token}));
    let r = c.response(id).await;
    assert!(r.get("error").is_none(), "{r:#}");
    assert_eq!(r["result"]["superseded"], Value::Null, "{r:#}");
    assert_eq!(r["result"]["loaded"].as_array().unwrap().len(), 1, "{r:#}");
    let logs: Vec<String> = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "window/logMessage")
        .map(|m| m["params"]["message"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("has ended was cancelled; ignored")),
        "{logs:#?}"
    );
    assert!(
        !logs.iter().any(|l| l.contains("loading cancelled")),
        "{logs:#?}"
    );
    // The status never said cancelled either.
    assert!(
        !statuses(&c)
            .iter()
            .any(|s| s["message"].as_str().unwrap_or("").contains("cancelled")),
    );
    c.shutdown().await;
}
