//! `datasets/index.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Datasets"),
    };
    pages.add(
        "datasets/index.html",
        cx.render("datasets/index.html", "datasets.html", "Datasets", page)?,
    );
    Ok(())
}
