//! `integrity.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Integrity"),
    };
    pages.add(
        "integrity.html",
        cx.render("integrity.html", "integrity.html", "Integrity", page)?,
    );
    Ok(())
}
