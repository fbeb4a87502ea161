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
