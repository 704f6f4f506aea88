//! btcd's config file format (go-flags INI): `[Application Options]` sections, `name=value`
//! lines, `;` or `#` comments. Each line becomes the command-line argument it stands for, so
//! the file and the command line share one parser and one set of names (the daemon's, and
//! rbtcctl's for `rbtcctl.conf`).

use super::options::{Options, SWITCHES};

/// Turns the text of the daemon's config file into command-line arguments, checking each line
/// on its own so an error names its line.
pub fn to_args(text: &str) -> Result<Vec<String>, String> {
    to_args_for(text, SWITCHES, |line_args| {
        Options::parse(line_args).map(drop)
    })
}

/// Turns the text of a config file into command-line arguments for a program whose flags
/// without a value are `switches`, checking each line's arguments with `check`.
pub fn to_args_for(
    text: &str,
    switches: &[&str],
    check: impl Fn(&[String]) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with(';')
            || line.starts_with('#')
            || line.starts_with('[')
        {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!(
                "line {line_no}: expected name=value, found {line:?}"
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        let line_args = if switches.contains(&name) {
            match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "" => vec![format!("--{name}")],
                "0" | "false" | "no" => Vec::new(),
                _ => {
                    return Err(format!(
                        "line {line_no}: {name} takes 1 or 0, found {value:?}"
                    ))
                }
            }
        } else if value.is_empty() {
            Vec::new()
        } else {
            vec![format!("--{name}"), value.to_string()]
        };
        check(&line_args).map_err(|e| format!("line {line_no}: {e}"))?;
        args.extend(line_args);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_btcd_style_file() {
        let text = "[Application Options]\n; a comment\n# another\nrpcuser = alice\n\
                    rpcpass=secret\nregtest=1\nnolisten=0\naddpeer=10.0.0.1\naddpeer=10.0.0.2\n\
                    proxy=\n";
        let o = Options::parse(&to_args(text).unwrap()).unwrap();
        assert_eq!(o.rpcuser.as_deref(), Some("alice"));
        assert_eq!(o.rpcpass.as_deref(), Some("secret"));
        assert!(o.regtest);
        assert!(!o.nolisten);
        assert_eq!(o.addpeer, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(o.proxy, None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = to_args("rpcuser=a\nbogus=1\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = to_args("regtest=maybe").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = to_args("maxpeers=lots").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = to_args("just words").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
    }
}
