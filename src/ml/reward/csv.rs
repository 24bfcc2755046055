//! Minimal RFC 4180 record splitting (quoted fields, doubled quotes,
//! commas inside quotes); one record per line.

/// Splits one CSV line into fields. Returns `None` when a quoted field is
/// not closed or is followed by anything but blanks before the next comma.
pub fn split_record(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && field.trim().is_empty() && !was_quoted {
            field.clear();
            in_quotes = true;
            was_quoted = true;
        } else if was_quoted && c != ',' {
            // Only blanks may follow a closing quote.
            if !c.is_whitespace() {
                return None;
            }
        } else if c == ',' {
            fields.push(finish(&field, was_quoted));
            field.clear();
            was_quoted = false;
        } else {
            field.push(c);
        }
    }
    if in_quotes {
        return None;
    }
    fields.push(finish(&field, was_quoted));
    Some(fields)
}

fn finish(field: &str, quoted: bool) -> String {
    if quoted {
        field.to_string()
    } else {
        field.trim().to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::split_record;

    #[test]
    fn splits_quoted_fields() {
        let f = split_record(r#"a, "b,c" ,"d""e",5"#).unwrap();
        assert_eq!(f, vec!["a", "b,c", "d\"e", "5"]);
        assert!(split_record(r#"a,"b"#).is_none());
        assert!(split_record(r#"a,"b"x,c"#).is_none());
    }
}
