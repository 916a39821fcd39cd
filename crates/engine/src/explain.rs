//! Explanations (to be written).
