//! Markdown from logs (rationales, document summaries) → inert HTML.
//!
//! Raw HTML, inline or block, is rendered as escaped text. Link targets are kept only for
//! `http:`, `https:` and `mailto:` URLs and in-page fragments; any other target (`javascript:`,
//! `data:`, relative paths into the site) turns the link into its text. Images are never loaded
//! (a site makes no network request): an image becomes its alt text.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

/// Renders `text` as HTML that can run nothing and fetch nothing.
pub fn to_html(text: &str) -> String {
    let mut skip_link_end = Vec::new();
    let mut in_image = 0usize;
    let events = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter_map(|event| match event {
            Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let ok = safe_url(&dest_url);
                skip_link_end.push(!ok);
                ok.then_some(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }))
            }
            Event::End(TagEnd::Link) => {
                let skip = skip_link_end.pop().unwrap_or(false);
                (!skip).then_some(Event::End(TagEnd::Link))
            }
            Event::Start(Tag::Image { .. }) => {
                in_image += 1;
                Some(Event::Text(CowStr::Borrowed("[image: ")))
            }
            Event::End(TagEnd::Image) => {
                in_image = in_image.saturating_sub(1);
                Some(Event::Text(CowStr::Borrowed("]")))
            }
            other => Some(other),
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('#') && !lower.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn raw_html_is_text() {
        let html = to_html("hello <script>alert(1)</script>\n\n<div onclick=x>hi</div>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_links_survive() {
        let html = to_html("[a](javascript:alert(1)) [b](https://example.org) [c](JavaScript:x)");
        assert!(!html.to_lowercase().contains("javascript:alert"), "{html}");
        assert!(!html.to_lowercase().contains("href=\"javascript"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(html.contains(">a<") || html.contains("a "), "{html}");
    }

    #[test]
    fn images_are_not_loaded() {
        let html = to_html("![chart](https://tracker.example/pixel.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("[image: chart]"), "{html}");
    }

    #[test]
    fn markdown_still_formats() {
        let html = to_html("**bold** and `code`\n\n- one\n- two");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<li>one</li>"));
    }
}
