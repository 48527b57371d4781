//! What people read: figures, the HTML report and the methods text.

pub mod html;
pub mod methods;
pub mod plots;
