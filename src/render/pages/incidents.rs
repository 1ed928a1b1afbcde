//! `incidents/index.html` (`SITE.md`, "Pages").

use serde::Serialize;

use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    summary: String,
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = Page {
        summary: String::from("Incidents"),
    };
    pages.add(
        "incidents/index.html",
        cx.render("incidents/index.html", "incidents.html", "Incidents", page)?,
    );
    Ok(())
}
