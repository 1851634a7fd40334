//! Settings: every `TESSERA_*` variable is a flag shown in `--help`, the README's configuration
//! table lists exactly those, and secrets neither show in `--help` nor come from the command line.

use std::collections::BTreeSet;

use super::{stdout, Cli};

/// Every command line whose `--help` lists settings.
const COMMANDS: [&[&str]; 8] = [
    &[],
    &["serve"],
    &["migrate"],
    &["org", "create"],
    &["member", "add"],
    &["api-key", "create"],
    &["api-key", "list"],
    &["api-key", "revoke"],
];

/// `(flag, variable)` pairs of one `--help` text: each `[env: NAME…]` with the flag of its line or
/// block.
fn settings_in_help(help: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut flag = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        // `--flag <VALUE>` or `-s, --flag`; not a `- value: …` line of "Possible values".
        if trimmed.starts_with("--") || trimmed.starts_with('-') && trimmed[1..].starts_with(char::is_alphabetic) {
            flag = trimmed.split([' ', ',', '=']).map(str::trim).find(|word| word.starts_with("--")).map(str::to_owned);
        }
        // Long help puts `[env: …]` on a line of its own, short help at the end of the flag's line.
        for (at, marker) in trimmed.match_indices("[env: ") {
            let rest = &trimmed[at + marker.len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
            found.insert((flag.clone().expect("an [env: …] belongs to a flag"), name));
        }
    }
    found
}

/// `(flag, variable)` pairs of the README's configuration table.
fn settings_in_readme() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("\n## Configuration\n").nth(1).expect("a Configuration section");
    let section = section.split("\n## ").next().unwrap();
    let mut found = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<_> = row.split(" | ").collect();
        let word = |cell: &str, prefix: &str| {
            let start = cell.find(prefix)?;
            Some(
                cell[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
                    .collect::<String>(),
            )
        };
        let flag = word(cells[0], "--").unwrap_or_else(|| panic!("no flag in {row}"));
        let var = word(cells[1], "TESSERA_").unwrap_or_else(|| panic!("no variable in {row}"));
        found.insert((flag, var));
    }
    found
}

#[test]
fn the_readme_lists_exactly_the_settings_of_help() {
    let cli = Cli::new();
    let mut in_help = BTreeSet::new();
    for command in COMMANDS {
        let help = cli.run(&[command, &["--help"]].concat());
        assert!(help.status.success(), "{command:?}");
        in_help.extend(settings_in_help(&stdout(&help)));
    }
    for var in ["TESSERA_DATABASE_URL", "TESSERA_MASTER_KEY", "TESSERA_MEMBER_PASSWORD", "TESSERA_CACHE_TTL_SECONDS"] {
        assert!(in_help.iter().any(|(_, v)| v == var), "{var} is missing from --help: {in_help:?}");
    }
    assert_eq!(settings_in_readme(), in_help, "README Configuration table (left) vs --help (right)");
}

#[test]
fn help_never_shows_a_secret_value() {
    let cli = Cli::new();
    let secrets = [
        ("TESSERA_MASTER_KEY", "bWFzdGVyLWtleS1zZWNyZXQ="),
        ("TESSERA_MEMBER_PASSWORD", "member-password-secret"),
        ("TESSERA_DATABASE_URL", "postgres://app:db-secret@db/t?password=db-secret"),
    ];
    for command in COMMANDS {
        let help = cli.run_env(&[command, &["--help"]].concat(), &secrets);
        let text = stdout(&help);
        assert!(help.status.success(), "{command:?}");
        for (_, value) in secrets {
            assert!(!text.contains(value), "{command:?} shows a secret: {text}");
        }
        assert!(!text.contains("db-secret") && !text.contains("bWFzdGVy"), "{command:?} shows a secret: {text}");
    }
    // Not a secret: shown, so an operator can see what a server will use.
    let help = cli.run_env(&["serve", "--help"], &[("TESSERA_CACHE_TTL_SECONDS", "7")]);
    assert!(stdout(&help).contains("TESSERA_CACHE_TTL_SECONDS=7"), "{}", stdout(&help));
}

#[test]
fn secrets_come_from_the_environment_not_the_command_line() {
    let cli = Cli::new();
    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let refused = cli.run(&["migrate", "--master-key", key]);
    assert_eq!(refused.status.code(), Some(2), "a usage error");
    let err = super::stderr(&refused);
    assert!(err.contains("TESSERA_MASTER_KEY") && !err.contains(key), "{err}");
    assert!(!cli.dir.path().join("tessera.db").exists(), "nothing ran");
    // The same key from the environment is used, and no key file is generated.
    let migrated = cli.run_env(&["migrate"], &[("TESSERA_MASTER_KEY", key)]);
    super::assert_ok(&migrated);
    assert_ok_org(&cli, key);
    assert!(!cli.dir.path().join("data").join("master.key").exists());

    let add = ["member", "add", "--org", "acme", "--email", "ada@example.com", "--role", "owner"];
    let refused = cli.run(&[&add[..], &["--password", "correct horse battery staple"]].concat());
    assert_eq!(refused.status.code(), Some(2));
    let err = super::stderr(&refused);
    assert!(err.contains("TESSERA_MEMBER_PASSWORD") && !err.contains("correct horse"), "{err}");
}

/// `org create` with the master key from the environment works.
fn assert_ok_org(cli: &Cli, key: &str) {
    let created = cli.run_env(&["org", "create", "--slug", "acme", "--name", "Acme"], &[("TESSERA_MASTER_KEY", key)]);
    super::assert_ok(&created);
}
