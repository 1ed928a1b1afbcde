//! `retention.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Retention"),
    };
    pages.add(
        "retention.html",
        cx.render("retention.html", "retention.html", "Retention", page)?,
    );
    Ok(())
}
