//! What every experiment's report is made of: SVG plots ([`plot`]), the
//! terminal's tables ([`text`]), and the escaping of an HTML page.

pub mod plot;
pub mod text;

/// `text` made safe to put inside HTML, as content or in a quoted attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The start of a self-contained report page (no scripts, no fonts or
/// styles fetched): its head, with the lab's one style, and the opened body.
pub fn page_head(title: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}\
         td:first-child,th:first-child{{text-align:left}}.plots{{display:flex;flex-wrap:wrap;gap:10px}}\
         .verdict{{margin:.6em 0}}.figures{{color:#555;font-size:90%}}code{{background:#f4f4f4;padding:1px 4px}}</style>\
         </head><body>",
        escape(title)
    )
}
