//! `events/1.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Events"),
    };
    pages.add(
        "events/1.html",
        cx.render("events/1.html", "events.html", "Events", page)?,
    );
    Ok(())
}
