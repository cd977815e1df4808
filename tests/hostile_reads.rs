//! Fault campaign case 10 and the config side of case 5: `config check` of a
//! device, a FIFO or a directory is refused at once, never read until memory or
//! patience runs out; a profile over the size cap is refused unread.

mod hostile_support;

use hostile_support::run;

#[test]
fn config_check_of_dev_zero_is_refused_unread() {
    run(["config", "check", "/dev/zero"])
        .assert_refused("is a character device, not a regular file");
    run(["config", "check", "/dev/zero", "--json"]).assert_refused("is a character device");
}

#[test]
fn config_check_of_a_fifo_or_a_directory_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("profile.toml");
    hostile_support::mkfifo(&fifo);
    run(["config", "check", fifo.to_str().unwrap()]).assert_refused("is a FIFO");
    run(["config", "check", dir.path().to_str().unwrap()]).assert_refused("is a directory");
}

#[test]
fn config_check_of_a_huge_profile_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(3 << 30).unwrap(); // sparse: no disk used
    run(["config", "check", big.to_str().unwrap()])
        .assert_refused("is 3221225472 bytes, over the 1048576-byte limit of a config file");
}
