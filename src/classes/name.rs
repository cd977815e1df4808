//! `ClassName`: the name a user gives an activity ("brushing teeth"), checked once.

/// The longest name, in characters: names appear in status lines, logs and file reports.
pub const MAX_NAME_CHARS: usize = 64;

/// A checked class name: 1 to 64 characters, no control characters, no leading or
/// trailing white space. Two names are the same class when they are equal ignoring case
/// (`same_as`), so "Brushing" and "brushing" cannot become two classes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ClassName(String);

/// Why a text is not a class name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("class name is empty")]
    Empty,
    #[error("class name {name:?} has {chars} characters; at most {MAX_NAME_CHARS}")]
    TooLong { name: String, chars: usize },
    #[error("class name {name:?} has a control character at {index}")]
    Control { name: String, index: usize },
    #[error("class name {name:?} starts or ends with white space")]
    Padded { name: String },
}

impl ClassName {
    pub fn new(text: &str) -> Result<ClassName, NameError> {
        let chars = text.chars().count();
        if chars == 0 {
            return Err(NameError::Empty);
        }
        if chars > MAX_NAME_CHARS {
            let name: String = text.chars().take(MAX_NAME_CHARS).collect();
            return Err(NameError::TooLong { name, chars });
        }
        if let Some(index) = text.chars().position(char::is_control) {
            let name = text.to_string();
            return Err(NameError::Control { name, index });
        }
        if text.trim() != text {
            let name = text.to_string();
            return Err(NameError::Padded { name });
        }
        Ok(ClassName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` names the same class (equal ignoring case).
    pub fn same_as(&self, other: &str) -> bool {
        self.0.to_lowercase() == other.to_lowercase()
    }
}

impl std::fmt::Display for ClassName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ClassName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<ClassName, NameError> {
        ClassName::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_once() {
        assert_eq!(
            ClassName::new("brushing teeth").unwrap().as_str(),
            "brushing teeth"
        );
        assert_eq!(ClassName::new("").unwrap_err(), NameError::Empty);
        assert!(matches!(
            ClassName::new(" x"),
            Err(NameError::Padded { .. })
        ));
        assert!(matches!(
            ClassName::new("a\nb"),
            Err(NameError::Control { index: 1, .. })
        ));
        let long = "é".repeat(65);
        assert!(matches!(
            ClassName::new(&long),
            Err(NameError::TooLong { chars: 65, .. })
        ));
        assert!(ClassName::new(&"é".repeat(64)).is_ok());
        assert!(ClassName::new("Brushing").unwrap().same_as("bRUSHING"));
    }
}
