//! Writing report files without following links: a file is written beside
//! its target under a temporary name and renamed over it, so a symbolic
//! link already at the target is replaced, never written through, and a
//! reader never sees half a file.

use std::io;
use std::path::{Path, PathBuf};

fn temp_of(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.capsim-{}.tmp", std::process::id()))
}

/// Removes a symbolic link at `path` (the link, not what it points to), so
/// that what is written next creates a file of its own.
pub fn unlink_symlink(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(path),
        _ => Ok(()),
    }
}

/// Writes `contents` to `path` through a temporary file and a rename.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    use std::io::Write;
    let tmp = temp_of(path);
    // A leftover (or a link planted) at the temporary name goes; the file
    // is then created new, so nothing there is ever followed.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents.as_ref()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Creates `path` for writing, replacing a symbolic link there rather than
/// following it (and, on Unix, refusing to follow one that appears in
/// between).
pub fn create(path: &Path) -> io::Result<std::fs::File> {
    unlink_symlink(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_in_the_output_is_replaced_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside.txt");
        std::fs::write(&outside, "keep me").unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("summary.json")).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("t.csv")).unwrap();
        write(&out.join("summary.json"), "new").unwrap();
        use std::io::Write;
        create(&out.join("t.csv")).unwrap().write_all(b"x").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
        assert_eq!(
            std::fs::read_to_string(out.join("summary.json")).unwrap(),
            "new"
        );
        assert!(
            !std::fs::symlink_metadata(out.join("t.csv"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
