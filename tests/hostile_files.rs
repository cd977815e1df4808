//! Fault campaign cases 5 and 11: a sensor CSV that is a symlink loop, a
//! directory, a link to `/dev/zero` or a FIFO, and a frame folder linked to
//! itself, were counted as a missing modality (exit 0) while `embed` failed, read
//! 2 GB or hung; a 50 MB one-line CSV cost 9x its size. Each is now an error
//! naming the path, from `dataset check` and `embed` alike, quickly and in little
//! memory.

mod hostile_support;

use hostile_support::{frame_dirs, replace_with_link, run, sensor_files, synth, tiny_model};
use std::path::{Path, PathBuf};

/// A fresh D with `edit` applied to its first sensor file; returns (dir, D, file).
fn with_sensor(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let file = sensor_files(&d)[0].clone();
    edit(&file);
    (dir, d, file)
}

/// `dataset check` and `embed` both refuse D, saying `said`.
#[track_caller]
fn both_refuse(d: &Path, said: &str) {
    run(["dataset", "check", d.to_str().unwrap()]).assert_refused(said);
    let m = tiny_model();
    let embed = [
        "embed",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        m.to_str().unwrap(),
    ];
    run(embed).assert_refused(said);
}

#[test]
fn sensor_csv_that_is_a_symlink_loop_is_an_error() {
    let (_dir, d, file) = with_sensor(|f| replace_with_link(f, f));
    both_refuse(&d, &format!("{}: cannot read sensor file", file.display()));
}

#[test]
fn sensor_csv_that_is_a_directory_is_an_error() {
    let (_dir, d, file) = with_sensor(|f| {
        std::fs::remove_file(f).unwrap();
        std::fs::create_dir(f).unwrap();
    });
    both_refuse(
        &d,
        &format!(
            "{}: cannot read sensor file: is a directory",
            file.display()
        ),
    );
}

#[test]
fn sensor_csv_linked_to_dev_zero_is_an_error() {
    let (_dir, d, file) = with_sensor(|f| replace_with_link(f, Path::new("/dev/zero")));
    let said = format!(
        "{}: cannot read sensor file: is a character device",
        file.display()
    );
    both_refuse(&d, &said);
}

#[test]
fn sensor_csv_that_is_a_fifo_does_not_hang() {
    let (_dir, d, file) = with_sensor(|f| {
        std::fs::remove_file(f).unwrap();
        hostile_support::mkfifo(f);
    });
    both_refuse(
        &d,
        &format!("{}: cannot read sensor file: is a FIFO", file.display()),
    );
}

#[test]
fn sensor_csv_that_is_a_dangling_link_is_an_error() {
    let (_dir, d, file) = with_sensor(|f| replace_with_link(f, Path::new("/nonexistent/x.csv")));
    both_refuse(
        &d,
        &format!(
            "{}: cannot read sensor file: is a symbolic link",
            file.display()
        ),
    );
}

#[test]
fn frame_folder_linked_to_itself_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let folder = frame_dirs(&d)[0].clone();
    replace_with_link(&folder, &folder);
    both_refuse(
        &d,
        &format!("{}: cannot open frame folder", folder.display()),
    );
}

#[test]
fn a_50_mb_single_line_sensor_csv_is_refused_unread() {
    let (_dir, d, file) = with_sensor(|f| {
        let mut row = "1,2,3,4,5,6,".repeat((50 << 20) / 12 + 1);
        row.truncate(50 << 20);
        std::fs::write(f, row).unwrap();
    });
    let said = format!(
        "{}: cannot read sensor file: is 52428800 bytes, over the 16777216-byte limit of a sensor file",
        file.display()
    );
    both_refuse(&d, &said);
}

#[test]
fn a_single_line_sensor_csv_under_the_cap_is_one_short_error() {
    let (_dir, d, file) = with_sensor(|f| {
        let line = "1,".repeat((15 << 20) / 2);
        std::fs::write(f, line).unwrap();
    });
    let said = format!(
        "{}:1: row is 15728640 bytes long, over the 1024-byte limit",
        file.display()
    );
    let out = run(["dataset", "check", d.to_str().unwrap(), "--json"]);
    out.assert_refused(&said);
    assert!(
        out.stdout.len() < 64 << 10,
        "the report quotes the row: {} bytes",
        out.stdout.len()
    );
}
