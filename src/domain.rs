//! Small domain types with rules: roles, the unified social credit code (USCC) and enterprise
//! names. Row ids stay plain `i32`s, as diesel maps them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The four roles of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Enterprise,
    Reviewer,
    Official,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Enterprise,
        Role::Reviewer,
        Role::Official,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Enterprise => "enterprise",
            Role::Reviewer => "reviewer",
            Role::Official => "official",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that may read every enterprise (enterprise users see only their own).
    pub fn reads_all(self) -> bool {
        !matches!(self, Role::Enterprise)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 统一社会信用代码 (GB 32100-2015), validated with its check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Uscc(String);

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a credit code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsccError {
    Length,
    Character,
    Region,
    CheckCharacter,
}

impl UsccError {
    pub fn message(self) -> &'static str {
        match self {
            UsccError::Length => "must be 18 characters",
            UsccError::Character => "may use only 0-9 and A-Y without I, O, S, V, Z",
            UsccError::Region => "positions 3-8 must be a 6-digit administrative-division code",
            UsccError::CheckCharacter => "check character does not match (GB 32100)",
        }
    }
}

impl Uscc {
    /// Accepts upper- or lower-case input and stores upper case.
    pub fn parse(raw: &str) -> Result<Uscc, UsccError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.chars().count() != 18 {
            return Err(UsccError::Length);
        }
        let bytes = code.as_bytes();
        let mut values = [0u32; 18];
        for (i, b) in bytes.iter().enumerate() {
            let v = USCC_ALPHABET
                .iter()
                .position(|a| a == b)
                .ok_or(UsccError::Character)?;
            values[i] = v as u32;
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsccError::Region);
        }
        let sum: u32 = values[..17]
            .iter()
            .zip(USCC_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(UsccError::CheckCharacter);
        }
        Ok(Uscc(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative-division code of the registering authority (positions 3–8).
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An enterprise's name: the one parser for every path that sets one (registration, admin
/// create, `PATCH`, imports). Trimmed; 1–200 characters; no control characters and no
/// invisible or direction-changing formatting characters, which could make a name display
/// as something else than it is (Trojan Source, CVE-2021-42574) in lists, reports and CSVs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnterpriseName(String);

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Length,
    Control,
    Invisible,
}

impl NameError {
    pub fn code(self) -> &'static str {
        match self {
            NameError::Length => "length",
            NameError::Control => "control_character",
            NameError::Invisible => "invisible_character",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            NameError::Length => "name must be 1–200 characters",
            NameError::Control => "name may not contain control characters (tab, newline, …)",
            NameError::Invisible => {
                "name may not contain invisible or bidirectional formatting characters (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, …)"
            }
        }
    }
}

/// Zero-width, bidirectional-control and other invisible formatting characters.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                   // soft hyphen
        | '\u{061C}'                 // Arabic letter mark
        | '\u{180E}'                 // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'    // zero-width space/joiners, LRM, RLM
        | '\u{2028}'..='\u{202E}'    // line/paragraph separators, LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{206F}'    // word joiner, invisible operators, LRI, RLI, FSI, PDI, …
        | '\u{FEFF}'                 // zero-width no-break space (BOM)
        | '\u{FFF9}'..='\u{FFFB}'    // interlinear annotation
    )
}

impl EnterpriseName {
    pub fn parse(raw: &str) -> Result<EnterpriseName, NameError> {
        let name = raw.trim();
        if let Some(c) = name.chars().find(|c| c.is_control() || invisible(*c)) {
            return Err(if c.is_control() {
                NameError::Control
            } else {
                NameError::Invisible
            });
        }
        if name.is_empty() || name.chars().count() > 200 {
            return Err(NameError::Length);
        }
        Ok(EnterpriseName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnterpriseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_names() {
        assert_eq!(
            EnterpriseName::parse("  沈阳机床股份有限公司 ").map(|n| n.to_string()),
            Ok("沈阳机床股份有限公司".to_string())
        );
        assert!(EnterpriseName::parse("A&B (沈阳) Co., Ltd.").is_ok());
        for bad in [
            "沈阳\u{202E}司公",
            "a\u{2066}b",
            "a\u{2069}",
            "a\u{200E}b",
            "a\u{200F}b",
            "a\u{202A}b",
            "a\u{200B}b",
            "a\u{FEFF}b",
            "a\u{061C}b",
        ] {
            assert_eq!(
                EnterpriseName::parse(bad),
                Err(NameError::Invisible),
                "{bad:?}"
            );
        }
        for bad in ["a\nb", "a\tb", "a\rb", "a\u{0}b", "a\u{7F}b", "a\u{85}b"] {
            assert_eq!(
                EnterpriseName::parse(bad),
                Err(NameError::Control),
                "{bad:?}"
            );
        }
        assert_eq!(EnterpriseName::parse("   "), Err(NameError::Length));
        assert_eq!(
            EnterpriseName::parse(&"名".repeat(201)),
            Err(NameError::Length)
        );
        assert!(EnterpriseName::parse(&"名".repeat(200)).is_ok());
    }

    #[test]
    fn credit_code_vectors() {
        assert!(Uscc::parse("91110000600037341L").is_ok());
        assert!(Uscc::parse("912101061234567888").is_ok());
        assert!(
            Uscc::parse("91110000600037341l").is_ok(),
            "lower case accepted"
        );
        assert_eq!(
            Uscc::parse("91210100MA0QC1WY6Q"),
            Err(UsccError::CheckCharacter)
        );
        assert_eq!(
            Uscc::parse("91210106117823123B"),
            Err(UsccError::CheckCharacter)
        );
        assert_eq!(Uscc::parse("91110000600037341"), Err(UsccError::Length));
        assert_eq!(Uscc::parse("91110000600037341I"), Err(UsccError::Character));
        assert_eq!(Uscc::parse("91AB0000600037341L"), Err(UsccError::Region));
        // every other check character fails for a valid body
        for c in USCC_ALPHABET.iter().filter(|c| **c != b'L') {
            let code = format!("91110000600037341{}", *c as char);
            assert!(Uscc::parse(&code).is_err(), "{code}");
        }
    }
}
