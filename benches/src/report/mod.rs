//! What every experiment's report is made of: SVG plots ([`plot`]), and
//! the text its HTML page and tables share.

pub mod plot;

/// `text` made safe to put inside HTML, as content or in a quoted attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
