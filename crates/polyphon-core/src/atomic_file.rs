use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::{CoreError, Result};

/// Every temporary output of this process not yet renamed into place or removed: what
/// [`remove_temporary_files_and_exit`] deletes when the process is interrupted, as a signal
/// gives no unwinding that would run the destructors.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the lock was held leaves a list that is still correct.
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn forget(list: &mut Vec<PathBuf>, temp: &Path) {
    if let Some(index) = list.iter().rposition(|path| path == temp) {
        list.swap_remove(index);
    }
}

/// Removes this process's temporary outputs and exits with `code`, for a SIGINT/SIGTERM
/// handler. The lock stays held until the exit, so no rename completes meanwhile: every
/// output is either whole under its name or gone.
pub fn remove_temporary_files_and_exit(code: i32) -> ! {
    let list = pending();
    for temp in list.iter() {
        let _ = std::fs::remove_file(temp);
    }
    std::process::exit(code)
}

/// Renames `temp` to `target` and forgets it, under the lock.
fn rename_into_place(temp: &Path, target: &Path) -> std::io::Result<()> {
    let mut list = pending();
    std::fs::rename(temp, target)?;
    forget(&mut list, temp);
    Ok(())
}

/// Removes `temp` and forgets it.
fn discard(temp: &Path) {
    let mut list = pending();
    let _ = std::fs::remove_file(temp);
    forget(&mut list, temp);
}

/// An output file that appears under its final name only once it is complete.
///
/// Data goes to a hidden temporary file beside the target; [`AtomicFile::commit`] renames it
/// into place. Dropping an uncommitted `AtomicFile` (an error, a panic, Ctrl-C unwinding)
/// removes the temporary file, so a failed run never leaves a half-written output behind.
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `target` (in the same directory, so the rename is atomic).
    ///
    /// A symbolic link is written through to the file it names, as `cp` does; a target that
    /// exists but is not a regular file (a directory, device, FIFO or socket) is refused, so
    /// that the rename never replaces it.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = writable_target(target.as_ref())?;
        let name = target
            .file_name()
            .ok_or_else(|| CoreError::Write {
                path: target.clone(),
                detail: "output path has no file name".into(),
            })?
            .to_string_lossy()
            .into_owned();
        let temp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        pending().push(temp.clone());
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|source| {
                discard(&temp);
                CoreError::Io {
                    path: target.clone(),
                    source,
                }
            })?;
        Ok(Self {
            target,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The final path this file will have after [`commit`](Self::commit).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The buffered writer of the temporary file.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer present until commit")
    }

    /// Flushes buffered data and gives direct access to the temporary file, for a pass that
    /// reads back and rewrites what was written before [`commit`](Self::commit).
    pub fn flushed_file(&mut self) -> Result<&mut File> {
        let target = self.target.clone();
        let writer = self.writer.as_mut().expect("writer present until commit");
        writer.flush().map_err(|source| CoreError::Io {
            path: target,
            source,
        })?;
        Ok(writer.get_mut())
    }

    /// Flushes the data and renames the temporary file to the target name.
    pub fn commit(mut self) -> Result<PathBuf> {
        let writer = self.writer.take().expect("writer present until commit");
        let io_err = |source| CoreError::Io {
            path: self.target.clone(),
            source,
        };
        let file = writer.into_inner().map_err(|e| {
            discard(&self.temp);
            io_err(e.into_error())
        })?;
        let renamed = file
            .sync_all()
            .and_then(|_| rename_into_place(&self.temp, &self.target));
        if let Err(source) = renamed {
            discard(&self.temp);
            return Err(io_err(source));
        }
        Ok(self.target.clone())
    }
}

/// Writes `bytes` to `path` as [`AtomicFile`] does (whole under its name, or not at all), as
/// `std::fs::write` would; returns the path written.
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf> {
    let path = path.as_ref();
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(CoreError::io(path))?;
    file.commit()
}

/// The outputs of one command, which appear together or not at all.
///
/// Each output is written completely (by any writer, atomically) to the temporary path that
/// [`stage`](Self::stage) returns; [`publish`](Self::publish) renames them all into place once
/// every one is complete. Dropping the group unpublished (an error in a later output) removes
/// them all, so a failed command leaves no `.npy` without its `.csv`.
#[derive(Debug, Default)]
pub struct OutputGroup {
    /// `(temporary path, final path)`, in the order staged.
    staged: Vec<(PathBuf, PathBuf)>,
}

impl OutputGroup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that `target` may be written (as [`AtomicFile::create`] does) and returns the
    /// temporary path to write its content to: hidden, beside it, with its extension kept.
    pub fn stage(&mut self, target: impl AsRef<Path>) -> Result<PathBuf> {
        let target = writable_target(target.as_ref())?;
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let temp = target.with_file_name(format!(".staged-{}.{name}", std::process::id()));
        pending().push(temp.clone());
        self.staged.push((temp.clone(), target));
        Ok(temp)
    }

    /// Renames every staged output into place; returns their final paths. A staged output
    /// that was never written is an error, and nothing is published.
    pub fn publish(mut self) -> Result<Vec<PathBuf>> {
        if let Some((_, target)) = self.staged.iter().find(|(temp, _)| !temp.is_file()) {
            return Err(CoreError::Write {
                path: target.clone(),
                detail: "the output was never written".into(),
            });
        }
        // Two runs writing the same outputs publish one after the other, each whole (an
        // advisory lock on each folder), so no `.mid` of one lies beside a `.csv` of the other.
        let mut folders: Vec<PathBuf> = self
            .staged
            .iter()
            .map(|(_, target)| target.parent().unwrap_or(Path::new(".")).to_path_buf())
            .collect();
        folders.sort();
        folders.dedup();
        let _locks: Vec<File> = folders
            .iter()
            .filter_map(|folder| {
                let folder = File::open(if folder.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    folder
                })
                .ok()?;
                folder.lock().ok()?;
                Some(folder)
            })
            .collect();
        let mut published = Vec::with_capacity(self.staged.len());
        for (temp, target) in std::mem::take(&mut self.staged) {
            rename_into_place(&temp, &target).map_err(|source| CoreError::Io {
                path: target.clone(),
                source,
            })?;
            published.push(target);
        }
        Ok(published)
    }
}

impl Drop for OutputGroup {
    fn drop(&mut self) {
        for (temp, _) in &self.staged {
            discard(temp);
        }
    }
}

/// The path the rename must replace: `target`, or the file a symbolic link there names;
/// an error where that exists and is not a regular file.
fn writable_target(target: &Path) -> Result<PathBuf> {
    let refuse = |detail: &str| CoreError::Write {
        path: target.to_path_buf(),
        detail: detail.into(),
    };
    let is_link = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink());
    let resolved = match is_link {
        true => std::fs::canonicalize(target)
            .map_err(|_| refuse("a symbolic link to nothing; give a plain output path"))?,
        false => target.to_path_buf(),
    };
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_dir() => Err(refuse("is a directory")),
        Ok(meta) if !meta.is_file() => Err(refuse(
            "is not a regular file (a device, FIFO or socket); polyphon writes regular files only",
        )),
        _ => Ok(resolved),
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

impl std::io::Seek for AtomicFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.writer().seek(pos)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            discard(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_directory_or_a_fifo_at_the_target_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = AtomicFile::create(dir.path()).err().unwrap().to_string();
        assert!(error.contains("is a directory"), "{error}");
        // A FIFO stands for any special file (a device is never risked in a test).
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo failed");
        let error = AtomicFile::create(&fifo).err().unwrap().to_string();
        assert!(error.contains("not a regular file"), "{error}");
        assert!(!std::fs::symlink_metadata(&fifo).unwrap().is_file());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut file = AtomicFile::create(&link).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let dangling = dir.path().join("dangling.txt");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        assert!(AtomicFile::create(&dangling).is_err());
    }

    #[test]
    fn a_group_appears_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a.csv"), dir.path().join("a.npy"));
        let names = || {
            let mut names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        {
            let mut group = OutputGroup::new();
            let staged = group.stage(&first).unwrap();
            assert!(staged.to_string_lossy().ends_with(".a.csv"), "{staged:?}");
            std::fs::write(&staged, b"1").unwrap();
            group.stage(&second).unwrap();
            // The second output failed before it was written: nothing appears.
            assert!(group.publish().is_err());
        }
        assert!(names().is_empty(), "{:?}", names());
        let mut group = OutputGroup::new();
        for target in [&first, &second] {
            let mut file = AtomicFile::create(group.stage(target).unwrap()).unwrap();
            file.write_all(b"whole").unwrap();
            file.commit().unwrap();
        }
        assert!(names().iter().all(|name| name.starts_with('.')));
        assert_eq!(group.publish().unwrap(), [first.clone(), second.clone()]);
        assert_eq!(names(), ["a.csv", "a.npy"]);
        assert!(pending().iter().all(|path| !path.starts_with(dir.path())));
    }

    #[test]
    fn uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        {
            let mut file = AtomicFile::create(&target).unwrap();
            file.write_all(b"half").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn committed_file_has_its_content_under_the_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"whole").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
