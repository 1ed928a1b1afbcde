//! `models/index.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Models"),
    };
    pages.add(
        "models/index.html",
        cx.render("models/index.html", "models.html", "Models", page)?,
    );
    Ok(())
}
