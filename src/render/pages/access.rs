//! `access.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Access"),
    };
    pages.add(
        "access.html",
        cx.render("access.html", "access.html", "Access", page)?,
    );
    Ok(())
}
